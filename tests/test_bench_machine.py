from __future__ import annotations

import os
import platform
from pathlib import Path

from assistant.benchmarks.machine import describe


def test_the_machine_line_names_the_cpu_generation_cores_and_python() -> None:
    line = describe()
    assert f"{os.cpu_count()} cores" in line
    assert f"Python {platform.python_version()}" in line
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():  # Linux: the numbers that tell one "AMD EPYC" from another
        text = cpuinfo.read_text()
        family = next(row.split(":")[1].strip() for row in text.splitlines() if row.startswith("cpu family"))
        assert f"family {family}" in line
        assert ("AVX-512" in line) == (" avx512f" in text)

"""The machine a benchmark ran on, in one line for its report.

Latencies are only comparable on the same CPU. VMs of one kind here report the
same model name ("AMD EPYC") across CPU generations whose speeds differ by two
times, so the line also gives the CPU's family and model numbers and whether it
has AVX-512, which LiteRT's and numpy's kernels use where they find it.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path


def describe() -> str:
    """For example "AMD EPYC (family 26, model 2, AVX-512), 2 cores, x86_64, Python 3.11.7"."""
    return f"{_cpu()}, {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"


def _cpu() -> str:
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass  # not Linux: the name alone
    name = fields.get("model name") or platform.processor() or "unknown CPU"
    numbers = (("cpu family", "family"), ("model", "model"))
    details = [f"{label} {fields[key]}" for key, label in numbers if fields.get(key)]
    if "avx512f" in fields.get("flags", "").split():
        details.append("AVX-512")
    return f"{name} ({', '.join(details)})" if details else name

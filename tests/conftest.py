"""Shared fixtures: the shipped definitions, loaded once per test session."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.intents import IntentSet, load_intents
from assistant.profiles import DeviceProfile, load_profiles

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def intents() -> IntentSet:
    return load_intents(ROOT / "intents")


@pytest.fixture(scope="session")
def profiles(intents: IntentSet) -> dict[str, DeviceProfile]:
    return load_profiles(intents, ROOT / "device_profiles")


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a dedented file under tmp_path and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return _write

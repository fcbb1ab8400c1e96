"""Strict reading of the project's own YAML files.

Every loader goes through `Section`, which tracks the file and the key path, so an
error always says where it is ("intents/timer.yaml: intents.timer.start.slots:
unknown key 'requird'"). Unknown keys are errors: in our own files a typo must
fail loudly rather than be ignored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import ConfigError


def read_yaml(path: Path) -> Any:
    """Parse a YAML file as `safe_load` does, refusing duplicate keys; errors
    name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(str(path), "", f"cannot read: {error.strerror}") from error
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except DuplicateKeyError as error:
        raise ConfigError(str(path), f"line {error.line}", f"duplicate key {error.key!r}") from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(str(path), where, f"invalid YAML: {problem}") from error


class DuplicateKeyError(yaml.YAMLError):
    def __init__(self, key: Any, line: int) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key
        self.line = line


class _StrictLoader(yaml.SafeLoader):
    """`safe_load` that refuses a key given twice (plain PyYAML keeps the last
    silently, which would hide a duplicated intent or slot)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise DuplicateKeyError(key, key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep)


class Section:
    """A mapping from a YAML file together with where it sits in that file."""

    def __init__(self, data: Any, source: str, key: str = "") -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(source, key, f"expected a mapping, got {describe_value(data)}")
        self.data: Mapping[str, Any] = data
        self.source = source
        self.key = key

    def error(self, problem: str, key: str | None = None) -> ConfigError:
        """An error located at this section, or at one of its keys."""
        return ConfigError(self.source, self._path(key) if key else self.key, problem)

    def check_keys(self, allowed: set[str] | frozenset[str], required: set[str] | frozenset[str] = frozenset()) -> None:
        for name in self.data:
            if name not in allowed:
                hint = ", ".join(sorted(allowed))
                raise self.error(f"unknown key {name!r} (allowed: {hint})")
        for name in sorted(required - set(self.data)):
            raise self.error(f"missing required key {name!r}")

    def has(self, key: str) -> bool:
        return key in self.data

    def section(self, key: str) -> Section:
        return Section(self.data.get(key), self.source, self._path(key))

    def sections(self, key: str) -> Iterator[tuple[str, Section]]:
        """The sub-mappings of a mapping of mappings, in file order."""
        for name, value in self.mapping(key).items():
            yield str(name), Section(value, self.source, self._path(f"{key}.{name}"))

    def mapping(self, key: str, default: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
        value = self.data.get(key, default)
        if not isinstance(value, Mapping):
            raise self.error(f"expected a mapping, got {describe_value(value)}", key)
        return value

    def string(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"expected a non-empty string, got {describe_value(value)}", key)
        return value

    def optional_string(self, key: str) -> str | None:
        return self.string(key) if key in self.data else None

    def boolean(self, key: str, default: bool | None = None) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"expected true or false, got {describe_value(value)}", key)
        return value

    def number(self, key: str, default: float | None = None, *, minimum: float | None = None) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"expected a number, got {describe_value(value)}", key)
        if minimum is not None and value < minimum:
            raise self.error(f"must be at least {minimum}, got {value}", key)
        return value

    def integer(self, key: str, default: int | None = None, *, minimum: int | None = None) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"expected an integer, got {describe_value(value)}", key)
        if minimum is not None and value < minimum:
            raise self.error(f"must be at least {minimum}, got {value}", key)
        return value

    def choice(self, key: str, options: tuple[str, ...], default: str | None = None) -> str:
        value = self.string(key, default)
        if value not in options:
            raise self.error(f"{value!r} is not one of {', '.join(options)}", key)
        return value

    def strings(self, key: str, default: list[str] | None = None) -> list[str]:
        """A list of non-empty strings; a single string is taken as a list of one."""
        value = self.data.get(key, default)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.error(f"expected a non-empty list of strings, got {describe_value(value)}", key)
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.error(f"expected a non-empty string, got {describe_value(item)}", f"{key}[{index}]")
        return list(value)

    def _path(self, key: str) -> str:
        return f"{self.key}.{key}" if self.key else key


def describe_value(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"boolean {value} (YAML reads unquoted yes/no/on/off as booleans: quote the word)"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__

"""One error hierarchy for the whole package.

Exceptions are for bad configuration and bad input; "not understood" is a value,
never an exception.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(AssistantError):
    """A project file (intents, profiles, scenarios) is malformed.

    The message always names the file and the key path, so a typo can be found
    without reading the loader.
    """

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}")


class TemplateError(AssistantError):
    """A sentence or reply template cannot be parsed."""


class ValueParseError(AssistantError):
    """Spoken text cannot be read as a value of the requested slot type."""


class DatasetError(AssistantError):
    """A data set file is malformed; the message names the file and line."""


class AudioError(AssistantError):
    """Audio cannot be read, decoded or captured; the message names the file or device."""


class IntegrationError(AssistantError):
    """A protocol service (Wyoming, Hermes MQTT) cannot be set up, or a peer sent
    something it cannot accept; the message names the address, field or limit."""


class RecognizerError(AssistantError):
    """A speech recognizer cannot be built or run: a missing engine, model or
    grammar word; the message names the engine and the model path."""


class DownloadError(AssistantError):
    """A model cannot be downloaded or installed: the message names the model,
    the URL or file, and what went wrong (network, size, checksum, archive)."""

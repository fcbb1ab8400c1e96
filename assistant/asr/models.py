"""Speech models: the ones we know how to download, and where to find them.

`assistant models download NAME` installs a known model into the models folder
(`models_dir()`); `find_vosk_model` looks for a vosk model in this order:

1. the device profile's `recognizer.model` (a folder, or a known model's name
   in the models folder);
2. the folder in the `ASSISTANT_VOSK_MODEL` environment variable;
3. the known English vosk models in the models folder.

Nothing is ever downloaded implicitly.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from assistant.asr.vosk_engine import is_vosk_model

log = logging.getLogger(__name__)

VOSK_MODEL_ENV = "ASSISTANT_VOSK_MODEL"
MODELS_DIR_ENV = "ASSISTANT_MODELS_DIR"
DEFAULT_MODELS_DIR = Path.home() / ".local" / "share" / "assistant" / "models"


@dataclass(frozen=True)
class KnownModel:
    name: str  # what `assistant models download` takes; also the folder it is installed in
    engine: str
    language: str
    url: str
    sha256: str  # of the archive at `url`
    approx_size_mb: float  # for the progress display and the listing, not checked
    archive_folder: str  # the single top folder inside the archive
    licence: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


KNOWN_MODELS: dict[str, KnownModel] = {
    model.name: model
    for model in (
        KnownModel(
            name="vosk-small-en-us",
            engine="vosk",
            language="en-us",
            url="https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
            # Not computed here (no network to the model host from the development machine):
            # this is the checksum that public install scripts verify this archive against
            # (e.g. the numen voice-control project's get-model.sh). A mismatch is refused.
            sha256="30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
            approx_size_mb=40,  # "40M" on the vosk models page; the exact byte count is not known offline
            archive_folder="vosk-model-small-en-us-0.15",
            licence="Apache-2.0",
        ),
    )
}
ENGLISH_VOSK_MODELS = tuple(m.name for m in KNOWN_MODELS.values() if m.engine == "vosk" and m.language == "en-us")


def models_dir() -> Path:
    """Where downloaded models live: $ASSISTANT_MODELS_DIR or ~/.local/share/assistant/models."""
    configured = os.environ.get(MODELS_DIR_ENV)
    return Path(configured).expanduser() if configured else DEFAULT_MODELS_DIR


def installed_models(directory: Path | None = None) -> list[Path]:
    """Model folders in the models folder, by name."""
    directory = directory or models_dir()
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir() if path.is_dir() and not path.name.startswith("."))


def find_vosk_model(profile_model: str | None) -> Path | None:
    """The vosk model folder to use (lookup order in the module docstring), or None.

    A profile model or environment folder that is not a vosk model is logged
    as a warning and skipped.
    """
    candidates: list[tuple[str, Path]] = []
    if profile_model:
        path = Path(profile_model).expanduser()
        if not path.is_absolute() and not path.exists():
            path = models_dir() / profile_model
        candidates.append(("the device profile's recognizer.model", path))
    if os.environ.get(VOSK_MODEL_ENV):
        candidates.append((f"${VOSK_MODEL_ENV}", Path(os.environ[VOSK_MODEL_ENV]).expanduser()))
    for name in ENGLISH_VOSK_MODELS:
        candidates.append(("the models folder", models_dir() / name))
    for where, path in candidates:
        if is_vosk_model(path):
            log.debug("vosk model from %s: %s", where, path)
            return path
        if where != "the models folder":
            log.warning("vosk model from %s, %s, is not a vosk model folder; looking further", where, path)
    return None

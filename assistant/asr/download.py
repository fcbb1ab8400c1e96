"""Download and install a known model: streamed, verified, atomic.

1. Stream the archive to a temporary file beside the models folder, hashing as
   it goes and reporting progress.
2. Compare the SHA-256 with the registry's: a mismatch deletes the file and
   raises `DownloadError`.
3. Extract into a temporary folder in the models folder, check that the archive
   holds the expected top folder and no path escapes it, then rename the folder
   into place in one step. An interrupted install leaves no half-extracted
   model under the final name.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from assistant.asr.models import KnownModel, models_dir
from assistant.errors import DownloadError

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 16
TIMEOUT_S = 30.0  # per network read; a stalled server fails instead of hanging
Progress = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)


def download_model(
    model: KnownModel,
    directory: Path | None = None,
    *,
    url: str | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> Path:
    """Install `model` into `directory` (default: `models_dir()`) and return its folder.

    `url` overrides the registry's address (a mirror, or a local server in tests);
    the checksum is still the registry's. An installed model is kept unless `force`.
    """
    directory = directory or models_dir()
    target = directory / model.name
    if target.exists() and not force:
        log.info("%s is already installed in %s", model.name, target)
        return target
    directory.mkdir(parents=True, exist_ok=True)
    source = url or model.url
    with tempfile.TemporaryDirectory(prefix=f".{model.name}-", dir=directory) as work:
        archive = Path(work) / "archive.zip"
        digest = _fetch(source, archive, progress)
        if digest != model.sha256:
            archive.unlink()
            raise DownloadError(
                f"{model.name}: {source}: checksum mismatch (got sha256 {digest}, expected {model.sha256}); "
                "the download was deleted"
            )
        extracted = Path(work) / "extracted"
        _extract(model, archive, extracted)
        if target.exists():
            shutil.rmtree(target)
        (extracted / model.archive_folder).rename(target)
    log.info("installed %s in %s", model.name, target)
    return target


def _fetch(url: str, destination: Path, progress: Progress | None) -> str:
    """Stream `url` to `destination`; the SHA-256 of what was written."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, destination.open("wb") as out:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            done = 0
            while chunk := response.read(CHUNK_BYTES):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    except (urllib.error.URLError, OSError, ValueError) as error:
        destination.unlink(missing_ok=True)
        raise DownloadError(f"{url}: download failed: {error}") from error
    if total is not None and done != total:
        destination.unlink(missing_ok=True)
        raise DownloadError(f"{url}: download ended after {done} of {total} bytes")
    return digest.hexdigest()


def _extract(model: KnownModel, archive: Path, destination: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as bundle:
            for name in bundle.namelist():
                parts = PurePosixPath(name).parts
                if not parts or parts[0] != model.archive_folder or ".." in parts or name.startswith("/"):
                    raise DownloadError(
                        f"{model.name}: {archive.name}: unexpected entry {name!r} "
                        f"(everything must be under {model.archive_folder}/)"
                    )
            bundle.extractall(destination)
    except zipfile.BadZipFile as error:
        raise DownloadError(f"{model.name}: the download is not a zip archive: {error}") from error
    if not (destination / model.archive_folder).is_dir():
        raise DownloadError(f"{model.name}: the archive has no {model.archive_folder}/ folder")

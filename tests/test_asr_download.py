"""Model download for real, against a local HTTP server on the loopback address;
model lookup order; the `assistant models` commands."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.asr.download import download_model
from assistant.asr.models import KNOWN_MODELS, MODELS_DIR_ENV, VOSK_MODEL_ENV, KnownModel, find_vosk_model
from assistant.cli import main
from assistant.errors import DownloadError

FOLDER = "vosk-model-tiny-test-0.1"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server over a folder: (base URL, folder)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in entries.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def _model(archive: bytes, url: str) -> KnownModel:
    return KnownModel(
        name="vosk-tiny-test",
        engine="vosk",
        language="en-us",
        url=url,
        sha256=hashlib.sha256(archive).hexdigest(),
        approx_size_mb=0.001,
        archive_folder=FOLDER,
        licence="Apache-2.0",
    )


MODEL_FILES = {f"{FOLDER}/am/final.mdl": b"acoustic model", f"{FOLDER}/conf/model.conf": b"--beam=10\n"}


def test_a_model_is_downloaded_verified_and_installed(served: tuple[str, Path], tmp_path: Path) -> None:
    base, root = served
    archive = _zip(MODEL_FILES)
    (root / "tiny.zip").write_bytes(archive)
    model = _model(archive, f"{base}/tiny.zip")
    seen: list[tuple[int, int | None]] = []
    installed = download_model(model, tmp_path / "models", progress=lambda done, total: seen.append((done, total)))
    assert installed == tmp_path / "models" / "vosk-tiny-test"
    assert (installed / "am" / "final.mdl").read_bytes() == b"acoustic model"
    assert seen[-1] == (len(archive), len(archive))
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["vosk-tiny-test"]  # no temporary left


def test_a_checksum_mismatch_deletes_the_download_and_installs_nothing(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    base, root = served
    archive = _zip(MODEL_FILES)
    (root / "tiny.zip").write_bytes(archive)
    model = dataclasses.replace(_model(archive, f"{base}/tiny.zip"), sha256="0" * 64)
    with pytest.raises(DownloadError, match=r"checksum mismatch.*the download was deleted"):
        download_model(model, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_an_archive_with_paths_outside_the_model_folder_is_refused(served: tuple[str, Path], tmp_path: Path) -> None:
    base, root = served
    archive = _zip({**MODEL_FILES, "../evil.txt": b"x"})
    (root / "tiny.zip").write_bytes(archive)
    with pytest.raises(DownloadError, match=r"unexpected entry '\.\./evil\.txt'"):
        download_model(_model(archive, f"{base}/tiny.zip"), tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []
    assert not (tmp_path / "evil.txt").exists()


def test_a_missing_file_on_the_server_is_a_download_error(served: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = served
    with pytest.raises(DownloadError, match="404"):
        download_model(_model(b"", f"{base}/missing.zip"), tmp_path / "models")


def test_an_installed_model_is_kept_unless_forced(served: tuple[str, Path], tmp_path: Path) -> None:
    base, root = served
    archive = _zip(MODEL_FILES)
    (root / "tiny.zip").write_bytes(archive)
    model = _model(archive, f"{base}/tiny.zip")
    target = download_model(model, tmp_path / "models")
    (target / "marker").write_text("mine")
    assert download_model(model, tmp_path / "models") == target and (target / "marker").exists()
    download_model(model, tmp_path / "models", force=True)
    assert not (target / "marker").exists() and (target / "am" / "final.mdl").exists()


def _fake_model(path: Path) -> Path:
    (path / "am").mkdir(parents=True)
    (path / "am" / "final.mdl").write_bytes(b"x")
    return path


def test_vosk_model_lookup_order_is_profile_then_environment_then_models_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    models = tmp_path / "models"
    monkeypatch.setenv(MODELS_DIR_ENV, str(models))
    monkeypatch.delenv(VOSK_MODEL_ENV, raising=False)
    assert find_vosk_model(None) is None
    downloaded = _fake_model(models / "vosk-small-en-us")
    assert find_vosk_model(None) == downloaded
    from_env = _fake_model(tmp_path / "env-model")
    monkeypatch.setenv(VOSK_MODEL_ENV, str(from_env))
    assert find_vosk_model(None) == from_env
    from_profile = _fake_model(tmp_path / "profile-model")
    assert find_vosk_model(str(from_profile)) == from_profile
    assert find_vosk_model("vosk-small-en-us") == downloaded  # a name in the models folder
    assert find_vosk_model(str(tmp_path / "nowhere")) == from_env
    assert any("nowhere" in r.message and "looking further" in r.message for r in caplog.records)


def test_models_list_shows_the_registry_and_what_is_installed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_model(tmp_path / "vosk-small-en-us")
    assert main(["models", "list", "--dir", str(tmp_path), "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    (entry,) = [m for m in listing["models"] if m["name"] == "vosk-small-en-us"]
    assert entry["url"] == "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip"
    assert entry["installed"] == str(tmp_path / "vosk-small-en-us")
    assert len(KNOWN_MODELS["vosk-small-en-us"].sha256) == 64


def test_models_download_refuses_an_archive_whose_checksum_is_not_the_registry_s(
    served: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, root = served
    (root / "fake.zip").write_bytes(_zip({"vosk-model-small-en-us-0.15/am/final.mdl": b"not the real model"}))
    code = main(["models", "download", "vosk-small-en-us", "--dir", str(tmp_path / "m"), "--url", f"{base}/fake.zip"])
    assert code == 2
    assert "checksum mismatch" in capsys.readouterr().err
    assert list((tmp_path / "m").iterdir()) == []
    assert main(["models", "download", "vosk-huge", "--dir", str(tmp_path / "m")]) == 2
    assert "unknown model 'vosk-huge'" in capsys.readouterr().err

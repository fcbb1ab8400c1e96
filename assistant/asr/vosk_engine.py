"""vosk (Kaldi): the recognizer the device profiles ask for.

Grammar mode hands vosk the device's phrase list (`phrases.vosk_phrases`); vosk
then recognizes any sequence of the listed phrases, plus "[unk]" for anything
else when the model knows that word. Words the model's vocabulary lacks are
removed first and logged: vosk would otherwise drop them silently (it only
prints a warning to stderr). Grammars need a model with a runtime graph
(`graph/HCLr.fst` and `graph/Gr.fst`, as the small models have); a model with a
static `HCLG.fst` decodes its own vocabulary whatever the grammar, so asking it
for grammar mode is an error.

`import vosk` happens only when a recognizer is built, so the rest of the
package works without it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.asr.recognizer import Recognizer
from assistant.asr.transcript import Partial
from assistant.audio import SAMPLE_RATE_HZ
from assistant.errors import RecognizerError

log = logging.getLogger(__name__)

ENGINE = "vosk"
UNKNOWN_WORD = "[unk]"
DEFAULT_MAX_ALTERNATIVES = 3
VOSK_LOG_LEVEL = -1  # errors only: the library logs model loading at length otherwise
MODEL_FILE = Path("am") / "final.mdl"
RUNTIME_GRAPH_FILES = (Path("graph") / "HCLr.fst", Path("graph") / "Gr.fst")


def import_vosk() -> Any:
    """The vosk module, or a RecognizerError saying what to install."""
    try:
        import vosk
    except ImportError as error:
        raise RecognizerError(
            f"{ENGINE}: the vosk package is not installed: pip install 'vosk>=0.3.45' ({error})"
        ) from error
    vosk.SetLogLevel(VOSK_LOG_LEVEL)
    return vosk


def is_vosk_model(path: Path) -> bool:
    """Whether `path` is a vosk model folder (it has an acoustic model)."""
    return (path / MODEL_FILE).is_file()


class VoskModel:
    """A loaded vosk model: hundreds of MB, so load it once and share it."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not is_vosk_model(self.path):
            raise RecognizerError(f"{ENGINE}: {self.path} is not a vosk model folder (no {MODEL_FILE})")
        vosk = import_vosk()
        try:
            self.handle = vosk.Model(str(self.path))
        except Exception as error:  # vosk raises a bare Exception("Failed to create a model")
            raise RecognizerError(f"{ENGINE}: cannot load the model at {self.path}: {error}") from error

    @property
    def has_runtime_graph(self) -> bool:
        return all((self.path / name).is_file() for name in RUNTIME_GRAPH_FILES)

    def knows(self, word: str) -> bool:
        """Whether `word` is in the model's vocabulary."""
        return int(self.handle.vosk_model_find_word(word)) >= 0


class VoskRecognizer(Recognizer):
    """vosk with a phrase list (grammar mode) or the model's own language model (None)."""

    engine = ENGINE

    def __init__(
        self, model: VoskModel, phrases: Sequence[str] | None, *, max_alternatives: int = DEFAULT_MAX_ALTERNATIVES
    ) -> None:
        super().__init__()
        vosk = import_vosk()
        self.model = model
        self.mode = "open" if phrases is None else "grammar"
        self.phrases: list[str] | None = None
        if phrases is None:
            self._recognizer = vosk.KaldiRecognizer(model.handle, SAMPLE_RATE_HZ)
        else:
            if not model.has_runtime_graph:
                raise RecognizerError(
                    f"{ENGINE}: the model at {model.path} has a static graph and cannot take a grammar; "
                    "use a small model (graph/HCLr.fst and graph/Gr.fst) or open mode"
                )
            self.phrases = self._known_phrases(phrases)
            self._recognizer = vosk.KaldiRecognizer(
                model.handle, SAMPLE_RATE_HZ, json.dumps(self.phrases, ensure_ascii=False)
            )
        self.max_alternatives = max_alternatives
        self._recognizer.SetMaxAlternatives(max_alternatives)
        self._segments: list[str] = []  # text of the segments vosk already closed in this utterance

    def _known_phrases(self, phrases: Sequence[str]) -> list[str]:
        """The phrases whose words the model knows; the others are logged and removed."""
        unknown = sorted({word for phrase in phrases for word in phrase.split() if not self.model.knows(word)})
        kept = [phrase for phrase in phrases if not set(phrase.split()) & set(unknown)]
        if unknown:
            log.warning(
                "%s: %d grammar words are not in the vocabulary of %s and were removed with %d phrases: %s",
                ENGINE, len(unknown), self.model.path, len(phrases) - len(kept), ", ".join(unknown),
            )  # fmt: skip
        if not kept:
            raise RecognizerError(f"{ENGINE}: no grammar phrase is left: the model at {self.model.path} knows none")
        return kept

    def _start(self) -> None:
        self._recognizer.Reset()
        self._segments = []

    def _feed(self, pcm: bytes) -> Partial:
        if self._recognizer.AcceptWaveform(pcm):
            best, _ = _read_result(self._recognizer.Result())
            if best:
                self._segments.append(best)
            return Partial(" ".join(self._segments), endpoint=True)
        partial = json.loads(self._recognizer.PartialResult()).get("partial", "")
        return Partial(" ".join([*self._segments, partial]).strip(), endpoint=False)

    def _finish(self) -> tuple[str, tuple[str, ...]]:
        best, alternatives = _read_result(self._recognizer.FinalResult())
        earlier = " ".join(self._segments)
        self._segments = []
        if earlier:
            alternatives = tuple(f"{earlier} {a}".strip() for a in alternatives) or (earlier,)
            best = f"{earlier} {best}".strip()
        return best, alternatives


def _read_result(raw: str) -> tuple[str, tuple[str, ...]]:
    """(best text, n-best texts) from a vosk result, with or without alternatives.

    "[unk]" stands for words outside the grammar; it is dropped from the text.
    """
    result = json.loads(raw)
    if "alternatives" in result:
        texts = [alternative.get("text", "") for alternative in result["alternatives"]]
    else:
        texts = [result.get("text", "")]
    cleaned: list[str] = []
    for text in texts:
        words = " ".join(word for word in text.split() if word != UNKNOWN_WORD)
        if words not in cleaned:
            cleaned.append(words)
    best = cleaned[0] if cleaned else ""
    return best, tuple(text for text in cleaned if text)

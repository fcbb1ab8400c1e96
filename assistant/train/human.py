"""Human phrasings from the public corpora in the shared data folder.

HWU64 train, CLINC150 train and the training templates of Home Assistant's
sentences (`datasets.TRAINING_CORPORA`) give labelled commands (mapped to our intents by
`mappings/`); labels we do not handle, and CLINC150's out-of-scope examples, become
negatives ("not understood"). SLURP's `lm.txt` is unlabelled text for the language-model head.
The tokenizer learns its pieces from all of them too (`HumanData.texts`).
SLURP devel, CLINC150 val and the held-out fifth of Home Assistant's templates are
never trained on: they are for evaluation. A missing corpus is skipped with a
message, since users outside this workplace may not have it.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.datasets import DATA_ENV, HOME_ASSISTANT_TRAIN, TRAINING_CORPORA
from assistant.evaluation import LabelledCommand
from assistant.intents import IntentSet
from assistant.textnorm import normalize
from assistant.train.data import RowBuilder

log = logging.getLogger(__name__)

SLURP_TEXT = Path("slurp/lm.txt")


@dataclass(frozen=True)
class HumanData:
    """The public corpora found in the data folder, read once: the tokenizer learns
    pieces from their text, and the rows train on their commands."""

    commands: dict[str, list[LabelledCommand]]  # model.json's key -> the corpus's commands
    text_lines: list[str]  # SLURP's unlabelled lines, normalised, the empty ones left out
    sources: dict[str, dict[str, object]]  # model.json's record of each: path and hash

    def texts(self) -> list[str]:
        """Every sentence in them, labelled or not."""
        return [c.text for commands in self.commands.values() for c in commands] + self.text_lines


def read_human_data(
    intents: IntentSet,
    root: Path,
    text_lines: int,
    home_assistant_data: bool = True,
    say: Callable[[str], None] = log.info,
) -> HumanData:
    """Every available corpus (paths relative to the data folder, so the record
    holds on any machine); a missing one is skipped with a message."""
    commands: dict[str, list[LabelledCommand]] = {}
    sources: dict[str, dict[str, object]] = {}
    for corpus in TRAINING_CORPORA:
        if corpus is HOME_ASSISTANT_TRAIN and not home_assistant_data:
            continue
        path = root / corpus.path
        if not path.exists():
            say(f"{corpus.name} not found at {path}: training without it (set {DATA_ENV} to a copy)")
            continue
        commands[corpus.key] = list(corpus.read(path, intents))
        sources[corpus.key] = {"path": str(corpus.path), "hash": _hash(corpus.content(path))}
    slurp = root / SLURP_TEXT
    lines: list[str] = []
    if slurp.is_file():
        said = slurp.read_text(encoding="utf-8").splitlines()[:text_lines]
        lines = [line for line in map(normalize, said) if line]
        sources["slurp_lm_text"] = {"path": str(SLURP_TEXT), "rows": len(lines), "hash": _hash(slurp)}
    else:
        say(f"SLURP lm.txt not found at {slurp}: training without unlabelled text")
    return HumanData(commands, lines, sources)


def add_human_data(
    builder: RowBuilder, human: HumanData, intents: IntentSet, repeat_in_scope: int = 1
) -> dict[str, object]:
    """Add `human` to `builder`; return what was used, for model.json.

    Labels we do not handle outnumber those we do about six to one in these
    corpora; `repeat_in_scope` repeats the in-scope commands so that human
    phrasing is not learned as a sign of "not understood"."""
    known = {intent.name for intent in intents.intents}
    used: dict[str, object] = dict(human.sources)
    for key, commands in human.commands.items():
        used[key] = {**human.sources[key], "rows": _add_commands(builder, commands, known, repeat_in_scope)}
    for line in human.text_lines:
        builder.add_text(line)
    return used


def _add_commands(
    builder: RowBuilder, commands: Iterable[LabelledCommand], known: set[str], repeat_in_scope: int
) -> dict[str, int]:
    """Parse rows for labelled human commands; slot tags only where the data
    labels them."""
    counts: Counter[str] = Counter()
    for command in commands:
        command = command.within(known)
        spans = dict(command.spans) if command.spans is not None and not command.alternatives else None
        for _ in range(1 if command.intent is None else repeat_in_scope):
            builder.add_parse(command.text, _answers(command), spans)
        counts[_kind(command)] += 1
    return dict(counts)


def _answers(command: LabelledCommand) -> str | set[str] | None:
    """The row's intent target: a coarse label trains the total probability of
    every intent it may mean."""
    if command.alternatives:
        return {str(command.intent), *command.alternatives}
    return command.intent


def _kind(command: LabelledCommand) -> str:
    if command.intent is None:
        return "negative"
    return "in scope, several intents" if command.alternatives else "in scope"


def _hash(path: Path) -> str:
    """Of a file's bytes, or of a folder's files' names and bytes."""
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    digest = hashlib.sha256()
    for file in sorted(p for p in path.glob("*") if p.is_file()):
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]

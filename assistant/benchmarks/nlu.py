"""`assistant bench nlu`: our model against the baselines, side by side, one process.

Systems: our int8 and float32 TFLite models, TF-IDF + logistic regression trained
on the same synthetic and human rows, and hassil template matching over the same
templates. Data: held-out synthetic templates, the mapped part of SLURP devel
(deduplicated against the human training text), and CLINC150 val with oos_val.
Writes a markdown table with the date and machine.
"""

from __future__ import annotations

import datetime
import gc
import pickle
import platform
import resource
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.datagen import VALIDATION, CorpusGenerator
from assistant.datasets import read_commands
from assistant.evaluation import EvalReport, LabelledCommand, evaluate
from assistant.intents import IntentSet
from assistant.nlu.result import ParseResult
from assistant.nlu.runtime import IntentModel

SYNTHETIC_EVAL = 3000  # held-out synthetic commands per system


@dataclass(frozen=True)
class SystemResult:
    system: str
    dataset: str
    report: EvalReport
    size_bytes: int
    memory_mb: float  # resident memory the system added when loaded and run

    def to_dict(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "dataset": self.dataset,
            **self.report.to_dict(),
            "size_bytes": self.size_bytes,
            "memory_mb": round(self.memory_mb, 1),
        }


def evaluation_sets(
    intents: IntentSet, data_root: Path, seed: int, human_train_texts: set[str]
) -> dict[str, list[LabelledCommand]]:
    """The data every system is scored on, named as the report names it."""
    corpus = CorpusGenerator(intents, seed=seed).generate(120_000)
    synthetic = [
        LabelledCommand(e.text, e.intent, {s.name: s.value for s in e.slots})
        for e in corpus.examples
        if e.split == VALIDATION
    ][:SYNTHETIC_EVAL]
    sets = {"synthetic held-out": synthetic}
    slurp = data_root / "slurp/devel.jsonl"
    if slurp.is_file():
        commands = [c for c in read_commands("slurp", slurp, intents) if c.text not in human_train_texts]
        sets["SLURP devel, mapped in-scope"] = [c for c in commands if c.intent is not None]
        sets["SLURP devel, all"] = commands
    clinc = data_root / "clinc150/data_trainval.json"
    if clinc.is_file():
        commands = [c for c in read_commands("clinc", clinc, intents, split="val") if c.text not in human_train_texts]
        sets["CLINC150 val + oos_val"] = commands
    return sets


def run_system(
    name: str, load: Callable[[], tuple[Callable[[str], ParseResult], int]], sets: dict[str, list[LabelledCommand]]
) -> list[SystemResult]:
    gc.collect()
    before = _rss_mb()
    parse, size = load()
    results = []
    for dataset, commands in sets.items():
        report = evaluate(parse, commands)
        results.append(SystemResult(name, dataset, report, size, max(0.0, _rss_mb() - before)))
    return results


def markdown(results: list[SystemResult], command: str) -> str:
    machine = f"{platform.machine()}, {platform.processor() or platform.node()}, Python {platform.python_version()}"
    lines = [
        "# Intent model benchmark",
        "",
        f"Date: {datetime.date.today().isoformat()}. Machine: {machine}. One thread.",
        f"Command: `{command}`",
        "",
        "| data | system | n | intent acc | frame acc | slot F1 | OOS recall | OOS false reject "
        "| p50 ms | p95 ms | size KB | memory MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(results, key=lambda r: (r.dataset, r.system)):
        m = r.report
        oos = "-" if m.oos_recall is None else f"{m.oos_recall:.3f}"
        lines.append(
            f"| {r.dataset} | {r.system} | {m.n} | {m.intent_accuracy:.3f} | {m.frame_accuracy:.3f} | {m.slot_f1:.3f} "
            f"| {oos} | {m.oos_false_reject:.3f} | {m.latency_ms_p50:.2f} | {m.latency_ms_p95:.2f} "
            f"| {r.size_bytes / 1024:.0f} | {r.memory_mb:.1f} |"
        )
    return "\n".join(lines) + "\n"


def our_model(
    intents: IntentSet, directory: Path, variant: str
) -> Callable[[], tuple[Callable[[str], ParseResult], int]]:
    def load() -> tuple[Callable[[str], ParseResult], int]:
        model = IntentModel.load(intents, directory, variant)
        size = (directory / model.metadata["variants"][variant]["file"]).stat().st_size
        return model.parse, size

    return load


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def benchmark(
    intents: IntentSet, model_dir: Path, data_root: Path, say: Callable[[str], None] = print
) -> list[SystemResult]:
    """Every system on every available data set."""
    from assistant.benchmarks.baselines import HassilBaseline, TfidfBaseline
    from assistant.train.human import CLINC, HWU64_TRAIN

    model = IntentModel.load(intents, model_dir, "int8")
    seed = int(model.metadata["training"]["plan"]["corpus_seed"])
    size = int(model.metadata["training"]["plan"]["corpus_size"])
    say(f"training data for the baselines: {size:,} synthetic commands (seed {seed}) and human data")
    corpus = CorpusGenerator(intents, seed=seed).generate(size)
    texts = [e.text for e in corpus.examples if e.split != VALIDATION]
    labels = [e.intent for e in corpus.examples if e.split != VALIDATION]
    human: set[str] = set()
    for format_name, path, split in (("hwu64", data_root / HWU64_TRAIN, None), ("clinc", data_root / CLINC, "train")):
        if path.exists():
            for command in read_commands(format_name, path, intents, split):
                human.add(command.text)
                if not command.alternatives:
                    texts.append(command.text)
                    labels.append(command.intent)
    sets = evaluation_sets(intents, data_root, seed, human)
    say("data: " + ", ".join(f"{name} ({len(c)})" for name, c in sets.items()))
    results: list[SystemResult] = []
    for variant in ("int8", "dynamic_int8", "float32"):
        if (model_dir / model.metadata["variants"][variant]["file"]).is_file():
            say(f"ours, {variant}")
            results += run_system(f"ours {variant}", our_model(intents, model_dir, variant), sets)
    say("TF-IDF + logistic regression")

    def tfidf() -> tuple[Callable[[str], ParseResult], int]:
        baseline = TfidfBaseline(texts, labels)
        return baseline.parse, len(pickle.dumps(baseline.model))

    results += run_system("TF-IDF + LR", tfidf, sets)
    say("hassil templates")

    def hassil() -> tuple[Callable[[str], ParseResult], int]:
        baseline = HassilBaseline(intents)
        return baseline.parse, sum(p.stat().st_size for p in intents.directory.glob("*.yaml"))

    results += run_system("hassil", hassil, sets)
    return results

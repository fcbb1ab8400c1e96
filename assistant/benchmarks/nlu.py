"""`assistant bench nlu`: our model against the baselines, side by side, one process.

Systems: our int8 and float32 TFLite models, TF-IDF + logistic regression trained
on the same synthetic and human rows, and hassil template matching over the same
templates. Data: the commands of the held-out fifth of the synthetic templates, the
mapped part of SLURP devel (deduplicated against the human training text),
CLINC150 val with oos_val, and the held-out fifth of Home Assistant's sentence
templates. Writes a markdown table with the date and machine.

The shipped model learnt every template, so on it the synthetic rows show how well it
knows what its definitions say; on a model trained with `--hold-out` (and baselines
trained on the same split) they show how it reads phrasings nobody wrote. The row
names say which.

A product device decodes only its own profile's intents, so the synthetic
commands are scored three times: against every intent (what the smart speaker, which
has every domain, does); per device, each command on a device drawn at random from
those that have its domain (an out-of-scope command on any device); and each
in-scope command on a device that lacks its intent, which must not act on it.
The public data sets are general-assistant requests and are scored against every intent.
"""

from __future__ import annotations

import datetime
import gc
import pickle
import random
import resource
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant import ha_sentences
from assistant.benchmarks.machine import describe as describe_machine
from assistant.datagen import VALIDATION, VALIDATION_SHARE, CorpusGenerator
from assistant.datasets import TRAINING_CORPORA, read_commands
from assistant.evaluation import EvalReport, LabelledCommand, evaluate
from assistant.intents import IntentSet
from assistant.nlu.result import ParseResult
from assistant.nlu.runtime import IntentModel
from assistant.profiles import DeviceProfile

SYNTHETIC_EVAL = 3000  # held-out synthetic commands per system
OTHER_DEVICES = "synthetic, another device's commands"  # scored by out-of-scope recall
HOME_ASSISTANT_SET = "Home Assistant sentences, held-out templates"
PHRASES_SET = "synthetic, every listed phrase"  # every way of saying every enumeration value, in commands
PHRASE_COMMANDS = 3  # per phrase
SET_NOTES = {  # what the report says under its table about a set it measured
    OTHER_DEVICES: "every command is out of scope on its device, so only OOS recall applies.",
    PHRASES_SET: f"{PHRASE_COMMANDS} commands for each way the intent definitions list of saying each value of an "
    'enumeration slot ("monday to friday" for weekdays), from any of the intent\'s templates with that slot: '
    "frame accuracy says how many of them the value was read right in.",
    HOME_ASSISTANT_SET: "home-assistant/intents' English templates that no system trained on, expanded with our rooms "
    "and device names (`mappings/home_assistant.yaml`); files for what we do not do are out of scope. Slots as the "
    "mapping maps them; what to play is scored on the intent only.",
}

Parser = Callable[[str, Collection[str] | None], ParseResult]  # text, allowed intents (None: all)


@dataclass(frozen=True)
class EvalSet:
    """Commands to score, and the intents the device each is said to may decode
    (by text; a command not listed is scored against every intent)."""

    commands: list[LabelledCommand]
    allowed: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.commands)


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
    intents: IntentSet,
    data_root: Path,
    seed: int,
    human_train_texts: set[str],
    profiles: Mapping[str, DeviceProfile] | None = None,
    learnt: bool = False,
) -> dict[str, EvalSet]:
    """The data every system is scored on, named as the report names it; `learnt`:
    the systems were trained on the held-out templates too."""
    every_intent, per_device_name = synthetic_set_names(learnt)
    generator = CorpusGenerator(intents, seed=seed)
    corpus = generator.generate(120_000)
    held_out = [e for e in corpus.examples if e.split == VALIDATION]
    # a random sample: the corpus lists its examples intent by intent
    sample = random.Random(seed).sample(held_out, min(SYNTHETIC_EVAL, len(held_out)))
    synthetic = [e.labelled() for e in sample]
    sets = {every_intent: EvalSet(synthetic)}
    sets[PHRASES_SET] = EvalSet([e.labelled() for e in generator.phrase_examples(PHRASE_COMMANDS)])
    if profiles:
        sets[per_device_name] = per_device(synthetic, intents, profiles, seed)
        sets[OTHER_DEVICES] = on_other_devices(synthetic, intents, profiles, seed)
    slurp = data_root / "slurp/devel.jsonl"
    if slurp.is_file():
        commands = [c for c in read_commands("slurp", slurp, intents) if c.text not in human_train_texts]
        sets["SLURP devel, mapped in-scope"] = EvalSet([c for c in commands if c.intent is not None])
        sets["SLURP devel, all"] = EvalSet(commands)
    clinc = data_root / "clinc150/data_trainval.json"
    if clinc.is_file():
        commands = [c for c in read_commands("clinc", clinc, intents, split="val") if c.text not in human_train_texts]
        sets["CLINC150 val + oos_val"] = EvalSet(commands)
    home_assistant = data_root / ha_sentences.DATA_FOLDER
    if home_assistant.is_dir():
        # two templates can write the same sentence: one a training template also writes is not held out
        held_out_templates = read_commands("home_assistant", home_assistant, intents, split=ha_sentences.VALIDATION)
        sets[HOME_ASSISTANT_SET] = EvalSet([c for c in held_out_templates if c.text not in human_train_texts])
    return sets


def synthetic_set_names(learnt: bool) -> tuple[str, str]:
    """The synthetic rows' names, against every intent and per device."""
    kind = "synthetic, learnt templates" if learnt else "synthetic held-out"
    return f"{kind}, all intents", f"{kind}, per device"


def _enabled_intents(intents: IntentSet, profiles: Mapping[str, DeviceProfile]) -> dict[str, frozenset[str]]:
    """Device name -> the intents its profile's domains enable."""
    return {name: frozenset(i.name for i in intents.restricted_to(p.domains).intents) for name, p in profiles.items()}


def on_other_devices(
    commands: Sequence[LabelledCommand], intents: IntentSet, profiles: Mapping[str, DeviceProfile], seed: int
) -> EvalSet:
    """Each in-scope command on a device drawn at random from those that lack its
    intent, where it must not be understood: an oven command said to the watch."""
    rng = random.Random(f"{seed}:other devices")
    names = sorted(profiles)
    enabled = _enabled_intents(intents, profiles)
    moved: dict[str, LabelledCommand] = {}
    allowed: dict[str, frozenset[str]] = {}
    for command in commands:
        wanted = {name for name in (command.intent, *command.alternatives) if name is not None}
        lacking = [name for name in names if wanted and not wanted & enabled[name]]
        if lacking and command.text not in moved:
            moved[command.text] = LabelledCommand(command.text, None)
            allowed[command.text] = enabled[rng.choice(lacking)]
    return EvalSet(list(moved.values()), allowed)


def per_device(
    commands: Sequence[LabelledCommand], intents: IntentSet, profiles: Mapping[str, DeviceProfile], seed: int
) -> EvalSet:
    """Each command on a device drawn at random from those with its domain (any
    device for an out-of-scope one), decoded with that device's intents only."""
    rng = random.Random(f"{seed}:devices")
    names = sorted(profiles)
    enabled = _enabled_intents(intents, profiles)
    allowed: dict[str, frozenset[str]] = {}
    for command in commands:
        wanted = [name for name in (command.intent, *sorted(command.alternatives)) if name is not None]
        devices = [name for name in names if all(intent in enabled[name] for intent in wanted)]
        allowed[command.text] = enabled[rng.choice(devices)]
    return EvalSet(list(commands), allowed)


def _restricted(parse: Parser, allowed: Mapping[str, frozenset[str]]) -> Callable[[str], ParseResult]:
    return lambda text: parse(text, allowed.get(text))


def run_system(name: str, load: Callable[[], tuple[Parser, int]], sets: Mapping[str, EvalSet]) -> list[SystemResult]:
    gc.collect()
    before = _rss_mb()
    parse, size = load()
    results = []
    for dataset, data in sets.items():
        report = evaluate(_restricted(parse, data.allowed), data.commands)
        results.append(SystemResult(name, dataset, report, size, max(0.0, _rss_mb() - before)))
    return results


@dataclass(frozen=True)
class ReplyTiming:
    variant: str
    n: int
    from_model: float  # share of replies the model wrote (the rest: templates)
    latency_ms_p50: float
    latency_ms_p95: float


def reply_timings(intents: IntentSet, model_dir: Path, commands: list[LabelledCommand], seed: int) -> list[ReplyTiming]:
    """Reply generation time per variant, on the frames of `commands` with their results."""
    import numpy as np

    from assistant.nlu.replies import MODEL, compose_reply
    from assistant.nlu.result import SlotValue

    rng = random.Random(seed)
    frames = []
    for command in commands:
        if command.intent is None:
            continue
        intent = intents.intent(command.intent)
        if any(slot.name not in command.slots for slot in intent.required_slots):
            continue
        slots = tuple(SlotValue(name, value, "", 0, 0) for name, value in command.slots.items())
        outcome = {name: slot_type.sample(rng) for name, slot_type in intent.result.items()}
        frames.append((ParseResult(command.text, intent.name, slots, 1.0, 0.0), outcome))
    timings = []
    for variant in ("int8", "dynamic_int8", "float32"):
        model = IntentModel.load(intents, model_dir, variant) if _has_variant(model_dir, variant) else None
        if model is None:
            continue
        replies = [compose_reply(intents, frame, outcome, model, random.Random(0)) for frame, outcome in frames[:500]]
        done = [r for r in replies if r is not None]
        latencies = [r.latency_ms for r in done]
        timings.append(
            ReplyTiming(
                variant,
                len(done),
                sum(r.source == MODEL for r in done) / max(1, len(done)),
                float(np.percentile(latencies, 50)),
                float(np.percentile(latencies, 95)),
            )
        )
    return timings


def _has_variant(model_dir: Path, variant: str) -> bool:
    import json

    metadata = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    return variant in metadata["variants"] and (model_dir / metadata["variants"][variant]["file"]).is_file()


def markdown(results: list[SystemResult], command: str, image: str, replies: Sequence[ReplyTiming] = ()) -> str:
    machine = describe_machine()
    lines = [
        "# Intent model benchmark",
        "",
        f"Date: {datetime.date.today().isoformat()}. Machine: {machine}. One thread.",
        f"Command: `{command}`",
        "",
        f"![intent accuracy by system and data set]({image})",
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
    measured = {r.dataset for r in results}
    for dataset, note in SET_NOTES.items():
        if dataset in measured:
            lines += ["", f"{dataset}: {note}"]
    if replies:
        lines += [
            "",
            "Reply generation (our model, synthetic frames of the held-out templates with their action results;",
            "a reply that does not state every slot value is replaced by a template, which is included in the time):",
            "",
            "| variant | n | written by the model | p50 ms | p95 ms |",
            "|---|---|---|---|---|",
        ]
        for t in replies:
            lines.append(
                f"| {t.variant} | {t.n} | {t.from_model:.3f} | {t.latency_ms_p50:.2f} | {t.latency_ms_p95:.2f} |"
            )
    return "\n".join(lines) + "\n"


def our_model(intents: IntentSet, directory: Path, variant: str) -> Callable[[], tuple[Parser, int]]:
    def load() -> tuple[Parser, int]:
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


def human_training_data(
    metadata: Mapping[str, Any], intents: IntentSet, data_root: Path
) -> tuple[set[str], list[LabelledCommand]]:
    """The texts of every training corpus in `data_root`, which no set is scored on, trained
    on or not; and the commands of the corpora the model trained on (its model.json's
    record), for the baselines to train on too. A coarse label, which several of our
    intents answer, has no one class to train a classifier on."""
    seen: set[str] = set()
    trained: list[LabelledCommand] = []
    trained_on = metadata.get("training", {}).get("human_data", {})
    for corpus in TRAINING_CORPORA:
        path = data_root / corpus.path
        if path.exists():
            for command in corpus.read(path, intents):
                seen.add(command.text)
                if not command.alternatives and corpus.key in trained_on:
                    trained.append(command)
    return seen, trained


def benchmark(
    intents: IntentSet, model_dir: Path, data_root: Path, say: Callable[[str], None] = print
) -> tuple[list[SystemResult], list[ReplyTiming]]:
    """Every system on every available data set."""
    from assistant.benchmarks.baselines import HassilBaseline, TfidfBaseline
    from assistant.profiles import load_profiles

    model = IntentModel.load(intents, model_dir, "int8")
    plan = model.metadata["training"]["plan"]
    seed, size = int(plan["corpus_seed"]), int(plan["corpus_size"])
    learnt = not plan.get("hold_out_templates", True)  # models before the flag held a fifth out
    say(f"training data for the baselines: {size:,} synthetic commands (seed {seed}) and human data")
    corpus = CorpusGenerator(intents, seed=seed, validation_share=0.0 if learnt else VALIDATION_SHARE).generate(size)
    texts = [e.text for e in corpus.examples if e.split != VALIDATION]
    labels = [e.intent for e in corpus.examples if e.split != VALIDATION]
    human, trained = human_training_data(model.metadata, intents, data_root)
    texts += [command.text for command in trained]
    labels += [command.intent for command in trained]
    sets = evaluation_sets(intents, data_root, seed, human, load_profiles(intents), learnt)
    say("data: " + ", ".join(f"{name} ({len(c)})" for name, c in sets.items()))
    results: list[SystemResult] = []
    for variant in ("int8", "dynamic_int8", "float32"):
        if _has_variant(model_dir, variant):
            say(f"ours, {variant}")
            results += run_system(f"ours {variant}", our_model(intents, model_dir, variant), sets)
    say("TF-IDF + logistic regression")

    def tfidf() -> tuple[Parser, int]:
        baseline = TfidfBaseline(texts, labels)
        return baseline.parse, len(pickle.dumps(baseline.model))

    results += run_system("TF-IDF + LR", tfidf, sets)
    say("hassil templates")

    def hassil() -> tuple[Parser, int]:
        baseline = HassilBaseline(intents)
        return baseline.parse, sum(p.stat().st_size for p in intents.directory.glob("*.yaml"))

    results += run_system("hassil", hassil, sets)
    say("reply generation")
    replies = reply_timings(intents, model_dir, sets[synthetic_set_names(learnt)[0]].commands, seed)
    return results, replies


def plot(results: list[SystemResult], path: Path) -> None:
    """Grouped bars: intent accuracy of every system on every data set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(r.dataset for r in results))
    systems = list(dict.fromkeys(r.system for r in results))
    width = 0.8 / len(systems)
    figure, axes = plt.subplots(figsize=(10, 4.5))
    for index, system in enumerate(systems):
        scores = [
            next((r.report.intent_accuracy for r in results if r.system == system and r.dataset == d), 0.0)
            for d in datasets
        ]
        positions = [i + index * width for i in range(len(datasets))]
        axes.bar(positions, scores, width, label=system)
    axes.set_xticks([i + width * (len(systems) - 1) / 2 for i in range(len(datasets))], datasets, fontsize=8)
    axes.set_ylabel("intent accuracy (in scope)")
    axes.set_ylim(0, 1)
    axes.set_title(f"Intent accuracy by system and data set ({datetime.date.today().isoformat()})")
    axes.legend(fontsize=8, loc="lower left")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)

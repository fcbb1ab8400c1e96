"""Wake word benchmark: false accepts per hour, false rejects, CPU per 80 ms frame.

    assistant bench wake [--phrase P ...] [--hours H]     # writes docs/wakeword.md

Nothing here was used to train a head or to choose its threshold:

- negative speech: at least an hour of commands and out-of-scope sentences from a
  corpus generator seeded apart from training (sentences of the training and
  validation pools removed), spoken by held-out espeak-ng voices, with noise-only
  stretches, in held-out noise (the kitchen recording's last 33 s, other sox noise);
- negative noise: a quarter hour of that noise alone;
- real human voices: the held-out half of the Speech Commands speakers and the 20
  coffee-maker commands, as recorded. None of them says a wake phrase, so they
  measure false accepts only; we have no human recordings of our phrases;
- positives: the phrase spoken by held-out voices (accents and speakers never used
  in training), clean and in held-out noise at 5-20 dB SNR; a positive is detected
  when the detector fires within 0.8 s of the phrase's end;
- other engine: the phrase said by a flite voice no head trains on (a recorded
  speaker, not espeak-ng's formant sound), half clean, half in noise: how a head
  does on a kind of voice unlike its training speech.

Features are computed once and cached; scoring goes through the runtime head.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.audio import SAMPLE_RATE_HZ
from assistant.benchmarks.machine import describe as describe_machine
from assistant.intents import IntentSet
from assistant.train.speech import FLITE, HELD_OUT_FLITE_VOICES, HELD_OUT_LANGUAGES, HELD_OUT_VARIANTS, require_tools
from assistant.train.wakeword_data import (
    EVALUATION_FRAMES_AFTER_END,
    Cache,
    SceneRecipe,
    StreamRecipe,
    command_sentences,
    load_backgrounds,
    normalize_phrase,
    phrase_spellings,
    possible_sentences,
    scene_windows,
    score_windows,
    stream_audio,
    stream_windows,
)
from assistant.wake import (
    FRAME_MS,
    FRAME_SAMPLES,
    SpeechFeatures,
    WakeWordDetector,
    detections,
    phrase_slug,
    shipped_phrases,
)

BENCH_SEED = 7  # apart from the training seeds (0 and 1 for the shipped heads)
NOISY_SNR_DB = (5.0, 20.0)
SWEEP_THRESHOLDS = (0.5, 0.9, 0.99, 0.999, 0.9999)  # the trade-off a device could choose instead
FRAMES_PER_HOUR = 3600 * 1000 // FRAME_MS

Say = Callable[[str], None]


@dataclass(frozen=True)
class BenchScale:
    """How much audio the benchmark measures on. The defaults (with `--hours 2`) make docs/wakeword.md;
    the held-out sets are cached by size, so another scale synthesizes its own."""

    hours: float = 1.0  # negative speech
    noise_hours: float = 0.25
    renders: int = 300  # held-out renders of the phrase, per condition (clean, noisy, other engine)
    cpu_seconds: float = 60.0  # audio streamed through the detector to time it


@dataclass(frozen=True)
class WakeBenchResult:
    phrase: str
    threshold: float
    speech_hours: float
    speech_false_accepts: int
    noise_hours: float
    noise_false_accepts: int
    human_clips: int
    human_seconds: float
    human_false_accepts: int
    clean_positives: int
    clean_false_rejects: int
    noisy_positives: int
    noisy_false_rejects: int
    other_engine_positives: int  # said by HELD_OUT_FLITE_VOICES, half clean, half noisy
    other_engine_false_rejects: int
    cpu_ms_per_frame: float  # process CPU time per 80 ms frame, one thread
    wall_ms_p50: float
    wall_ms_p95: float
    head_bytes: int
    head_parameters: int
    false_reject_rate_by_accent: dict[str, float]  # held-out espeak-ng accent -> rate, clean and noisy together
    sweep: dict[str, tuple[float, float]]  # other threshold -> (speech false accepts per hour, false-reject rate)

    @property
    def speech_false_accepts_per_hour(self) -> float:
        return self.speech_false_accepts / self.speech_hours if self.speech_hours else 0.0

    @property
    def noise_false_accepts_per_hour(self) -> float:
        return self.noise_false_accepts / self.noise_hours if self.noise_hours else 0.0

    @property
    def clean_false_reject_rate(self) -> float:
        return self.clean_false_rejects / self.clean_positives if self.clean_positives else 0.0

    @property
    def noisy_false_reject_rate(self) -> float:
        return self.noisy_false_rejects / self.noisy_positives if self.noisy_positives else 0.0

    @property
    def other_engine_false_reject_rate(self) -> float:
        return self.other_engine_false_rejects / self.other_engine_positives if self.other_engine_positives else 0.0

    @property
    def cpu_percent_of_core(self) -> float:
        return 100.0 * self.cpu_ms_per_frame / FRAME_MS

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in (
            "speech_false_accepts_per_hour",
            "noise_false_accepts_per_hour",
            "clean_false_reject_rate",
            "noisy_false_reject_rate",
            "other_engine_false_reject_rate",
            "cpu_percent_of_core",
        ):
            data[name] = round(getattr(self, name), 4)
        return data


def benchmark(
    intents: IntentSet,
    models_dir: Path,
    data_dir: Path | None,
    cache_dir: Path,
    phrases: Sequence[str] = (),
    scale: BenchScale = BenchScale(),
    say: Say = lambda message: None,
) -> list[WakeBenchResult]:
    """One result per phrase (default: every model in `models_dir`)."""
    require_tools(flite=True)
    phrases = [normalize_phrase(p) for p in phrases] or shipped_phrases(models_dir)
    detectors = {phrase: WakeWordDetector.for_phrase(phrase, models_dir) for phrase in phrases}
    features = SpeechFeatures(models_dir / "features")
    cache = Cache(cache_dir)
    backgrounds = load_backgrounds(data_dir, held_out=True)

    say("negative sentences (held out from every training and validation pool)")
    excluded = sorted(set(phrases) | set(shipped_phrases(models_dir)))
    pools = {
        (int(plan.get("sentences", 0)), int(plan.get("seed", 0)))
        for plan in (d.model.metadata.get("training", {}).get("plan", {}) for d in detectors.values())
    }
    seen: set[str] = set().union(*(possible_sentences(intents, count, seed) for count, seed in pools))
    sentences = [s for s in command_sentences(intents, "validation", 20_000, BENCH_SEED, excluded) if s not in seen] + [
        s for s in command_sentences(intents, "train", 20_000, BENCH_SEED, excluded) if s not in seen
    ]
    speech_recipe = StreamRecipe(
        "bench-speech",
        scale.hours * 3600,
        tuple(sentences),
        HELD_OUT_LANGUAGES,
        HELD_OUT_VARIANTS,
        speed_share=0.0,
        seed=BENCH_SEED,
    )
    say(f"negative speech: {scale.hours:g} h (features cached in {cache_dir})")
    speech = stream_windows(speech_recipe, features, backgrounds, cache, _progress(say))
    say(f"negative noise: {scale.noise_hours:g} h")
    noise = stream_windows(
        StreamRecipe("bench-noise", scale.noise_hours * 3600, (), noise_only=True, seed=BENCH_SEED),
        features, backgrounds, cache, _progress(say),
    )  # fmt: skip
    humans = None
    if backgrounds.humans:
        say(f"real human recordings: {len(backgrounds.humans)}")
        humans = stream_windows(
            StreamRecipe("bench-humans", 0.0, (), humans_only=True, seed=BENCH_SEED),
            features, backgrounds, cache, _progress(say),
        )  # fmt: skip
    human_seconds = sum(h.size for h in backgrounds.humans) / SAMPLE_RATE_HZ

    results = []
    for phrase, detector in detectors.items():
        slug = phrase_slug(phrase)
        say(f"{phrase}: held-out voices, clean and noisy")
        positives = {
            condition: scene_windows(
                SceneRecipe(
                    f"{slug}-bench-positives-{condition}", tuple(phrase_spellings(phrase)), scale.renders, 1,
                    positive=True, languages=HELD_OUT_LANGUAGES, variants=HELD_OUT_VARIANTS,
                    frames_after_end=EVALUATION_FRAMES_AFTER_END, clean_share=1.0 if condition == "clean" else 0.0,
                    snr_db=NOISY_SNR_DB, speed_share=0.0, seed=BENCH_SEED,
                ),
                features, backgrounds, sentences, cache, _progress(say),
            )
            for condition in ("clean", "noisy")
        }  # fmt: skip
        other_engine = scene_windows(
            SceneRecipe(
                f"{slug}-bench-positives-{FLITE}", tuple(phrase_spellings(phrase)), scale.renders, 1, positive=True,
                flite_voices=HELD_OUT_FLITE_VOICES, flite_share=1.0, frames_after_end=EVALUATION_FRAMES_AFTER_END,
                clean_share=0.5, snr_db=NOISY_SNR_DB, speed_share=0.0, seed=BENCH_SEED,
            ),
            features, backgrounds, sentences, cache, _progress(say),
        )  # fmt: skip
        threshold, refractory = detector.threshold, detector.model.refractory_frames
        say(f"{phrase}: scoring")
        negative_scores = {
            name: score_windows(detector.model.score, data)
            for name, data in (("speech", speech), ("noise", noise), ("humans", humans))
            if data is not None
        }

        def false_accepts(name: str, at: float = threshold) -> int:
            scores = negative_scores.get(name)  # noqa: B023
            return 0 if scores is None else len(detections(scores, at, refractory))  # noqa: B023

        best: dict[str, np.ndarray] = {}
        missed: dict[str, list[bool]] = {}
        for condition, data in positives.items():
            best[condition] = best_per_scene(score_windows(detector.model.score, data), data)
            voices = cache.summaries[f"{slug}-bench-positives-{condition}"]["scene_voices"]
            for scene, score in enumerate(best[condition]):
                missed.setdefault(condition, []).append(bool(score < threshold))
                missed.setdefault(voices[scene].split("+")[0], []).append(bool(score < threshold))
        every = np.concatenate(list(best.values()))  # espeak-ng voices only, as before the other engine
        other_engine_best = best_per_scene(score_windows(detector.model.score, other_engine), other_engine)
        other_engine_missed = other_engine_best < threshold
        sweep = {
            at: (false_accepts("speech", at) / (len(speech["starts"]) / FRAMES_PER_HOUR), float((every < at).mean()))
            for at in SWEEP_THRESHOLDS
        }
        cpu, wall = time_detector(detector, speech_recipe, backgrounds, scale.cpu_seconds)
        head = detector.model.metadata["head"]
        results.append(
            WakeBenchResult(
                phrase=phrase,
                threshold=threshold,
                speech_hours=len(speech["starts"]) / FRAMES_PER_HOUR,
                speech_false_accepts=false_accepts("speech"),
                noise_hours=len(noise["starts"]) / FRAMES_PER_HOUR,
                noise_false_accepts=false_accepts("noise"),
                human_clips=len(backgrounds.humans),
                human_seconds=human_seconds,
                human_false_accepts=false_accepts("humans"),
                clean_positives=len(missed["clean"]),
                clean_false_rejects=sum(missed["clean"]),
                noisy_positives=len(missed["noisy"]),
                noisy_false_rejects=sum(missed["noisy"]),
                other_engine_positives=len(other_engine_missed),
                other_engine_false_rejects=int(other_engine_missed.sum()),
                false_reject_rate_by_accent={
                    accent: round(sum(missed[accent]) / len(missed[accent]), 4)
                    for accent in HELD_OUT_LANGUAGES
                    if missed.get(accent)
                },
                cpu_ms_per_frame=cpu,
                wall_ms_p50=statistics.median(wall),
                wall_ms_p95=float(np.percentile(wall, 95)),
                head_bytes=int(head.get("bytes", 0)),
                head_parameters=int(head.get("parameters", 0)),
                sweep={f"{at:g}": (round(fa, 2), round(fr, 4)) for at, (fa, fr) in sweep.items()},
            )
        )
    return results


def best_per_scene(scores: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
    """The highest score of each scene's positive windows (the 0.8 s after the phrase ends), by scene."""
    keep = data["labels"] > 0.5
    groups = data["groups"][keep]
    best = np.full(int(groups.max()) + 1, -1.0)
    np.maximum.at(best, groups, scores[keep])
    return best


def time_detector(
    detector: WakeWordDetector, recipe: StreamRecipe, backgrounds: Any, seconds: float
) -> tuple[float, list[float]]:
    """CPU ms per frame over `seconds` of the recipe's audio (process time over the whole run) and
    wall ms of each `process` call."""
    short = dataclasses.replace(recipe, name="bench-cpu", seconds=seconds, sentences=recipe.sentences[:100])
    audio = np.concatenate(list(stream_audio(short, backgrounds, {"sentences": 0, "human": 0, "noise_only": 0})))
    frames = [audio[i : i + FRAME_SAMPLES] for i in range(0, audio.size - FRAME_SAMPLES + 1, FRAME_SAMPLES)]
    detector.reset()
    wall = []
    cpu_started = time.process_time()
    for frame in frames:
        started = time.perf_counter()
        detector.process(frame)
        wall.append((time.perf_counter() - started) * 1000)
    cpu_ms = (time.process_time() - cpu_started) * 1000 / len(frames)
    detector.reset()
    return cpu_ms, wall


def markdown(results: Sequence[WakeBenchResult], command: str, models_dir: Path) -> str:
    machine = describe_machine()
    first = results[0] if results else None
    lines = [
        "# Wake word benchmark",
        "",
        f"Date: {datetime.date.today().isoformat()}. Machine: {machine}. One thread.",
        f"Command: `{command}`",
        "",
        "What is measured (none of it was used for training or for choosing thresholds; see",
        "`assistant/benchmarks/wake.py`):",
        "",
        f"- **speech FA/h**: false accepts per hour on {first.speech_hours:.2f} h" if first else "- speech FA/h",
        "  of synthesized commands and out-of-scope sentences (held-out voices), noise-only stretches",
        "  and a noise bed (held-out kitchen recording, sox noise) at 0-25 dB SNR;",
        f"- **noise FA/h**: on {first.noise_hours:.2f} h of that noise alone;" if first else "- noise FA/h",
        f"- **human FA**: firings on {first.human_clips} real recordings ({first.human_seconds:.0f} s: the"
        if first
        else "- human FA",
        "  held-out half of the Speech Commands speakers and the 20 coffee-maker commands). None of them",
        "  says a wake phrase: they measure false accepts only; we have no human recordings of our phrases;",
        "- **FR clean / noisy**: false-reject rate of the phrase said by held-out espeak-ng voices (accents",
        "  and speakers never used in training), clean and at 5-20 dB SNR in held-out noise; detected means",
        "  the detector fired within 0.8 s of the phrase's end;",
        f"- **FR other engine**: the same, said by flite's {', '.join(HELD_OUT_FLITE_VOICES)} voice (recorded",
        "  speakers; no head trains on them), half clean and half at 5-20 dB SNR: a kind of voice unlike",
        "  espeak-ng's;",
        "- **CPU**: process CPU time per 80 ms frame of the whole detector (melspectrogram, embedding,",
        "  head), one thread, as a share of one core; p50 / p95 wall time per `process` call.",
        "",
        "| phrase | threshold | speech FA/h | noise FA/h | human FA | FR clean | FR noisy | FR other engine "
        "| CPU ms/frame | % of one core | wall p50 / p95 ms | head params |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.phrase} | {r.threshold:.4g} | {r.speech_false_accepts_per_hour:.2f} ({r.speech_false_accepts}) "
            f"| {r.noise_false_accepts_per_hour:.2f} ({r.noise_false_accepts}) "
            f"| {r.human_false_accepts} / {r.human_clips} "
            f"| {r.clean_false_reject_rate:.3f} ({r.clean_false_rejects}/{r.clean_positives}) "
            f"| {r.noisy_false_reject_rate:.3f} ({r.noisy_false_rejects}/{r.noisy_positives}) "
            f"| {r.other_engine_false_reject_rate:.3f} ({r.other_engine_false_rejects}/{r.other_engine_positives}) "
            f"| {r.cpu_ms_per_frame:.2f} | {r.cpu_percent_of_core:.1f}% | {r.wall_ms_p50:.2f} / {r.wall_ms_p95:.2f} "
            f"| {r.head_parameters:,} |"
        )
    accents = sorted({accent for r in results for accent in r.false_reject_rate_by_accent})
    if accents:
        lines += [
            "",
            "False-reject rate by held-out accent (clean and noisy together). espeak-ng's West Midlands",
            'voice (`en-gb-x-gbcwmd`) drops the h of "hey" ("\'ey fridge"), close to the "a fridge" and',
            '"they fridge" the heads learn to reject; the other accents keep it. Heads whose `wake.json` plan',
            "has `dropped_h` also trained on the phrase without its h, said by training voices.",
            "",
            "| phrase | " + " | ".join(accents) + " |",
            "|---|" + "---|" * len(accents),
        ]
        for r in results:
            rates = [r.false_reject_rate_by_accent.get(accent) for accent in accents]
            lines.append(f"| {r.phrase} | " + " | ".join("-" if v is None else f"{v:.3f}" for v in rates) + " |")
    if results:
        lines += [
            "",
            "Other thresholds: speech false accepts per hour / false-reject rate (clean and noisy together).",
            "A device can pass its own (`WakeWordDetector(..., threshold=...)`, `wakeword detect --threshold`).",
            "",
            "| phrase | " + " | ".join(results[0].sweep) + " |",
            "|---|" + "---|" * len(results[0].sweep),
        ]
        for r in results:
            lines.append(f"| {r.phrase} | " + " | ".join(f"{fa:.1f} / {fr:.3f}" for fa, fr in r.sweep.values()) + " |")
    lines += ["", *models_table(models_dir, [r.phrase for r in results]), "", *LICENCES]
    return "\n".join(lines) + "\n"


LICENCES = [
    "## Licences",
    "",
    "- The heads (`models/wake/<phrase>/head.tflite`, a few thousand weights each) are Apache-2.0:",
    "  trained by `assistant wakeword train` on espeak-ng speech (espeak-ng is GPL-3.0; the audio it",
    "  produces carries no licence terms), flite speech where the head's plan has a `flite_share`",
    "  (flite and its voices are under CMU's permissive licence, commercial use included), sox noise,",
    "  the kitchen noise of the Picovoice coffee-maker benchmark (Apache-2.0) and Speech Commands",
    "  recordings (CC BY 4.0) as negatives.",
    "- The feature models (`models/wake/features/`) are Google's speech_embedding (Apache-2.0) as",
    "  packaged by openWakeWord and pyopen-wakeword (Apache-2.0 packages); `NOTICE.md` there gives",
    "  their provenance, checksums and the one open question (openWakeWord's README puts its",
    '  "pre-trained models" under CC BY-NC-SA without saying whether that covers these two files).',
    "- openWakeWord's phrase models (alexa, hey_jarvis, ...) are CC BY-NC-SA 4.0: not used, not shipped.",
]


def models_table(models_dir: Path, phrases: Sequence[str]) -> list[str]:
    """How each head was trained and how it did on its validation data, from its wake.json."""
    lines = [
        "## The heads",
        "",
        "From each head's `wake.json`. Validation: the phrase said by espeak-ng speakers kept out of",
        "training (`VALIDATION_VARIANTS`), and an hour of other speech by them. The threshold is the lowest",
        "on a grid up to 0.9998 with at most 0.5 false accepts per hour there, or 0.9998 when none gets there.",
        "Training time: the whole `assistant wakeword train` run on this shared 2-core machine, one process;",
        "the first phrase also builds the negative streams (training and validation) that later phrases read",
        "from the cache, and a run whose phrase audio is already cached (`build_sets`) counts training only.",
        "Negative audio 4 h: the widened plan (`wide_voices`: 1 h more by the extra training voices).",
        "flite share: the share of the widened renders said by flite's training voices (0: espeak-ng only).",
        "What was tried and why each head is the one shipped: [wakeword_training.md](wakeword_training.md).",
        "",
        "| phrase | training min | windows (positive) | negative audio h | flite share | validation FA/h "
        "| validation FR | confusables accepted | head KB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for phrase in phrases:
        metadata = json.loads((models_dir / phrase_slug(phrase) / "wake.json").read_text(encoding="utf-8"))
        training, validation = metadata["training"], metadata["metrics"]["validation"]
        plan = training["plan"]
        windows = training["windows"]
        wide_s = plan.get("wide_stream_s", 0.0) if plan.get("wide_voices") else 0.0
        negative_hours = round((plan["train_stream_s"] + wide_s) / 3600, 2)
        lines.append(
            f"| {phrase} | {training['seconds'] / 60:.1f} | {windows['total']:,} ({windows['positive']:,}) "
            f"| {negative_hours:g} | {plan.get('flite_share', 0.0):g} | {validation['false_accepts_per_hour']:.2f} "
            f"| {validation['false_reject_rate']:.3f} | {validation['confusable_accept_rate']:.3f} "
            f"| {metadata['head']['bytes'] / 1024:.0f} |"
        )
    return lines


def to_json(results: Sequence[WakeBenchResult]) -> str:
    return json.dumps({"results": [r.to_dict() for r in results]}, indent=2)


def _progress(say: Say) -> Callable[[str, int, int], None]:
    last = [0.0]

    def report(what: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] > 15:
            last[0] = now
            say(f"  {what}: {done}/{total}")

    return report

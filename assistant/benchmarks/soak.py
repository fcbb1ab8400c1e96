"""Soak test of the daemon: minutes of streamed speech and noise through `assistant daemon`, with faults.

    assistant bench soak [--device NAME] [--minutes N] [--engine E]    # writes docs/soak.md and docs/soak.png

What runs:

- the real daemon, `python -m assistant daemon`, reading raw audio on stdin, with
  the event socket, Wyoming on a free loopback port, and Hermes against a real
  Mosquitto on a free loopback port (`soak_rig`); its JSON events are read from
  stdout, its log from stderr. The memory limit is not enforced (`ignore_limits`):
  `assistant bench --all` measures budgets, the soak whether memory stays flat;
- a stream fed at real time in 80 ms chunks: a command said by an espeak-ng en-us
  voice at 140-175 words per minute, then 10-16 s of room noise (the kitchen
  recording, looped, under everything at `snr_db` below the speech), again and
  again for the whole run. When the daemon listens for a wake word (the power
  budget decides; the default device, the coffee maker, does; the smartwatch's
  5 mW budget makes it push-to-talk), the wake phrase comes before each command,
  said by the same voice; each rendering is checked offline with the wake word
  detector, in the same noise, before it is used: the soak tests the daemon,
  `assistant bench wake` measures the detector. The commands are a pool of
  distinct sentences from the corpus generator (`assistant.datagen`) that the
  device's recognizer grammar accepts and that the dialogue answers without a
  question, round-robin over the device's intents, each with its intent as
  ground truth; the pool is synthesized once and sequenced, reshuffled each round;
- every few seconds, the daemon's resident memory (VmRSS) and CPU time;
- faults, each at its time, in a gap between commands (`soak_rig.FAULTS`): garbage
  on the event socket and on the Wyoming port, a Wyoming client that drops
  mid-utterance, the broker killed and started again, the intent model file
  corrupted and the daemon told to reload (SIGHUP), then restored and reloaded.

Measured: commands spoken, answered (a reply to the first transcript after the
command starts), understood (the intent the sentence was generated from); each
fault's answer from the daemon, quoted, and whether the next spoken command was
answered; memory at start, end and peak, and its slope after warm-up; how far
behind real time the events came; the exit status after SIGTERM.
"""

from __future__ import annotations

import bisect
import json
import logging
import os
import random
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from assistant.asr.factory import GRAMMAR_FILLERS
from assistant.asr.grammar import compile_grammar
from assistant.audio import SAMPLE_RATE_HZ, read_wav
from assistant.benchmarks.machine import describe as describe_machine
from assistant.benchmarks.soak_rig import (
    BROKER_DOWN,
    BROKER_UP,
    EVENT_TIMEOUT_S,
    FAULT_ACTIONS,
    FAULTS,
    MODEL_CORRUPT,
    MODEL_RESTORE,
    NEEDS,
    RECONNECT_TIMEOUT_S,
    Broker,
    DaemonProcess,
    Finding,
    HermesListener,
    Line,
    Rig,
    SoakError,
)
from assistant.datagen import CorpusGenerator
from assistant.datasets import data_dir
from assistant.intents import IntentSet
from assistant.nlu.runtime import DEFAULT_MODEL_DIR, IntentModel
from assistant.profiles import DeviceProfile
from assistant.simulator import Session
from assistant.train.speech import Voice, require_tools, sox_noise, synthesize
from assistant.wake import FRAME_SAMPLES, WakeWordDetector

log = logging.getLogger(__name__)

DEFAULT_DEVICE = "coffee_maker"  # wake word on by its power budget; see the module docstring
DEFAULT_MINUTES = 30.0
CHUNK_MS = 80  # what a microphone hands the daemon at a time
CHUNK_SAMPLES = SAMPLE_RATE_HZ * CHUNK_MS // 1000
VOICES = (("en-us", "m1"), ("en-us", "f3"), ("en-us", "m3"), ("en-us", "f1"), ("en-us", "m5"), ("en-us", "f2"))
SPEEDS_WPM = (140, 150, 160, 175)
VOICE_COUNT = len(VOICES) * len(SPEEDS_WPM)  # voice_for(i) repeats after this many
PITCH = 50
DEFAULT_POOL = 48  # distinct commands synthesized once and sequenced
POOL_CANDIDATES_PER_COMMAND, MIN_POOL_CANDIDATES = 40, 400  # sentences generated to choose the pool from
DEFAULT_SNR_DB = 20.0  # the kitchen noise this far below the speech: a busy but not loud room
LEAD_S = (3.0, 4.0)  # noise before the first command: the voice activity detector learns the room
GAP_S = (10.0, 16.0)  # after a command: longer than the dialogue's 8 s follow-up window, so each needs the wake word
WAKE_PAUSE_S = (0.3, 0.6)  # between the wake phrase and the command
TAIL_S = 6.0  # noise after the last command, for its endpoint and reply
FAULT_AFTER_COMMAND_S = 2.0  # a fault starts this long after a command ends: its reply is out by then
SAMPLE_EVERY_S = 5.0  # memory and CPU time
MIN_SAMPLE_EVERY_S, MIN_SAMPLES = 0.5, 60  # a short run is sampled more often, down to this
WARM_UP_SHARE, WARM_UP_MAX_S = 0.25, 300.0  # the memory slope is fitted after min(share of the run, max)
AFTER_RELOAD_S = 60.0  # ... and this long after the last reload
MEMORY_AFTER_FAULT_S = 30.0  # the report gives memory before each fault and this long after
WAKE_CHECK_LEAD_S, WAKE_CHECK_TAIL_S = 2.0, 1.0
HERMES_WITHIN_S = 5.0  # an intent on the bus this close to the reply on stdout is that command's
INT16_MAX = 32767
MAX_LISTED = 30  # lines of a list in the report

Say = Callable[[str], None]


# --------------------------------------------------------------------------- settings and results


@dataclass(frozen=True)
class SoakSettings:
    device: str = DEFAULT_DEVICE
    minutes: float = DEFAULT_MINUTES
    engine: str | None = None  # None: the profile's recognizer
    faults: tuple[str, ...] = FAULTS  # in this order, spread over the run
    pool: int = DEFAULT_POOL
    snr_db: float = DEFAULT_SNR_DB
    noise: Path | None = None  # None: the shared kitchen recording
    seed: int = 0
    sample_every_s: float = SAMPLE_EVERY_S
    keep: Path | None = None  # a folder to keep the daemon's events (events.jsonl) and log (daemon.log) in

    def check(self) -> None:
        if not self.minutes > 0:
            raise SoakError(f"soak: --minutes must be more than 0, got {self.minutes:g}")
        unknown = [name for name in self.faults if name not in FAULTS]
        if unknown:
            raise SoakError(f"soak: unknown faults {unknown} (known: {', '.join(FAULTS)})")
        for later, earlier in NEEDS.items():
            if later in self.faults and (
                earlier not in self.faults or self.faults.index(earlier) > self.faults.index(later)
            ):
                raise SoakError(f"soak: fault {later!r} needs {earlier!r} before it")


@dataclass(frozen=True)
class SpokenCommand:
    """One wake phrase + command in the stream; times in seconds of stream."""

    index: int
    text: str
    intent: str  # the intent the sentence was generated from
    slots: dict[str, Any]
    voice: str
    wake_s: float  # the wake phrase starts
    start_s: float  # the command starts
    end_s: float  # the command ends


@dataclass(frozen=True)
class CommandOutcome:
    command: SpokenCommand
    woke: bool  # a wake event between the wake phrase and the command's end
    heard: str | None  # the transcript of what the daemon took as this command
    heard_at_s: float | None  # its stream time
    intent: str | None
    slots: dict[str, Any] | None
    reply: str | None
    expects: str | None  # the reply asked something
    reply_after_s: float | None  # wall clock from the command's end to the reply on stdout
    end_to_reply_ms: float | None  # the daemon's own timing, recognizer to reply
    on_hermes: bool | None  # its intent was published on the MQTT bus (None: nothing understood)

    @property
    def answered(self) -> bool:
        return self.reply is not None

    @property
    def correct(self) -> bool:
        return self.intent == self.command.intent

    @property
    def slots_exact(self) -> bool:
        return self.correct and _same_json(self.slots or {}, self.command.slots)


@dataclass(frozen=True)
class FaultOutcome:
    name: str
    at_s: float  # seconds into the stream, wall clock
    done_s: float
    action: str  # what was done
    answers: tuple[str, ...]  # what the daemon said, quoted: events, error replies, log lines
    clear: bool  # each part got the clear error (or evidence) it should
    problem: str | None  # why not, when not
    next_command: int | None  # the first command spoken after the fault was over
    recovered: bool | None  # that command was answered (None: none was spoken after it)


@dataclass(frozen=True)
class Sample:
    at_s: float  # seconds into the stream
    rss_mb: float
    cpu_s: float  # user + system CPU time of the daemon so far


@dataclass(frozen=True)
class SoakResult:
    settings: SoakSettings
    listening: str
    recognizer: str
    fitting: str | None  # the daemon's own account of its listening mode and memory against the limit
    noise: str  # what the noise bed is
    pool: int
    wake_renders: tuple[int, int]  # (fired offline, rendered)
    stream_s: float
    commands: tuple[CommandOutcome, ...]
    faults: tuple[FaultOutcome, ...]
    samples: tuple[Sample, ...]
    alive_at_end: bool
    exit_code: int | None  # after SIGTERM; None: had to be killed
    stop_s: float | None  # SIGTERM to exit
    event_lag_s: tuple[float, ...]  # per voice event: stdout arrival minus its stream time
    late_writes: int  # 80 ms chunks written over one chunk late: the daemon's stdin full, or the soak starved
    notices: int
    extra_turns: tuple[str, ...]  # voice turns that were no spoken command: noise heard as words, or a command split
    other_errors: tuple[str, ...]  # error events not caused by a fault
    load_average: tuple[float, float]  # 1-minute load at the start and at the end

    @property
    def wake_word(self) -> bool:
        return self.listening.startswith("wake word")

    @property
    def answered(self) -> int:
        return sum(c.answered for c in self.commands)

    @property
    def correct(self) -> int:
        return sum(c.correct for c in self.commands)

    @property
    def woke(self) -> int:
        return sum(c.woke for c in self.commands)

    @property
    def rss_start_mb(self) -> float:
        return self.samples[0].rss_mb if self.samples else 0.0

    @property
    def rss_end_mb(self) -> float:
        return self.samples[-1].rss_mb if self.samples else 0.0

    @property
    def rss_max_mb(self) -> float:
        return max((s.rss_mb for s in self.samples), default=0.0)

    @property
    def warm_up_s(self) -> float:
        """Where the memory slope starts: after warm-up, and a minute after the last reload."""
        reloads = [f.done_s + AFTER_RELOAD_S for f in self.faults if f.name in (MODEL_CORRUPT, MODEL_RESTORE)]
        return max([min(WARM_UP_MAX_S, WARM_UP_SHARE * self.stream_s), *reloads])

    def rss_at(self, at_s: float) -> float | None:
        """Resident memory at the last sample before `at_s`."""
        before = [s.rss_mb for s in self.samples if s.at_s <= at_s]
        return before[-1] if before else None

    @property
    def rss_slope_mb_per_10min(self) -> float | None:
        """Least-squares slope of resident memory after warm-up, MB per 10 minutes."""
        late = [s for s in self.samples if s.at_s >= self.warm_up_s]
        if len(late) < 3:
            return None
        slope_per_s = float(np.polyfit([s.at_s for s in late], [s.rss_mb for s in late], 1)[0])
        return slope_per_s * 600.0

    @property
    def cpu_share(self) -> float | None:
        """The daemon's CPU time over the stream's wall time (1.0: one core busy)."""
        if len(self.samples) < 2:
            return None
        first, last = self.samples[0], self.samples[-1]
        return (last.cpu_s - first.cpu_s) / max(last.at_s - first.at_s, 1e-9)

    @property
    def ok(self) -> bool:
        return (
            self.alive_at_end
            and self.exit_code == 0
            and self.answered == len(self.commands)
            and all(f.clear and f.recovered is not False for f in self.faults)
        )

    def to_dict(self) -> dict[str, Any]:
        settings = asdict(self.settings)
        for key in ("noise", "keep"):
            settings[key] = None if settings[key] is None else str(settings[key])
        lags = sorted(self.event_lag_s)
        return {
            "settings": settings,
            "listening": self.listening,
            "recognizer": self.recognizer,
            "fitting": self.fitting,
            "noise": self.noise,
            "pool": self.pool,
            "wake_renders": list(self.wake_renders),
            "stream_s": round(self.stream_s, 1),
            "commands": {
                "spoken": len(self.commands),
                "woke": self.woke,
                "answered": self.answered,
                "correct": self.correct,
                "slots_exact": sum(c.slots_exact for c in self.commands),
                "questions": sum(c.expects is not None for c in self.commands),
            },
            "memory_mb": {
                "start": round(self.rss_start_mb, 1),
                "end": round(self.rss_end_mb, 1),
                "max": round(self.rss_max_mb, 1),
                "slope_per_10min": _round(self.rss_slope_mb_per_10min, 3),
                "warm_up_s": round(self.warm_up_s, 1),
            },
            "cpu_share": _round(self.cpu_share, 4),
            "event_lag_s": {
                "p50": _round(_quantile(lags, 0.5), 3),
                "p95": _round(_quantile(lags, 0.95), 3),
                "max": _round(lags[-1] if lags else None, 3),
            },
            "late_writes": self.late_writes,
            "notices": self.notices,
            "extra_turns": list(self.extra_turns),
            "other_errors": list(self.other_errors),
            "faults": [asdict(f) for f in self.faults],
            "misses": [_command_dict(c) for c in self.commands if not (c.answered and c.correct)],
            "alive_at_end": self.alive_at_end,
            "exit_code": self.exit_code,
            "stop_s": _round(self.stop_s, 2),
            "load_average": list(self.load_average),
            "samples": [[round(s.at_s, 1), round(s.rss_mb, 2), round(s.cpu_s, 2)] for s in self.samples],
            "ok": self.ok,
        }


# --------------------------------------------------------------------------- the stream


@dataclass(frozen=True)
class PoolCommand:
    text: str
    intent: str
    slots: dict[str, Any]


def command_pool(
    intents: IntentSet, profile: DeviceProfile, model: IntentModel, size: int, seed: int
) -> list[PoolCommand]:
    """`size` distinct commands of the device, round-robin over its intents in a shuffled order (module docstring)."""
    view = intents.restricted_to(profile.domains)
    grammar = compile_grammar(view, fillers=GRAMMAR_FILLERS)
    generator = CorpusGenerator(view, seed=seed, noise_share=0.0, out_of_scope_share=0.0)
    by_intent: dict[str, list[PoolCommand]] = {}
    for example in generator.generate(max(POOL_CANDIDATES_PER_COMMAND * size, MIN_POOL_CANDIDATES)).examples:
        if example.intent is None or example.intent in profile.confirm or not grammar.accepts(example.text):
            continue
        slots = {span.name: span.value for span in example.slots}
        by_intent.setdefault(example.intent, []).append(PoolCommand(example.text, example.intent, slots))
    rng = random.Random(seed)
    queues = [rng.sample(found, len(found)) for _, found in sorted(by_intent.items())]
    rng.shuffle(queues)
    pool: list[PoolCommand] = []
    while len(pool) < size and any(queues):
        for queue_ in queues:
            while queue_ and len(pool) < size:
                candidate = queue_.pop()
                # A question ("for what time?") would take the next command as its answer: not in the pool.
                if Session(profile, intents, model, seed=seed).say(candidate.text).expects is None:
                    pool.append(candidate)
                    break
    if not pool:
        raise SoakError(f"{profile.name}: no command the recognizer grammar accepts could be generated")
    return pool


def voice_for(index: int) -> Voice:
    language, variant = VOICES[index % len(VOICES)]
    return Voice(language, variant, SPEEDS_WPM[(index // len(VOICES)) % len(SPEEDS_WPM)], PITCH)


def load_noise(path: Path | None) -> tuple[NDArray[np.float64], str]:
    """The noise bed and its description: the given file, else the kitchen recording, else sox brown noise."""
    kitchen = data_dir() / "coffee_maker" / "noise" / "kitchen.wav"
    if path is None and kitchen.is_file():
        path = kitchen
    if path is not None:
        return read_wav(path).astype(np.float64), str(path)
    log.warning("no kitchen recording at %s: the noise bed is sox brown noise", kitchen)
    return sox_noise("brownnoise", 60.0).astype(np.float64), "sox brown noise (no kitchen recording found)"


def noise_gain(speech: Sequence[NDArray[np.int16]], noise: NDArray[np.float64], snr_db: float) -> float:
    """The factor that puts `noise` `snr_db` below the mean power of the speech."""
    power = float(np.mean(np.concatenate([s.astype(np.float64) for s in speech]) ** 2))
    return float(np.sqrt(power / (float(np.mean(noise**2)) * 10 ** (snr_db / 10))))


def wake_fires(detector: WakeWordDetector, phrase: NDArray[np.int16], noise: NDArray[np.float64]) -> bool:
    """Whether the detector, reset as after a command, fires on `phrase` between noise, as in the stream."""
    lead, tail = int(WAKE_CHECK_LEAD_S * SAMPLE_RATE_HZ), int(WAKE_CHECK_TAIL_S * SAMPLE_RATE_HZ)
    signal_ = np.resize(noise, lead + len(phrase) + tail)
    signal_[lead : lead + len(phrase)] += phrase
    samples = _to_int16(signal_)
    detector.reset()
    return any(
        detector.process(samples[i : i + FRAME_SAMPLES]).detected
        for i in range(0, len(samples) - FRAME_SAMPLES + 1, FRAME_SAMPLES)
    )


@dataclass(frozen=True)
class _Placed:
    start: int  # sample
    samples: NDArray[np.int16]


class Stream:
    """The soak's audio, rendered 80 ms at a time: placed speech over a looped noise bed."""

    def __init__(self, total_samples: int, placed: Sequence[_Placed], noise: NDArray[np.float64]) -> None:
        self.total_samples = total_samples
        self.placed = sorted(placed, key=lambda p: p.start)
        self._starts = [p.start for p in self.placed]
        self.noise = noise

    @property
    def chunks(self) -> int:
        return -(-self.total_samples // CHUNK_SAMPLES)

    def chunk(self, index: int) -> bytes:
        start = index * CHUNK_SAMPLES
        end = min(start + CHUNK_SAMPLES, self.total_samples)
        out = self.noise[np.arange(start, end) % len(self.noise)]
        last = bisect.bisect_left(self._starts, end)
        for placed in self.placed[max(0, last - 3) : last]:  # speech pieces are far longer than a chunk
            lo, hi = max(start, placed.start), min(end, placed.start + len(placed.samples))
            if lo < hi:
                out[lo - start : hi - start] += placed.samples[lo - placed.start : hi - placed.start]
        return _to_int16(out).astype("<i2").tobytes()


def schedule(
    pool: Sequence[PoolCommand],
    commands: Sequence[NDArray[np.int16]],
    wakes: dict[int, NDArray[np.int16]] | None,
    total_s: float,
    rng: random.Random,
) -> tuple[list[SpokenCommand], list[_Placed]]:
    """[Wake phrase, pause,] command, gap ... until `total_s` (less the tail); the pool reshuffled each round.

    `wakes`: the wake phrase before pool command i; None: push-to-talk, no wake phrase."""
    spoken: list[SpokenCommand] = []
    placed: list[_Placed] = []
    usable = [i for i in range(len(pool)) if wakes is None or i in wakes]
    now = rng.uniform(*LEAD_S)
    order: list[int] = []
    while True:
        if not order:
            order = rng.sample(usable, len(usable))
        index = order.pop()
        wake = wakes[index] if wakes is not None else None
        command_start = now
        if wake is not None:
            command_start += len(wake) / SAMPLE_RATE_HZ + rng.uniform(*WAKE_PAUSE_S)
        end = command_start + len(commands[index]) / SAMPLE_RATE_HZ
        if end + TAIL_S > total_s:
            break
        item = pool[index]
        spoken.append(SpokenCommand(len(spoken), item.text, item.intent, item.slots, voice_for(index).describe(),
                                    round(now, 3), round(command_start, 3), round(end, 3)))  # fmt: skip
        if wake is not None:
            placed.append(_Placed(_sample(now), wake))
        placed.append(_Placed(_sample(command_start), commands[index]))
        now = end + rng.uniform(*GAP_S)
    return spoken, placed


def fault_times(faults: Sequence[str], commands: Sequence[SpokenCommand], total_s: float) -> list[float]:
    """Fault j at (j + 1) / (n + 1) of the run, moved back into the gap after the command before it."""
    times = []
    for j in range(len(faults)):
        wanted = total_s * (j + 1) / (len(faults) + 1)
        before = [c for c in commands if c.end_s + FAULT_AFTER_COMMAND_S <= wanted]
        times.append(before[-1].end_s + FAULT_AFTER_COMMAND_S if before else wanted)
    return times


# --------------------------------------------------------------------------- the run


def run_soak(
    settings: SoakSettings, intents: IntentSet, profile: DeviceProfile, say: Say = lambda _: None
) -> SoakResult:
    """Start Mosquitto and the daemon, build the stream while the daemon loads, stream it, inject the faults."""
    settings.check()
    require_tools()
    with tempfile.TemporaryDirectory(prefix="assistant-soak-") as folder:
        work = Path(folder)
        model_file = _copy_model(work / "nlu", profile)
        model = IntentModel.load(intents, model_file.parent, profile.model_variant)
        broker = Broker(work)
        broker.start()
        socket_path = work / "events.sock"
        config = work / "daemon.yaml"
        config.write_text(json.dumps(_daemon_config(settings, model_file.parent, socket_path, broker.port)))
        daemon = DaemonProcess(config, work / "daemon.log")
        listener: HermesListener | None = None
        try:
            say(f"{profile.name}: the daemon loads; choosing {settings.pool} commands meanwhile")
            pool = command_pool(intents, profile, model, settings.pool, settings.seed)
            details = daemon.started()
            wake = str(details["listening"]).startswith("wake word")
            say(f"daemon {details['pid']}: {details['listening']}, {details['recognizer']}, {details['wyoming']}")
            plan = _plan(settings, profile, pool, wake, say)
            rig = Rig(daemon, broker, socket_path, int(str(details["wyoming"]).rsplit(":", 1)[1]), model_file,
                      model_file.read_bytes(), plan.speech, random.Random(settings.seed))  # fmt: skip
            listener = HermesListener(broker.port, daemon.clock)
            return _stream(settings, details, plan, rig, listener, say)
        finally:
            if listener is not None:
                listener.close()
            daemon.kill()
            broker.stop()
            if settings.keep is not None:
                _keep(daemon, settings.keep)


def _keep(daemon: DaemonProcess, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(daemon.log_path, folder / "daemon.log")
    with (folder / "events.jsonl").open("w", encoding="utf-8") as out:
        for line in list(daemon.lines):
            out.write(json.dumps({"read_s": round(line.at_s, 3), **line.event}) + "\n")


@dataclass(frozen=True)
class _Plan:
    spoken: list[SpokenCommand]
    stream: Stream
    fault_times: list[float]
    speech: bytes  # one command's audio, for the Wyoming client that drops
    pool: int
    wake_renders: tuple[int, int]
    noise: str  # what the noise bed is


def _plan(settings: SoakSettings, profile: DeviceProfile, pool: Sequence[PoolCommand], wake: bool, say: Say) -> _Plan:
    """The pool synthesized, with the wake phrase when the daemon listens for one, and sequenced."""
    say(f"synthesizing {len(pool)} commands" + (f" and {profile.wake_phrase!r}" if wake else ""))
    commands = [synthesize(item.text, voice_for(i)) for i, item in enumerate(pool)]
    noise, noise_name = load_noise(settings.noise)
    noise = noise * noise_gain(commands, noise, settings.snr_db)
    wakes: dict[int, NDArray[np.int16]] | None = None
    renders: tuple[int, int] = (0, 0)
    if wake:
        detector = WakeWordDetector.for_phrase(profile.wake_phrase)
        voices = range(min(len(pool), VOICE_COUNT))
        rendered = {v: synthesize(profile.wake_phrase, voice_for(v)) for v in voices}
        fired = {v: samples for v, samples in rendered.items() if wake_fires(detector, samples, noise)}
        if not fired:
            raise SoakError(f"the wake word detector fired on none of the {len(rendered)} renderings of the phrase")
        wakes = {i: fired[i % VOICE_COUNT] for i in range(len(pool)) if i % VOICE_COUNT in fired}
        renders = (len(fired), len(rendered))
    total_s = settings.minutes * 60.0
    spoken, placed = schedule(pool, commands, wakes, total_s, random.Random(settings.seed))
    if not spoken:
        raise SoakError(f"{settings.minutes:g} minutes is too short for one command")
    times = fault_times(settings.faults, spoken, total_s)
    say(f"{len(spoken)} commands in {total_s / 60:g} minutes; faults at "
        + ", ".join(f"{name} {t:.0f} s" for name, t in zip(settings.faults, times, strict=True)))  # fmt: skip
    speech = commands[0].astype("<i2").tobytes()
    return _Plan(spoken, Stream(_sample(total_s), placed, noise), times, speech, len(pool), renders, noise_name)


def _daemon_config(settings: SoakSettings, model_dir: Path, socket_path: Path, broker_port: int) -> dict[str, Any]:
    """Everything on: stdin, stdout, the socket, Wyoming on a free port, Hermes. The memory limit is not
    enforced: `assistant bench --all` measures it, the soak measures whether memory stays flat."""
    return {
        "device": settings.device,
        "input": "-",
        "ignore_limits": True,
        "engine": settings.engine,
        "model": str(model_dir),
        "events": {"stdout": True, "socket": str(socket_path)},
        "wyoming": {"enabled": True, "uri": "tcp://127.0.0.1:0"},
        "hermes": {"enabled": True, "host": "127.0.0.1", "port": broker_port, "site_id": "soak"},
    }  # written as JSON, which is YAML


def _copy_model(folder: Path, profile: DeviceProfile) -> Path:
    """The shipped model's metadata, tokenizer and the profile's variant, copied where the faults may break it;
    the variant's file."""
    metadata = json.loads((DEFAULT_MODEL_DIR / "model.json").read_text(encoding="utf-8"))
    name = str(metadata["variants"][profile.model_variant or metadata["default_variant"]]["file"])
    folder.mkdir()
    for part in ("model.json", metadata["tokenizer"], name):
        shutil.copy(DEFAULT_MODEL_DIR / part, folder / part)
    return folder / name


def _stream(
    settings: SoakSettings, details: dict[str, Any], plan: _Plan, rig: Rig, listener: HermesListener, say: Say
) -> SoakResult:
    daemon = rig.daemon
    load_start = os.getloadavg()[0]
    samples: list[Sample] = []
    outcomes: list[tuple[str, float, float, Finding]] = []
    stop = threading.Event()
    every = min(settings.sample_every_s, max(MIN_SAMPLE_EVERY_S, settings.minutes * 60.0 / MIN_SAMPLES))
    sampler = threading.Thread(target=_sample_memory, args=(daemon, samples, every, stop), daemon=True)
    injector = threading.Thread(
        target=_inject, args=(rig, settings.faults, plan.fault_times, outcomes, stop, say), daemon=True
    )
    daemon.start_clock()
    sampler.start()
    injector.start()
    late = _feed(daemon, plan.stream, say)
    injector.join(RECONNECT_TIMEOUT_S + 2 * EVENT_TIMEOUT_S)
    after = daemon.count
    daemon.stdin.close()  # the daemon says so once it has taken every frame, and goes on serving the rest
    daemon.wait_for(lambda e: e["type"] == "daemon" and e.get("status") == "input_ended", after, EVENT_TIMEOUT_S)
    stop.set()
    sampler.join(every + EVENT_TIMEOUT_S)
    alive = daemon.process.poll() is None
    exit_code, stop_s = daemon.stop()
    say(f"daemon stopped: exit status {exit_code}")
    return _summarize(settings, details, plan, daemon, outcomes, samples, listener, alive, exit_code, stop_s, late,
                      (load_start, os.getloadavg()[0]))  # fmt: skip


def _feed(daemon: DaemonProcess, stream: Stream, say: Say) -> int:
    """The stream on the daemon's stdin at real time; the number of chunks written late."""
    late = 0
    minute = 0
    for index in range(stream.chunks):
        due = index * CHUNK_MS / 1000.0
        wait = due - daemon.clock()
        if wait > 0:
            time.sleep(wait)
        elif wait < -CHUNK_MS / 1000.0:
            late += 1
        try:
            daemon.stdin.write(stream.chunk(index))
            daemon.stdin.flush()
        except (BrokenPipeError, ValueError):
            say("the daemon's stdin closed: it is gone")
            break
        if due >= 60.0 * (minute + 1):
            minute += 1
            say(f"{minute} min streamed; {daemon.count} events so far")
    return late


def _sample_memory(daemon: DaemonProcess, samples: list[Sample], every_s: float, stop: threading.Event) -> None:
    while True:
        reading = daemon.memory_and_cpu()
        if reading is not None:
            samples.append(Sample(daemon.clock(), *reading))
        if stop.wait(every_s):
            return


def _inject(
    rig: Rig,
    faults: Sequence[str],
    times: Sequence[float],
    outcomes: list[tuple[str, float, float, Finding]],
    stop: threading.Event,
    say: Say,
) -> None:
    clock = rig.daemon.clock
    for name, at_s in zip(faults, times, strict=True):
        if stop.wait(max(0.0, at_s - clock())):
            return
        started = clock()
        try:
            finding = FAULT_ACTIONS[name](rig)
        except Exception as error:  # the soak reports a fault it could not carry out; it does not stop
            log.exception("fault %s", name)
            finding = Finding(name, problems=[f"the fault itself failed: {type(error).__name__}: {error}"])
        outcomes.append((name, started, clock(), finding))
        say(f"fault {name} at {started:.0f} s: {'clear' if not finding.problems else '; '.join(finding.problems)}")


# --------------------------------------------------------------------------- what happened


def _summarize(
    settings: SoakSettings,
    details: dict[str, Any],
    plan: _Plan,
    daemon: DaemonProcess,
    outcomes: Sequence[tuple[str, float, float, Finding]],
    samples: Sequence[Sample],
    listener: HermesListener,
    alive: bool,
    exit_code: int | None,
    stop_s: float | None,
    late: int,
    load: tuple[float, float],
) -> SoakResult:
    lines = list(daemon.lines)
    stream_s = plan.stream.total_samples / SAMPLE_RATE_HZ
    spoken = plan.spoken
    results = [_outcome(c, spoken, lines, listener.intents, stream_s) for c in spoken]
    faults = []
    for name, at_s, done_s, finding in outcomes:
        following = next((c for c in spoken if c.wake_s >= done_s), None)
        recovered = None if following is None else results[following.index].answered
        faults.append(FaultOutcome(
            name, round(at_s, 2), round(done_s, 2), finding.action, tuple(finding.answers), not finding.problems,
            "; ".join(finding.problems) or None, following.index if following else None, recovered,
        ))  # fmt: skip
    reloads = [(f.at_s, f.done_s + 1.0) for f in faults if f.name in (MODEL_CORRUPT, MODEL_RESTORE)]
    other_errors = tuple(
        json.dumps(line.event)
        for line in lines
        if line.event["type"] == "error" and not any(lo <= line.at_s <= hi for lo, hi in reloads)
    )
    voice = ("wake", "transcript", "intent", "reply")
    lags = tuple(line.at_s - float(line.event["at_s"]) for line in lines if line.event["type"] in voice)
    matched = {c.heard_at_s for c in results if c.heard_at_s is not None}
    fitting = details.get("fitting")
    return SoakResult(
        settings=settings,
        listening=str(details["listening"]),
        recognizer=str(details["recognizer"]),
        fitting=_describe_fitting(fitting) if isinstance(fitting, dict) else None,
        noise=plan.noise,
        pool=plan.pool,
        wake_renders=plan.wake_renders,
        stream_s=stream_s,
        commands=tuple(results),
        faults=tuple(faults),
        samples=tuple(samples),
        alive_at_end=alive,
        exit_code=exit_code,
        stop_s=stop_s,
        event_lag_s=lags,
        late_writes=late,
        notices=sum(line.event["type"] == "notice" for line in lines),
        extra_turns=tuple(_extra_turns(lines, matched)),
        other_errors=other_errors,
        load_average=(round(load[0], 2), round(load[1], 2)),
    )


def _outcome(
    command: SpokenCommand,
    spoken: Sequence[SpokenCommand],
    lines: Sequence[Line],
    published: Sequence[tuple[float, str]],
    stream_s: float,
) -> CommandOutcome:
    """What the daemon did with `command`: the first transcript after it starts, before the next command."""
    following = spoken[command.index + 1].wake_s if command.index + 1 < len(spoken) else stream_s + 1.0
    woke = any(line.event["type"] == "wake" and command.wake_s <= line.event["at_s"] <= command.end_s for line in lines)
    found: dict[str, Line] = {}
    for line in _voice_turn(lines, command.start_s, following):
        found.setdefault(line.event["type"], line)
    heard, understood, replied = found.get("transcript"), found.get("intent"), found.get("reply")
    intent = understood.event.get("intent") if understood else None
    on_hermes = None
    if intent is not None and replied is not None:
        on_hermes = any(name == intent and abs(at - replied.at_s) < HERMES_WITHIN_S for at, name in published)
    return CommandOutcome(
        command=command,
        woke=woke,
        heard=heard.event.get("text") if heard else None,
        heard_at_s=float(heard.event["at_s"]) if heard else None,
        intent=intent,
        slots=understood.event.get("slots") if understood else None,
        reply=replied.event.get("text") if replied else None,
        expects=replied.event.get("expects") if replied else None,
        reply_after_s=round(replied.at_s - command.end_s, 3) if replied else None,
        end_to_reply_ms=(replied.event.get("timings_ms") or {}).get("end_to_reply") if replied else None,
        on_hermes=on_hermes,
    )


def _describe_fitting(fitting: dict[str, Any]) -> str:
    """The daemon's "fitting" at start, as a sentence: how it listens and why, memory by component."""
    listening = fitting.get("listening") or {}
    parts = ", ".join(f"{c.get('name')} {c.get('mb')}" for c in fitting.get("components") or [])
    return (
        f"listening {listening.get('mode')} ({listening.get('reason')}); {fitting.get('resident_mb')} MB resident "
        f"against a {fitting.get('limit_mb')} MB limit ({parts})"
    )


def _extra_turns(lines: Sequence[Line], matched: set[float]) -> Iterator[str]:
    """Each transcript with words that no spoken command accounts for: what was heard, understood and replied."""
    for index, line in enumerate(lines):
        event = line.event
        if event["type"] != "transcript" or not event.get("text") or float(event["at_s"]) in matched:
            continue
        after = {e.event["type"]: e.event for e in lines[index + 1 : index + 3]}
        intent = after.get("intent", {}).get("intent")
        reply = after.get("reply", {}).get("text")
        yield f"{float(event['at_s']) / 60:.1f} min: heard {event['text']!r} -> {intent}: {reply!r}"


def _voice_turn(lines: Sequence[Line], start_s: float, before_s: float) -> Iterator[Line]:
    """The first transcript with stream time in [start_s, before_s), and the intent and reply emitted with it.

    The daemon writes each turn's events together (transcript, intent, reply), and a text
    turn's start with a "text" event: an event belongs to the last transcript or text before it."""
    taking = False
    for line in lines:
        kind = line.event["type"]
        if kind in ("transcript", "text"):
            if taking:
                return
            taking = kind == "transcript" and start_s <= float(line.event["at_s"]) < before_s
        if taking:
            yield line


# --------------------------------------------------------------------------- the report


def markdown(result: SoakResult, command: str, image: str) -> str:
    machine = describe_machine()
    settings = result.settings
    n = len(result.commands)
    data = result.to_dict()
    slope = result.rss_slope_mb_per_10min
    cpu = result.cpu_share
    lag = data["event_lag_s"]
    exact = data["commands"]["slots_exact"]
    chunks = -(-_sample(result.stream_s) // CHUNK_SAMPLES)
    woke = f"{result.woke} ({_share(result.woke, n)})" if result.wake_word else "- (push-to-talk)"
    unwoken = sum(c.answered and not c.woke for c in result.commands) if result.wake_word else "-"
    lines = [
        "# Daemon soak test",
        "",
        f"Measured {date.today().isoformat()} on {machine}, with `{command}`. A machine shared with other work "
        f"(1-minute load average {result.load_average[0]:g} at the start, {result.load_average[1]:g} at the end).",
        "",
        f"{result.stream_s / 60:.1f} minutes of audio streamed at real time in {CHUNK_MS} ms chunks into "
        f"`assistant daemon --input -` for the {settings.device} ({result.listening}, {result.recognizer}), with the "
        "event socket, Wyoming on a loopback port and Hermes against a real Mosquitto. "
        f"Each command is {'the wake phrase and ' if result.wake_word else ''}one of {result.pool} distinct "
        "sentences from the corpus generator (the recognizer grammar accepts them and the dialogue answers them "
        f"without a question), said by espeak-ng {', '.join(f'{a}+{b}' for a, b in VOICES)} at "
        f"{SPEEDS_WPM[0]}-{SPEEDS_WPM[-1]} wpm, {GAP_S[0]:g}-{GAP_S[1]:g} s apart, over room noise at "
        f"{settings.snr_db:g} dB SNR ({_cell(result.noise)}, looped). "
        + (
            f"{result.wake_renders[0]} of {result.wake_renders[1]} renderings of the wake phrase fired the detector "
            "offline and were used (the detector itself is measured by `assistant bench wake`). "
            if result.wake_word
            else "The daemon listens push-to-talk (no wake word): every command is taken. "
        )
        + "A command is answered when the daemon replied to the first transcript after it started; understood when "
        "that intent is the one the sentence was generated from. The memory limit was not enforced (`ignore_limits`); "
        f"the daemon's own account at start: {_cell(result.fitting or '-')}. See `assistant/benchmarks/soak.py`.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| commands spoken | {n} |",
        f"| wake word fired | {woke} |",
        f"| answered | {result.answered} ({_share(result.answered, n)}) |",
        f"| of them taken with no wake event (the daemon was already listening: a follow-up window) | {unwoken} |",
        f"| understood (intent as generated) | {result.correct} ({_share(result.correct, n)}) |",
        f"| and every slot value exact | {exact} ({_share(exact, n)}) |",
        f"| replies that asked a question | {data['commands']['questions']} |",
        f"| understood and published on Hermes | {_hermes_line(result)} |",
        "| reply after the command's end (wall clock, incl. the endpointer's silence timeout) | "
        f"{_stats([c.reply_after_s for c in result.commands])} |",
        f"| daemon's end-to-reply timing (recognize + understand + reply) | "
        f"{_stats([(c.end_to_reply_ms or 0) / 1000 for c in result.commands if c.end_to_reply_ms is not None])} |",
        f"| voice events behind real time (stdout arrival - stream time) | p50 {_s(lag['p50'])}, p95 {_s(lag['p95'])}, "
        f"max {_s(lag['max'])} |",
        f"| 80 ms chunks written over one chunk late (the daemon's input full, or the soak short of CPU) "
        f"| {result.late_writes} of {chunks} |",
        f"| resident memory start / end / max | {result.rss_start_mb:.1f} / {result.rss_end_mb:.1f} / "
        f"{result.rss_max_mb:.1f} MB |",
        f"| memory slope from {result.warm_up_s / 60:.1f} min (after warm-up and the reloads) to the end | "
        f"{'-' if slope is None else f'{slope:+.2f} MB per 10 min'} |",
        f"| daemon CPU | {'-' if cpu is None else f'{100 * cpu:.1f}% of one core'} |",
        f"| device notices (timers, alarms going off) | {result.notices} |",
        f"| voice turns that were no spoken command (noise heard as words, a command split) | "
        f"{len(result.extra_turns)} |",
        f"| error events not caused by a fault | {len(result.other_errors)} |",
        f"| alive at the end; exit status after SIGTERM | {'yes' if result.alive_at_end else '**no**'}; "
        f"{result.exit_code} ({_s(result.stop_s)} to exit) |",
        "",
        "## Faults",
        "",
        "| at | fault | what was done | the daemon's answer | clear | next command answered | memory before / "
        f"{MEMORY_AFTER_FAULT_S:g} s after |",
        "|---|---|---|---|---|---|---|",
    ]
    for fault in result.faults:
        answers = "<br>".join(f"`{_cell(a)}`" for a in fault.answers)
        clear = "yes" if fault.clear else f"**no**: {_cell(fault.problem or '')}"
        following = (
            "-" if fault.next_command is None
            else f"{'yes' if fault.recovered else '**no**'} (#{fault.next_command})"
        )  # fmt: skip
        memory = f"{_mb(result.rss_at(fault.at_s))} / {_mb(result.rss_at(fault.done_s + MEMORY_AFTER_FAULT_S))}"
        lines.append(f"| {fault.at_s / 60:.1f} min | {fault.name} | {_cell(fault.action)} | {answers} | {clear} "
                     f"| {following} | {memory} |")  # fmt: skip
    if result.extra_turns:
        lines += ["", "## Voice turns that were no spoken command", ""]
        lines += [f"- {_cell(turn)}" for turn in result.extra_turns[:MAX_LISTED]]
        if len(result.extra_turns) > MAX_LISTED:
            lines.append(f"- ... and {len(result.extra_turns) - MAX_LISTED} more")
    if result.other_errors:
        lines += ["", "## Other error events", ""] + [f"- `{_cell(e)}`" for e in result.other_errors[:MAX_LISTED]]
    misses = [c for c in result.commands if not (c.answered and c.correct)]
    if misses:
        lines += ["", "## Not answered or not understood", ""]
        lines += ["| # | at | said | voice | woke | heard | intent (expected) | reply |", "|---" * 8 + "|"]
        for c in misses:
            woke_here = ("yes" if c.woke else "no") if result.wake_word else "-"
            heard = "-" if c.heard is None else c.heard or "(nothing)"
            lines.append(
                f"| {c.command.index} | {c.command.wake_s / 60:.1f} min | {c.command.text} | {c.command.voice} "
                f"| {woke_here} | {heard} | {c.intent or '-'} ({c.command.intent}) "
                f"| {_cell(c.reply or '-')} |"
            )
    lines += ["", f"![resident memory and CPU over the run, faults marked]({image})", ""]
    return "\n".join(lines)


def plot(result: SoakResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, memory = plt.subplots(figsize=(11, 5))
    minutes = [s.at_s / 60 for s in result.samples]
    memory.plot(minutes, [s.rss_mb for s in result.samples], color="tab:blue", label="resident memory (MB)")
    memory.set_xlabel("minutes into the stream")
    memory.set_ylabel("MB resident")
    cpu = memory.twinx()
    pairs = list(zip(result.samples, result.samples[1:], strict=False))
    cpu.plot([b.at_s / 60 for _, b in pairs],
             [100 * (b.cpu_s - a.cpu_s) / max(b.at_s - a.at_s, 1e-9) for a, b in pairs],
             color="tab:gray", alpha=0.5, linewidth=0.8, label="CPU (% of one core)")  # fmt: skip
    cpu.set_ylabel("% of one core")
    for fault in result.faults:
        memory.axvline(fault.at_s / 60, color="tab:red", linestyle="--", linewidth=0.8)
        memory.annotate(fault.name, (fault.at_s / 60, 1.0), xycoords=("data", "axes fraction"), rotation=90,
                        va="top", ha="right", fontsize=7, color="tab:red")  # fmt: skip
    low = min((s.rss_mb for s in result.samples), default=0.0)
    for outcome in result.commands:
        color = "tab:green" if outcome.answered and outcome.correct else "tab:orange" if outcome.answered else "red"
        memory.plot(outcome.command.wake_s / 60, low, marker="|", color=color, markersize=8)
    memory.set_title(f"{result.settings.device}: memory and CPU over a {result.stream_s / 60:g}-minute soak "
                     "(ticks: commands; green understood, orange other reply, red no reply)", fontsize=9)  # fmt: skip
    lines_, labels = memory.get_legend_handles_labels()
    more, more_labels = cpu.get_legend_handles_labels()
    memory.legend(lines_ + more, labels + more_labels, fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def to_json(result: SoakResult) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str)


# --------------------------------------------------------------------------- small helpers


def _sample(seconds: float) -> int:
    return round(seconds * SAMPLE_RATE_HZ)


def _to_int16(signal_: NDArray[np.float64]) -> NDArray[np.int16]:
    return np.clip(np.rint(signal_), -INT16_MAX - 1, INT16_MAX).astype(np.int16)


def _same_json(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _command_dict(outcome: CommandOutcome) -> dict[str, Any]:
    return {**asdict(outcome.command), **{k: v for k, v in asdict(outcome).items() if k != "command"}}


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _quantile(ordered: Sequence[float], q: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _stats(values: Sequence[float | None]) -> str:
    present = sorted(v for v in values if v is not None)
    if not present:
        return "-"
    return f"p50 {statistics.median(present):.2f} s, p95 {_quantile(present, 0.95):.2f} s, max {present[-1]:.2f} s"


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MB"


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _hermes_line(result: SoakResult) -> str:
    """Understood commands published on the bus, apart for those spoken while the broker was down."""
    down = next((f.at_s for f in result.faults if f.name == BROKER_DOWN), None)
    up = next((f.done_s for f in result.faults if f.name == BROKER_UP), result.stream_s)
    understood = [c for c in result.commands if c.on_hermes is not None]
    outage = [c for c in understood if down is not None and down <= c.command.wake_s <= up]
    rest = [c for c in understood if c not in outage]
    line = f"{sum(bool(c.on_hermes) for c in rest)} of {len(rest)}"
    if down is not None:
        line += f"; while the broker was down: {sum(bool(c.on_hermes) for c in outage)} of {len(outage)}"
    return line

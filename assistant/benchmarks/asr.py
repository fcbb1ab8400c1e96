"""Speech benchmark: exact transcripts, real-time factor, and commands understood end to end.

    assistant bench asr [--device NAME ... | --all]     # writes docs/asr_benchmark.md

1. Synthetic commands, per device: commands sampled from the device's intents
   (templates with slot values said the ways people say them, no fillers),
   spoken by espeak-ng voices at 140-175 words per minute, converted to 16 kHz
   mono with sox, with 300 ms before and 400 ms after the speech and a
   -50 dBFS white-noise floor (a quiet room; PocketSphinx's noise and cepstral
   estimates fail on the exact digital silence espeak-ng writes). Decoded by
   PocketSphinx in grammar mode, frame by frame (80 ms), one recognizer per
   device reused across commands, as on a device. Reported: the share of exact
   transcripts and the real-time factor, from the decoding thread's CPU time
   (one core) and from the wall clock; and the share understood: the device's
   intent model (its profile's variant, only its intents) made the frame each
   command was sampled with (intent and every typed slot value) of what the
   recognizer heard, beside the share it makes of the commands' own text (the
   model alone). The same renderings are decoded again with the coffee-maker
   benchmark's kitchen recording mixed in at each of `NOISE_SNRS_DB` (with the
   shared data), and the same commands said by flite's voices. Exact: the transcript is the command
   word for word, in the spellings the recognizer writes: where the grammar
   offers two spellings of one sound at one place ("stop watch"/"stopwatch",
   `assistant.asr.spellings`), the recognizer returns one, and the command is
   compared in that one (`DecoderGrammar.respell`); how many commands that
   respelled is reported. Nothing else is normalised: "what is" for "what's"
   is a mistake.
2. vosk phrase lists, measured without a vosk English model: PocketSphinx
   decodes the same audio with a phrase loop (the language vosk builds from a
   list), once for each `phrases.STRATEGIES`, beside the full grammar; plus
   how many held-out commands each list can express at all.
3. Not commands, per device (with the shared data): 40 stretches of two
   seconds of the kitchen noise recording, and 40 of CLINC150's out-of-scope
   sentences (`oos_val`) spoken like the commands; "accepted" counts those that
   came out as some grammar sentence rather than no text (`rejection.py`'s
   phone loop turns what is not a command into no text; with the `ngram`
   network, a transcript that is no grammar sentence is no text). Commands that came
   out as no text are the `rejected` column of the first table. And real
   voices: the Speech Commands sample's one-second recordings of single words
   by 41 speakers; the words the device's grammar takes as a whole command
   ("yes", "no", "stop") are scored like the commands (row "one word, real
   people"), the others ("bed", "marvin", "house") are sounds that are not
   commands.
4. Real people: the 20 coffee-maker recordings (Picovoice benchmark), cut by
   the device's endpointer (`assistant.endpoint`, the coffee maker's silence
   timeout) as a device would, decoded with the coffee_maker grammar. Their labels give slots, not transcripts, so
   the score is "slots exact": the slot values read from the transcript (each
   enumeration's phrases, longest first) equal the labels, nothing missing and
   nothing extra. Each transcript is listed for reading.

Each device's recognizer is built as its profile says; a profile whose
recognizer is not given the exact grammar network (`recognizer.network:
shared_slots` or `ngram`) is also measured with the exact network on the same
audio (setup "grammar, exact network"), so the trade stays in view.
"""

from __future__ import annotations

import datetime
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from assistant.articles import agree
from assistant.asr.decoder_grammar import EXACT, DecoderGrammar
from assistant.asr.factory import GRAMMAR_FILLERS
from assistant.asr.grammar import compile_grammar
from assistant.asr.phrases import STRATEGIES, covers, vosk_phrases
from assistant.asr.pocketsphinx_engine import PocketSphinxRecognizer
from assistant.asr.recognizer import Recognizer
from assistant.audio import DEFAULT_FRAME_SAMPLES, SAMPLE_RATE_HZ, mix_at_snr, read_wav
from assistant.benchmarks.machine import describe as describe_machine
from assistant.endpoint import command_span
from assistant.evaluation import LabelledCommand, evaluate
from assistant.intents import IntentSet
from assistant.nlu.result import ParseResult
from assistant.nlu.runtime import DEFAULT_MODEL_DIR, IntentModel
from assistant.profiles import DeviceProfile
from assistant.slot_types import EnumSlot, Value
from assistant.templates import SlotRef, sample_pieces
from assistant.train.speech import FLITE, Voice, require_tools, synthesize

VOICES = (("en-us", "m1"), ("en-us", "f3"), ("en", "m3"), ("en-us", "m3"))  # espeak-ng language + variant
# The same commands said by flite's voices, built from recordings of real speakers: how much of what the
# espeak-ng rows miss is espeak-ng's formant sound rather than the recognizer
FLITE_VOICES = ((FLITE, "rms"), (FLITE, "slt"), (FLITE, "awb"), (FLITE, "kal16"))
FLITE_SETUP = "grammar, flite voices"
SPEEDS_WPM = (140, 150, 160, 175)
DEFAULT_PITCH = 50
LEAD_SILENCE_S = 0.3
TRAIL_SILENCE_S = 0.4
NOISE_FLOOR_DBFS = -50.0
INT16_FULL_SCALE = 32768
DEFAULT_DEVICES = ("smartwatch", "coffee_maker", "kitchen_timer", "smart_light", "thermostat")
DEFAULT_COMMANDS = 60  # per device
DEFAULT_SEED = 1000  # device i's commands are drawn with seed + i; another seed is a held-out set
PHRASE_DEVICE = "smartwatch"  # the device whose phrase lists are compared
PHRASE_COMMANDS = 30  # a phrase loop decodes slowly: the comparison uses the first commands only
COVERAGE_SAMPLES = 500
COFFEE_DEVICE = "coffee_maker"
COFFEE_INTENT = "coffee.orderDrink"
NOISE_STRETCHES = 40
NOISE_STRETCH_S = 2.0
OUT_OF_SCOPE_SENTENCES = 40
KITCHEN_NOISE = ("coffee_maker", "noise", "kitchen.wav")  # under the shared data folder
CLINC = ("clinc150", "data_trainval.json")
SPEECH_COMMANDS = ("speech_commands_sample",)  # a folder of one-second recordings per word
REAL_WORDS_SETUP = "one word, real people"
EXACT_NETWORK_SETUP = "grammar, exact network"  # for a profile with another network: the network it gave up
# The espeak-ng commands again with the kitchen recording mixed in: a busy kitchen, and a loud one
# (the coffee-maker evaluation reports 24 to 6 dB)
NOISE_SNRS_DB = (18.0, 6.0)
TARGET_EXACT = 0.95
TARGET_RTF = 0.1


@dataclass(frozen=True)
class Utterance:
    text: str  # the command as sampled from the intents
    voice: str
    heard: str
    cpu_s: float
    wall_s: float
    audio_s: float
    expected: str = ""  # `text` in the recognizer's spellings, when they differ ("" when the same)
    understood: bool | None = None  # the intent model made the command's frame of `heard`; None: not scored

    @property
    def wanted(self) -> str:
        return self.expected or self.text

    @property
    def exact(self) -> bool:
        return self.heard == self.wanted


@dataclass(frozen=True)
class Score:
    """One decoding setup on one device."""

    device: str
    setup: str  # "grammar", "vosk list: words", ...
    utterances: tuple[Utterance, ...] = field(repr=False)
    grammar_words: int = 0
    coverage: float | None = None  # share of held-out commands the phrase list can express

    @property
    def exact(self) -> float:
        return sum(u.exact for u in self.utterances) / len(self.utterances)

    @property
    def rejected(self) -> int:
        """Commands that came out as no text: not a command, to the recognizer."""
        return sum(not u.heard for u in self.utterances)

    @property
    def respelled(self) -> int:
        """Commands compared in the recognizer's spelling rather than as sampled."""
        return sum(bool(u.expected) for u in self.utterances)

    @property
    def frame_accuracy(self) -> float | None:
        """Share of commands understood end to end (intent and every slot value right), when scored."""
        if any(u.understood is None for u in self.utterances):
            return None
        return sum(bool(u.understood) for u in self.utterances) / len(self.utterances)

    @property
    def rtf_cpu(self) -> float:
        return sum(u.cpu_s for u in self.utterances) / sum(u.audio_s for u in self.utterances)

    @property
    def rtf_wall(self) -> float:
        return sum(u.wall_s for u in self.utterances) / sum(u.audio_s for u in self.utterances)

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "setup": self.setup,
            "n": len(self.utterances),
            "exact": round(self.exact, 4),
            "frame_accuracy": None if self.frame_accuracy is None else round(self.frame_accuracy, 4),
            "respelled": self.respelled,
            "rejected": self.rejected,
            "rtf_cpu": round(self.rtf_cpu, 4),
            "rtf_wall": round(self.rtf_wall, 4),
            "grammar_words": self.grammar_words,
            "coverage": self.coverage,
            "errors": [asdict(u) for u in self.utterances if not u.exact],
        }


@dataclass(frozen=True)
class HumanResult:
    file: str
    labels: dict[str, str]
    heard: str
    slots: dict[str, str]

    @property
    def slots_exact(self) -> bool:
        return self.slots == self.labels


@dataclass(frozen=True)
class NotCommands:
    """Sounds that are not commands, through one device's recognizer."""

    device: str
    kind: str
    heard: tuple[str, ...]

    @property
    def accepted(self) -> int:
        """How many came out as a grammar sentence (a phantom command) rather than no text."""
        return sum(bool(text) for text in self.heard)

    def to_dict(self) -> dict[str, Any]:
        return {"device": self.device, "kind": self.kind, "n": len(self.heard), "accepted": self.accepted,
                "accepted_as": sorted({text for text in self.heard if text})}  # fmt: skip


def spoken_command(text: str, voice: tuple[str, str], speed_wpm: int, seed: int) -> NDArray[np.int16]:
    """`text` spoken by espeak-ng or, for a FLITE voice, flite, at 16 kHz with lead, trail and a noise
    floor (module docstring)."""
    speech = synthesize(text, Voice(voice[0], voice[1], speed_wpm, DEFAULT_PITCH)).astype(np.float64)
    lead, trail = int(LEAD_SILENCE_S * SAMPLE_RATE_HZ), int(TRAIL_SILENCE_S * SAMPLE_RATE_HZ)
    signal = np.concatenate([np.zeros(lead), speech, np.zeros(trail)])
    noise_rms = INT16_FULL_SCALE * 10 ** (NOISE_FLOOR_DBFS / 20)
    signal += np.random.default_rng(seed).normal(0.0, noise_rms, len(signal))
    samples: NDArray[np.int16] = np.clip(np.rint(signal), -INT16_FULL_SCALE, INT16_FULL_SCALE - 1).astype(np.int16)
    return samples


def sample_commands(intents: IntentSet, accepts: Callable[[str], bool], count: int, seed: int) -> list[LabelledCommand]:
    """`count` commands of `intents` with distinct text that `accepts` takes (the recognizer's
    grammar), each labelled with the intent and slot values it was made from."""
    rng = random.Random(seed)
    found: dict[str, LabelledCommand] = {}
    for _ in range(count * 50):
        command = template_command(intents, rng)
        if command.text and accepts(command.text):
            found.setdefault(command.text, command)
        if len(found) >= count:
            break
    return list(found.values())


def template_command(intents: IntentSet, rng: random.Random) -> LabelledCommand:
    """A sentence of a random template of a random intent, its slots filled with any of
    their spoken forms (unlike the corpus generator, with no fillers or recognizer noise), its
    articles agreeing (`articles.py`), labelled with the intent and the typed slot values."""
    intent = rng.choice(intents.intents)
    template = rng.choice(intent.templates)
    words: list[str] = []
    slots: dict[str, Value] = {}
    for piece in sample_pieces(template.node, rng, intent.rules):
        if isinstance(piece, SlotRef):
            slot_type = intent.slots[piece.name].type
            value = slot_type.sample(rng)
            slots.setdefault(piece.name, value)  # a slot said twice: the first mention is the value
            words.append(rng.choice(slot_type.variants(value)))
        else:
            words.append(piece)
    return LabelledCommand(agree(" ".join("".join(words).split())), intent.name, slots)


def decode(recognizer: Recognizer, samples: NDArray[np.int16]) -> tuple[str, float, float]:
    """(text, CPU seconds of this thread, wall seconds), fed in 80 ms frames."""
    cpu, wall = time.thread_time(), time.perf_counter()
    transcript = recognizer.transcribe(samples, DEFAULT_FRAME_SAMPLES)
    return transcript.text, time.thread_time() - cpu, time.perf_counter() - wall


@dataclass(frozen=True)
class Results:
    scores: list[Score]
    not_commands: list[NotCommands]
    humans: list[HumanResult]
    understood_from_text: dict[str, float]  # device -> frame accuracy of the intent model on the commands' text

    def to_dict(self) -> dict[str, Any]:
        return {
            "scores": [s.to_dict() for s in self.scores],
            "not_commands": [n.to_dict() for n in self.not_commands],
            "humans": [asdict(h) for h in self.humans],
            "understood_from_text": {device: round(share, 4) for device, share in self.understood_from_text.items()},
        }


def benchmark(
    intents: IntentSet,
    profiles: dict[str, DeviceProfile],
    devices: Sequence[str] = DEFAULT_DEVICES,
    commands: int = DEFAULT_COMMANDS,
    data_dir: Path | None = None,
    say: Callable[[str], None] = lambda message: None,
    seed: int = DEFAULT_SEED,
    model_dir: Path | str = DEFAULT_MODEL_DIR,
) -> Results:
    require_tools(flite=True)
    scores: list[Score] = []
    not_commands: list[NotCommands] = []
    understood_from_text: dict[str, float] = {}
    models: dict[str, IntentModel] = {}  # by variant
    sounds = SharedSounds.load(data_dir) if data_dir is not None else None  # the same for every device
    for device_index, name in enumerate(devices):
        profile = profiles[name]
        view = intents.restricted_to(profile.domains)
        if profile.model_variant not in models:
            models[profile.model_variant] = IntentModel.load(intents, model_dir, profile.model_variant)
        understand = understanding(models[profile.model_variant], view)
        grammar = compile_grammar(view, fillers=GRAMMAR_FILLERS)
        network = profile.recognizer.network
        recognizer = PocketSphinxRecognizer(grammar, network=network)
        heard = recognizer.grammar
        assert heard is not None
        labelled = sample_commands(view, heard.can_return, commands, seed=seed + device_index)
        understood_from_text[name] = evaluate(understand, labelled).frame_accuracy
        expected = [_respelled(heard.respell(c.text), c.text) for c in labelled]
        words = len(heard.words())
        say(f"{name}: {len(labelled)} commands, {words} grammar words")
        audio = [_render(c.text, i) for i, c in enumerate(labelled)]

        # every setup below hears these commands
        score = partial(_score, name, commands=labelled, grammar_words=words, expected=expected, understand=understand)
        scores.append(score(setup="grammar", recognizer=recognizer, audio=audio))
        flite_audio = [_render(c.text, i, FLITE_VOICES) for i, c in enumerate(labelled)]
        scores.append(score(setup=FLITE_SETUP, recognizer=recognizer, audio=flite_audio))
        if sounds is not None:
            for snr_db in NOISE_SNRS_DB:
                say(f"{name}: the commands in kitchen noise at {snr_db:g} dB")
                noisy = [
                    (sounds.in_kitchen(samples, snr_db, seed=i), voice) for i, (samples, voice) in enumerate(audio)
                ]
                scores.append(score(setup=noisy_setup(snr_db), recognizer=recognizer, audio=noisy))
            say(f"{name}: sounds that are not commands, and one-word recordings of real people")
            not_commands += _not_commands(name, recognizer, sounds)
            real_commands, real_others = _real_words(name, recognizer, heard, sounds)
            scores.append(real_commands)
            not_commands.append(real_others)
        if network != EXACT:  # the trade the profile made (`slot_network.py`, `grammar_lm.py`), on the same audio
            say(f"{name}: the same with the exact grammar network")
            exact = PocketSphinxRecognizer(grammar)
            scores.append(score(setup=EXACT_NETWORK_SETUP, recognizer=exact, audio=audio))
            if sounds is not None:
                exact_not_commands = [*_not_commands(name, exact, sounds), _real_words(name, exact, heard, sounds)[1]]
                not_commands += [replace(n, kind=f"{n.kind}, exact network") for n in exact_not_commands]
        if name == PHRASE_DEVICE:
            listed = grammar.restricted_to(heard.has_pronunciation)
            held_out = sample_commands(view, listed.accepts, COVERAGE_SAMPLES, seed=7)
            for strategy in STRATEGIES:
                say(f"{name}: vosk phrase list '{strategy}'")
                phrases = vosk_phrases(listed, strategy)
                loop = PocketSphinxRecognizer.phrase_loop(phrases)
                coverage = sum(covers(phrases, c.text) for c in held_out) / len(held_out)
                subset = slice(0, PHRASE_COMMANDS)
                scores.append(
                    _score(
                        name,
                        f"vosk list: {strategy}",
                        loop,
                        labelled[subset],
                        audio[subset],
                        len(phrases) - 1,
                        round(coverage, 3),
                    )
                )
    humans = _human_recordings(intents, profiles, data_dir, say) if data_dir is not None else []
    return Results(scores, not_commands, humans, understood_from_text)


def noisy_setup(snr_db: float) -> str:
    return f"grammar, kitchen noise {snr_db:g} dB"


def understanding(model: IntentModel, device_intents: IntentSet) -> Callable[[str], ParseResult]:
    """The device's intent model, as the dialogue asks it: only the device's intents."""
    allowed = {intent.name for intent in device_intents.intents}
    return lambda text: model.parse(text, allowed)


@dataclass(frozen=True)
class SharedSounds:
    """The audio the benchmark reads from the shared data (the kitchen recording, CLINC150's
    out-of-scope sentences, spoken, and Speech Commands' recordings), once for every device."""

    kitchen: NDArray[np.int16]  # the kitchen recording, mixed into commands
    noise: tuple[NDArray[np.int16], ...]  # stretches of it
    out_of_scope: tuple[NDArray[np.int16], ...]  # CLINC150 oos_val sentences, spoken like the commands
    words: tuple[tuple[str, str, NDArray[np.int16]], ...]  # Speech Commands: (word, speaker, samples)

    @classmethod
    def load(cls, data_dir: Path) -> SharedSounds:
        kitchen = read_wav(data_dir.joinpath(*KITCHEN_NOISE))
        stretch = int(NOISE_STRETCH_S * SAMPLE_RATE_HZ)
        starts = np.random.default_rng(0).integers(0, len(kitchen) - stretch, NOISE_STRETCHES)
        clinc = json.loads(data_dir.joinpath(*CLINC).read_text(encoding="utf-8"))
        sentences = [text for text, _ in clinc["oos_val"]][:OUT_OF_SCOPE_SENTENCES]
        words = tuple(
            (folder.name, f"speaker {recording.stem.split('_')[0]}", read_wav(recording))
            for folder in sorted(path for path in data_dir.joinpath(*SPEECH_COMMANDS).iterdir() if path.is_dir())
            for recording in sorted(folder.glob("*.wav"))
        )
        return cls(
            kitchen,
            tuple(kitchen[start : start + stretch] for start in starts),
            tuple(_render(text, index)[0] for index, text in enumerate(sentences)),
            words,
        )

    def in_kitchen(self, samples: NDArray[np.int16], snr_db: float, seed: int) -> NDArray[np.int16]:
        """`samples` with the kitchen recording, from a seeded point on, mixed in at `snr_db`
        (`mix_at_snr`: the power of the whole rendering, lead and trail silence included)."""
        start = int(np.random.default_rng(seed).integers(0, len(self.kitchen)))
        return mix_at_snr(samples, np.roll(self.kitchen, -start), snr_db)


def _not_commands(device: str, recognizer: Recognizer, sounds: SharedSounds) -> list[NotCommands]:
    return [
        NotCommands(
            device, f"kitchen noise, {NOISE_STRETCH_S:g} s", tuple(decode(recognizer, s)[0] for s in sounds.noise)
        ),
        NotCommands(
            device,
            "out-of-scope sentences (CLINC150), espeak-ng",
            tuple(decode(recognizer, s)[0] for s in sounds.out_of_scope),
        ),
    ]


def _real_words(
    device: str, recognizer: Recognizer, grammar: DecoderGrammar, sounds: SharedSounds
) -> tuple[Score, NotCommands]:
    """Speech Commands' one-word recordings: the words the grammar has as commands ("yes", "stop")
    scored as commands, the others ("bed", "marvin") as sounds that are not commands."""
    utterances, others = [], []
    for word, speaker, samples in sounds.words:
        heard, cpu, wall = decode(recognizer, samples)
        if grammar.accepts(word):
            utterances.append(Utterance(word, speaker, heard, cpu, wall, len(samples) / SAMPLE_RATE_HZ))
        else:
            others.append(heard)
    commands = Score(device, REAL_WORDS_SETUP, tuple(utterances), len(grammar.words()))
    return commands, NotCommands(device, "one-word recordings of real people (Speech Commands), not commands",
                                 tuple(others))  # fmt: skip


def _respelled(respelled: str | None, text: str) -> str:
    """The recognizer's spelling of `text` when it differs from it, else ""."""
    return "" if respelled in (None, text) else str(respelled)


def _render(text: str, index: int, voices: Sequence[tuple[str, str]] = VOICES) -> tuple[NDArray[np.int16], str]:
    voice = voices[index % len(voices)]
    speed = SPEEDS_WPM[(index // len(voices)) % len(SPEEDS_WPM)]
    return spoken_command(text, voice, speed, seed=index), f"{voice[0]}+{voice[1]} {speed} wpm"


def _score(
    device: str,
    setup: str,
    recognizer: Recognizer,
    commands: Sequence[LabelledCommand],
    audio: Sequence[tuple[NDArray[np.int16], str]],
    grammar_words: int = 0,
    coverage: float | None = None,
    expected: Sequence[str] | None = None,
    understand: Callable[[str], ParseResult] | None = None,
) -> Score:
    utterances = []
    for index, (command, (samples, voice)) in enumerate(zip(commands, audio, strict=True)):
        heard, cpu, wall = decode(recognizer, samples)
        wanted = expected[index] if expected is not None else ""
        understood = None if understand is None else is_understood(understand, command, heard)
        seconds = len(samples) / SAMPLE_RATE_HZ
        utterances.append(Utterance(command.text, voice, heard, cpu, wall, seconds, wanted, understood))
    return Score(device, setup, tuple(utterances), grammar_words, coverage)


def is_understood(understand: Callable[[str], ParseResult], command: LabelledCommand, heard: str) -> bool:
    """Whether the intent model made `command`'s frame (intent and every slot value) of what was heard."""
    return evaluate(understand, [replace(command, text=heard)]).frame_accuracy == 1.0


def _human_recordings(
    intents: IntentSet, profiles: dict[str, DeviceProfile], data_dir: Path, say: Callable[[str], None]
) -> list[HumanResult]:
    folder = data_dir / "coffee_maker"
    labels_path = folder / "labels.json"
    if not labels_path.is_file():
        say(f"no coffee-maker recordings at {folder}: skipped")
        return []
    labels = json.loads(labels_path.read_text(encoding="utf-8"))
    profile = profiles[COFFEE_DEVICE]
    recognizer = PocketSphinxRecognizer(
        compile_grammar(intents.restricted_to(profile.domains), fillers=GRAMMAR_FILLERS)
    )
    intent = intents.intent(COFFEE_INTENT)
    results = []
    for file, label in sorted(labels.items()):
        samples = command_span(read_wav(folder / "wav" / file), profile)
        heard = recognizer.transcribe(samples).text
        wanted = {slot: " ".join(value.split()) for slot, value in label["slots"].items()}
        results.append(HumanResult(file, wanted, heard, _read_enum_slots(heard, intent.slots)))
    say(f"coffee-maker recordings: {sum(r.slots_exact for r in results)}/{len(results)} with every slot exact")
    return results


def _read_enum_slots(text: str, slots: Any) -> dict[str, str]:
    """The enumeration slot values said in `text`, longest phrase first at each word."""
    words = text.split()
    found: dict[str, str] = {}
    position = 0
    while position < len(words):
        best: tuple[int, str, str] | None = None
        for name, slot in slots.items():
            if isinstance(slot.type, EnumSlot):
                read = slot.type.read(words, position)
                if read is not None and (best is None or read[1] > best[0]):
                    best = (read[1], name, str(read[0]))
        if best is None:
            position += 1
            continue
        found[best[1]] = best[2]
        position = best[0]
    return found


def markdown(results: Results, command: str, image: str | None = None) -> str:
    """The report; `image` names the plot (`plot`) written beside it."""
    scores = results.scores
    machine = describe_machine()
    snrs = " and ".join(f"{snr:g}" for snr in NOISE_SNRS_DB)
    lines = [
        "# Speech recognizer benchmark",
        "",
        f"Date: {datetime.date.today().isoformat()}. Machine: {machine}. One thread. Command: `{command}`.",
        "",
        "Espeak-ng commands (voices "
        + ", ".join(f"{v[0]}+{v[1]}" for v in VOICES)
        + f"; {SPEEDS_WPM[0]}-{SPEEDS_WPM[-1]} wpm; {NOISE_FLOOR_DBFS:g} dBFS noise floor), PocketSphinx "
        "5, 80 ms frames. `rtf cpu` is the decoding thread's CPU time over the audio time (one core); "
        "`rtf wall` includes waiting for the CPU on a shared machine. "
        f"Targets: exact >= {TARGET_EXACT:.0%}, rtf <= {TARGET_RTF}.",
        "",
        "Exact: the transcript is the command word for word, in the spellings the recognizer writes. Where the "
        'grammar offers two spellings of one sound at one place ("stop watch"/"stopwatch"), the recognizer '
        "returns one of them and the command is compared in that one; `respelled` counts those commands. "
        'Nothing else is normalised ("what is" for "what\'s" is a mistake). The vosk list rows compare the '
        "command as sampled.",
        "",
        "Understood: the device's intent model (its profile's variant, only its intents) made the command's "
        "frame of the transcript: the intent and every slot value it was sampled with. "
        f"Kitchen noise: the same espeak-ng renderings with the coffee-maker benchmark's kitchen recording "
        f"mixed in at {snrs} dB SNR, over the whole rendering (lead and trail silence included, as that "
        "benchmark does over its recordings).",
        "",
        "`rejected`: commands that came out as no text (not a command, to the recognizer).",
        "",
        "| device | setup | commands | respelled | grammar words | exact | understood | rejected | rtf cpu "
        "| rtf wall | list coverage |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        coverage = "-" if s.coverage is None else f"{s.coverage:.1%}"
        frames = "-" if s.frame_accuracy is None else f"{s.frame_accuracy:.1%}"
        lines.append(
            f"| {s.device} | {s.setup} | {len(s.utterances)} | {s.respelled} | {s.grammar_words} | {s.exact:.1%} | "
            f"{frames} | {s.rejected} | {s.rtf_cpu:.3f} | {s.rtf_wall:.3f} | {coverage} |"
        )
    grammar_scores = [s for s in scores if s.setup == "grammar"]
    if grammar_scores:
        n, exact, understood = _pooled(grammar_scores)
        cpu = sum(u.cpu_s for s in grammar_scores for u in s.utterances)
        audio = sum(u.audio_s for s in grammar_scores for u in s.utterances)
        respelled = sum(s.respelled for s in grammar_scores)
        lines += [
            "",
            f"All devices, grammar mode: {exact:.1%} exact of {n} commands ({respelled} respelled), "
            f"rtf (cpu) {cpu / audio:.3f}; {understood:.1%} understood.",
        ]
    flite_scores = [s for s in scores if s.setup == FLITE_SETUP]
    if flite_scores:
        n, exact, understood = _pooled(flite_scores)
        voices = ", ".join(v for _, v in FLITE_VOICES)
        lines.append(
            f"The same commands said by flite's voices ({voices}: built from recordings of real speakers): "
            f"{exact:.1%} exact of {n}, {understood:.1%} understood."
        )
    for snr_db in NOISE_SNRS_DB:
        noisy = [s for s in scores if s.setup == noisy_setup(snr_db)]
        if noisy:
            n, exact, understood = _pooled(noisy)
            lines.append(
                f"The espeak-ng commands in kitchen noise at {snr_db:g} dB: {exact:.1%} exact of {n}, "
                f"{understood:.1%} understood."
            )
    real = [s for s in scores if s.setup == REAL_WORDS_SETUP]
    if real:
        n = sum(len(s.utterances) for s in real)
        right = sum(sum(u.exact for u in s.utterances) for s in real)
        lines.append(
            f"One word, real people, all devices: {right} of {n} right ({right / n:.1%}), "
            f"{sum(s.rejected for s in real)} came out as no text."
        )
    if image:
        lines += ["", f"![exact transcripts and commands understood, per device]({image})"]
    lines += _understood_section(results)
    if results.not_commands:
        lines += [
            "",
            "## Not commands",
            "",
            "Accepted: came out as some grammar sentence (a phantom command) instead of no text. "
            "Grammar mode: the phone loop of `assistant/asr/rejection.py` turns them away, or, where the "
            "profile gives the recognizer its grammar as a language model (`recognizer.network: ngram`, "
            "`assistant/asr/grammar_lm.py`), the check that the transcript is a grammar sentence.",
            "",
            "| device | sounds | n | accepted |",
            "|---|---|---|---|",
        ]
        lines += [f"| {n.device} | {n.kind} | {len(n.heard)} | {n.accepted} |" for n in results.not_commands]
    lines += ["", "## Mistakes (grammar mode)", ""]
    for s in grammar_scores:
        for u in s.utterances:
            if not u.exact:
                written = f' (written "{u.expected}")' if u.expected else ""
                lines.append(f'- {s.device}, {u.voice}: said "{u.text}"{written}, heard "{u.heard}"')
    if results.humans:
        humans = results.humans
        good = sum(h.slots_exact for h in humans)
        lines += [
            "",
            "## Real people: coffee-maker recordings",
            "",
            f"{good} of {len(humans)} ({good / len(humans):.0%}) with every labelled slot heard exactly "
            "(labels give slots, not transcripts).",
            "",
            "| file | heard | slots exact |",
            "|---|---|---|",
        ]
        lines += [f"| {h.file[:8]} | {h.heard} | {'yes' if h.slots_exact else 'no'} |" for h in humans]
    return "\n".join(lines) + "\n"


def _pooled(scores: Sequence[Score]) -> tuple[int, float, float]:
    """(commands, exact share, understood share) over several devices' scores of one setup."""
    utterances = [u for s in scores for u in s.utterances]
    return (
        len(utterances),
        sum(u.exact for u in utterances) / len(utterances),
        sum(bool(u.understood) for u in utterances) / len(utterances),
    )


def _understood_section(results: Results) -> list[str]:
    """Per device: the intent model alone on the commands' text, then after each way of hearing them."""
    if not results.understood_from_text:
        return []
    setups = ["grammar", FLITE_SETUP, *(noisy_setup(snr) for snr in NOISE_SNRS_DB)]
    by_setup = {(s.device, s.setup): s for s in results.scores}
    lines = [
        "",
        "## Understood end to end",
        "",
        "The share of commands whose frame came out right: from their text (the intent model alone, no "
        "audio), then from what the recognizer heard.",
        "",
        "| device | commands | from the text | espeak-ng | flite voices | "
        + " | ".join(f"kitchen noise {snr:g} dB" for snr in NOISE_SNRS_DB)
        + " |",
        "|---|---|---|---|---|" + "---|" * len(NOISE_SNRS_DB),
    ]
    for device, from_text in results.understood_from_text.items():
        cells = []
        for setup in setups:
            score = by_setup.get((device, setup))
            share = None if score is None else score.frame_accuracy
            cells.append("-" if share is None else f"{share:.1%}")
        n = len(by_setup[(device, "grammar")].utterances)
        lines.append(f"| {device} | {n} | {from_text:.1%} | " + " | ".join(cells) + " |")
    clean = [s for s in results.scores if s.setup == "grammar"]
    heard_right = [(s.device, u) for s in clean for u in s.utterances if u.exact and not u.understood]
    lines += [
        "",
        f"Heard exactly but not understood (espeak-ng, clean): {len(heard_right)}, the intent model's share.",
        "",
    ]
    lines += [f'- {device}: "{u.text}"' for device, u in heard_right]
    return lines


def plot(results: Results, path: Path) -> None:
    """Per device: exact transcripts, and commands understood end to end, in each way of hearing them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    devices = list(results.understood_from_text)
    by_setup = {(s.device, s.setup): s for s in results.scores}
    named = {"grammar": "espeak-ng", FLITE_SETUP: "flite voices"}
    named.update({noisy_setup(snr): f"kitchen noise {snr:g} dB" for snr in NOISE_SNRS_DB})
    measured = {setup for _, setup in by_setup}
    setups, labels = [s for s in named if s in measured], [named[s] for s in named if s in measured]
    figure, (exact_axes, understood_axes) = plt.subplots(2, 1, figsize=(max(9, 1.1 * len(devices) + 5), 8))
    width = 0.8 / (len(setups) + 1)
    positions = np.arange(len(devices))
    for index, (setup, label) in enumerate(zip(setups, labels, strict=True)):
        offset = (index + 1) * width - 0.4
        exact = [100 * by_setup[(d, setup)].exact if (d, setup) in by_setup else np.nan for d in devices]
        exact_axes.bar(positions + offset, exact, width, label=label)
        understood = [_percent(by_setup[(d, setup)].frame_accuracy) if (d, setup) in by_setup else np.nan
                      for d in devices]  # fmt: skip
        understood_axes.bar(positions + offset, understood, width, label=label)
    from_text = [100 * results.understood_from_text[d] for d in devices]
    understood_axes.bar(positions - 0.4, from_text, width, label="from the text (model alone)", color="grey")
    exact_axes.axhline(100 * TARGET_EXACT, color="black", linestyle="--", linewidth=1, label="target")
    exact_axes.set_ylabel("% exact transcripts")
    understood_axes.set_ylabel("% understood (intent and every slot)")
    for axes in (exact_axes, understood_axes):
        axes.set_xticks(positions, devices, rotation=30, ha="right")
        lowest = min((bar.get_height() for bar in axes.patches if np.isfinite(bar.get_height())), default=0.0)
        axes.set_ylim(max(0.0, 10 * (lowest // 10) - 10), 101)
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    exact_axes.set_title("Spoken commands per device, PocketSphinx grammar mode")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _percent(share: float | None) -> float:
    return np.nan if share is None else 100 * share

"""Audio for wake word training and measuring, turned into speech embeddings once.

Two kinds of audio, both synthesized by espeak-ng and, where a recipe asks, flite
(`assistant.train.speech`) and mixed with noise (sox noise and the shared kitchen recording):

- scenes: one utterance (the wake phrase, or a confusable one) after a stretch of
  background, sometimes followed by the start of a command, in noise or clean; the
  frames right after the phrase ends are the positives, and every frame of a
  confusable scene is a hard negative;
- streams: long runs of spoken commands and out-of-scope sentences from the intent
  definitions, noise-only stretches and real human one-word recordings: every
  frame is a negative. Streams do not depend on the phrase, so one cache serves
  every phrase.

Everything becomes a `Windows` set: embedding rows plus, per head window, its first
row, label and weight. Arrays are cached as .npz files named by a hash of what made
them, so a second phrase or a second run reuses the streams.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from assistant.audio import SAMPLE_RATE_HZ, read_wav, to_int16
from assistant.datagen import CorpusGenerator
from assistant.errors import AudioError
from assistant.intents import IntentSet
from assistant.train.speech import (
    FLITE,
    PITCH,
    SPEED_WPM,
    TRAIN_LANGUAGES,
    TRAIN_VARIANTS,
    Voice,
    phonemes,
    random_voice,
    sox_noise,
    synthesize,
)
from assistant.wake import FRAME_SAMPLES, HEAD_WINDOW_EMBEDDINGS, FeatureStream, SpeechFeatures

log = logging.getLogger(__name__)

DATA_VERSION = 2  # bump when the recipes below change: it invalidates every cache entry
LAST_MEL_WINDOW_END = 1152  # frame t's embedding has heard audio up to sample 1280 t + 1152 of the stream
POSITIVE_FRAMES_AFTER_END = 4  # frames labelled positive from the first one that has heard the whole phrase
EVALUATION_FRAMES_AFTER_END = 10  # a held-out phrase counts as detected if the detector fires by then
LEAD_S = (0.3, 2.2)  # background before an utterance in a scene, seconds
SPEECH_LEVEL_DBFS = (-38.0, -14.0)  # RMS of the voiced part of an utterance
SNR_DB = (0.0, 25.0)  # speech to noise, over the voiced part
CLEAN_SHARE = 0.2  # scenes and stream blocks with no noise added
REVERB_SHARE = 0.3  # utterances rendered through sox reverb
SPEED_SHARE = 0.7  # training utterances resampled by sox `speed`: formants and pitch move together,
SPEED_FACTOR = (0.85, 1.15)  # like another vocal tract length: more speakers than espeak-ng has
LEAD_SPEECH_SHARE = 0.3  # scenes whose background ends with the tail of another sentence
TRAIL_GAP_S = (0.05, 0.5)  # pause between an utterance and the command that follows it, where one does
EQ_GAIN_DB = (-12.0, 12.0)  # colouring: one sox equalizer band (a microphone, a room, a loudspeaker)
EQ_HZ = (200, 5000)
PITCH_SHIFT_CENTS = (-300, 300)  # colouring: pitch without tempo (sox pitch)
TEMPO_FACTOR = (0.8, 1.25)  # colouring: tempo without pitch (sox tempo)
HIGHPASS_HZ = (80, 400)  # colouring: a band-limited channel, e.g. a small device's microphone
LOWPASS_HZ = (3000, 7000)
STREAM_BLOCK_S = 30.0  # a stream is made and mixed block by block
STREAM_GAP_S = (0.15, 1.2)  # silence between sentences in a stream
NOISE_ONLY_SHARE = 0.1  # stream segments that are noise only (2-5 s)
HUMAN_SHARE = 0.05  # stream segments that are a real human recording, where available
KITCHEN_TRAIN_S = 90.0  # the kitchen recording's first 90 s train; the rest is held out
SOX_NOISE_S = 60.0
SOX_NOISE_KINDS = ("whitenoise", "pinknoise", "brownnoise")
ACTIVE_FRACTION_OF_PEAK = 0.02  # an utterance starts and ends where |x| first and last exceeds this much of its peak
SCORING_BLOCK_WINDOWS = 4096  # windows gathered at once when scoring a long stream (25 MB)
SYNTHESIS_WORKERS = 2  # espeak-ng and sox run as subprocesses: two at a time on a 2-core machine

OTHER_ASSISTANTS = (
    "hey google", "okay google", "hey siri", "alexa", "hey alexa", "hey cortana", "hey jarvis", "hey mycroft",
    "hey there", "hey you", "hey guys", "hello there", "hi there", "okay", "hey",
)  # fmt: skip
LEAD_WORD_SWAPS = ("they", "say", "a", "okay", "play", "day", "may", "pay", "away", "hi", "he")
ARTICLES = ("the", "my", "a", "your", "that", "this")

Progress = Callable[[str, int, int], None]  # (what, done, total)


def _no_progress(what: str, done: int, total: int) -> None:
    pass


# --------------------------------------------------------------------------- texts


def normalize_phrase(phrase: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", phrase.lower()).split())


def dropped_h_spellings(phrase: str) -> list[str]:
    """The phrase as the many accents that drop a word-initial h say it ("'ey fridge"), as espeak-ng
    phonemes in `[[...]]`; none when no word starts with an h sound."""
    words = phonemes(phrase).split()
    if not any(word.lstrip("',%=").startswith("h") for word in words):
        return []
    dropped = [word.replace("h", "", 1) if word.lstrip("',%=").startswith("h") else word for word in words]
    return [f"[[{' '.join(dropped)}]]"]


def phrase_spellings(phrase: str) -> list[str]:
    """Ways to write the phrase that make espeak-ng say it with different prosody."""
    words = phrase.split()
    spellings = [phrase, f"{phrase}.", f"{phrase}!", f"{phrase}?"]
    if len(words) > 1:
        spellings.append(f"{words[0]}, {' '.join(words[1:])}")
        spellings.append(f"{words[0]}! {' '.join(words[1:])}.")
    return spellings


def contains_phrase(text: str, phrase: str) -> bool:
    return re.search(rf"\b{re.escape(phrase)}\b", normalize_phrase(text)) is not None


def confusable_texts(
    phrase: str,
    vocabulary: Iterable[str],
    other_phrases: Iterable[str],
    near_misses: int = 0,
    commands: Sequence[str] = (),
) -> list[str]:
    """Negatives that share sounds with the phrase: its words alone or in other company,
    sound-alike words, other assistants' and devices' wake phrases; with `near_misses`, that many
    vocabulary words after the phrase's first word ("hey music") and before its rest ("music fridge"),
    and as many openings of `commands` after its first word ("hey switch off", as people say them)."""
    words = phrase.split()
    first, rest = words[0], " ".join(words[1:])
    texts = {first, *words}
    if rest:
        texts.update({rest, *(f"{article} {rest}" for article in ARTICLES)})
        texts.update(f"{swap} {rest}" for swap in LEAD_WORD_SWAPS if swap != first)
    for word in words:
        for near in similar_words(word, vocabulary):
            texts.add(near)
            texts.add(" ".join(near if w == word else w for w in words))
    texts.update(OTHER_ASSISTANTS)
    texts.update(other_phrases)
    if near_misses and rest:
        pool = sorted(w for w in set(vocabulary) if len(w) >= 3 and w not in words)
        step = max(1, len(pool) // near_misses)
        for index, word in enumerate(pool[::step][:near_misses]):
            texts.add(f"{first} {word}" if index % 2 == 0 else f"{word} {rest}")
        for command in sorted(set(commands))[:: max(1, len(set(commands)) // near_misses)][:near_misses]:
            opening = [word for word in command.split() if word not in (first, "there")][:2]
            if opening:
                texts.add(" ".join([first, *opening]))
    return sorted(t for t in texts if t and not contains_phrase(t, phrase))


def similar_words(word: str, vocabulary: Iterable[str], max_distance: int = 2) -> list[str]:
    """Vocabulary words within `max_distance` letter edits of `word` (one edit for words of up to four
    letters, whose two-edit neighbours are most short words), not merely its inflections."""
    if len(word) <= 4:
        max_distance = min(max_distance, 1)
    found = []
    for candidate in set(vocabulary):
        if len(candidate) < 3 or candidate == word or candidate.startswith(word) or word.startswith(candidate):
            continue
        if abs(len(candidate) - len(word)) <= max_distance and _edit_distance(word, candidate) <= max_distance:
            found.append(candidate)
    return sorted(found)


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def command_sentences(intents: IntentSet, split: str, count: int, seed: int, exclude: Iterable[str]) -> list[str]:
    """Spoken commands and out-of-scope sentences from the corpus generator's `split`,
    none containing an excluded phrase."""
    excluded = [normalize_phrase(p) for p in exclude]
    corpus = CorpusGenerator(intents, seed=seed).generate(_corpus_size(split, count))
    texts = [e.text for e in corpus.split(split) if not any(contains_phrase(e.text, p) for p in excluded)]
    random.Random(seed).shuffle(texts)
    return texts[:count]


def possible_sentences(intents: IntentSet, count: int, seed: int) -> set[str]:
    """Every sentence `command_sentences(..., count, seed, ...)` can return, for either split."""
    return {
        example.text
        for split in ("train", "validation")
        for example in CorpusGenerator(intents, seed=seed).generate(_corpus_size(split, count)).examples
    }


def _corpus_size(split: str, count: int) -> int:
    share = 0.8 if split == "train" else 0.2  # the generator's default validation share
    return max(200, round(count / share))


# --------------------------------------------------------------------------- background


@dataclass
class Backgrounds:
    """Noise to mix in: sox noise and, where the shared data is, the kitchen recording."""

    noises: dict[str, np.ndarray]
    humans: list[np.ndarray] = field(default_factory=list)  # real one-word recordings, negatives
    human_sources: list[str] = field(default_factory=list)

    def pick_noise(self, rng: random.Random) -> tuple[str, np.ndarray]:
        names = sorted(self.noises)
        weights = [2.0 if name.startswith("kitchen") else 1.0 for name in names]
        name = rng.choices(names, weights)[0]
        return name, self.noises[name]


def load_backgrounds(data_dir: Path | None, held_out: bool) -> Backgrounds:
    """Training backgrounds (`held_out=False`) or the disjoint held-out ones used for measuring."""
    noises = {kind: sox_noise(kind, SOX_NOISE_S) for kind in SOX_NOISE_KINDS}
    if held_out:  # another stretch of the same kinds of noise: sox -R gives the same samples for the same length
        noises = {kind: sox_noise(kind, 2 * SOX_NOISE_S)[-round(SOX_NOISE_S * SAMPLE_RATE_HZ) :] for kind in noises}
    backgrounds = Backgrounds(noises)
    if data_dir is None:
        return backgrounds
    kitchen_path = data_dir / "coffee_maker" / "noise" / "kitchen.wav"
    if kitchen_path.is_file():
        kitchen = read_wav(kitchen_path)
        cut = round(KITCHEN_TRAIN_S * SAMPLE_RATE_HZ)
        backgrounds.noises["kitchen"] = kitchen[cut:] if held_out else kitchen[:cut]
    else:
        log.info("%s not found: training without kitchen noise", kitchen_path)
    for path in human_recordings(data_dir, held_out):
        try:
            backgrounds.humans.append(read_wav(path))
            backgrounds.human_sources.append(str(path.relative_to(data_dir)))
        except AudioError as error:
            log.warning("skipped %s", error)
    return backgrounds


def human_recordings(data_dir: Path, held_out: bool) -> list[Path]:
    """Speech Commands one-word recordings split by speaker (half train, half held out); the
    coffee-maker commands are held out. None of them says a wake phrase."""
    paths = []
    commands = data_dir / "speech_commands_sample"
    for path in sorted(commands.glob("*/*.wav")):
        speaker = path.name.split("_")[0]
        if (int(hashlib.sha1(speaker.encode()).hexdigest(), 16) % 2 == 1) == held_out:
            paths.append(path)
    if held_out:
        paths.extend(sorted((data_dir / "coffee_maker" / "wav").glob("*.wav")))
    return paths


# --------------------------------------------------------------------------- mixing


def active_span(clip: np.ndarray) -> tuple[int, int]:
    """First and one-past-last sample of the voiced part of a synthesized utterance."""
    magnitude = np.abs(clip.astype(np.int32))
    loud = np.flatnonzero(magnitude > ACTIVE_FRACTION_OF_PEAK * max(1, int(magnitude.max())))
    return (int(loud[0]), int(loud[-1]) + 1) if loud.size else (0, len(clip))


def _rms(signal: np.ndarray) -> float:
    return float(np.sqrt(np.mean(signal.astype(np.float64) ** 2))) if signal.size else 0.0


def _noise_slice(noise: np.ndarray, length: int, rng: random.Random) -> np.ndarray:
    start = rng.randrange(max(1, len(noise) - length))
    piece = noise[start : start + length]
    return np.resize(piece, length) if len(piece) < length else piece


def add_noise(
    audio: np.ndarray,
    speech_rms: float,
    backgrounds: Backgrounds,
    rng: random.Random,
    clean_share: float = CLEAN_SHARE,
    snr_db: tuple[float, float] = SNR_DB,
) -> tuple[np.ndarray, str]:
    """`audio` (float) with noise at a random SNR against `speech_rms`; or, `clean_share` of the time, clean."""
    if rng.random() < clean_share or speech_rms <= 0 or not backgrounds.noises:
        return audio, "clean"
    name, noise = backgrounds.pick_noise(rng)
    piece = _noise_slice(noise, len(audio), rng).astype(np.float64)
    gain = speech_rms / (max(_rms(piece), 1.0) * 10 ** (rng.uniform(*snr_db) / 20))
    return audio + gain * piece, name


# --------------------------------------------------------------------------- windows


@dataclass
class Windows:
    """Head windows over embedding rows. Each sequence of frames is stored after
    HEAD_WINDOW_EMBEDDINGS - 1 silence embeddings, as the runtime starts, so the
    window of frame t is rows start .. start + HEAD_WINDOW_EMBEDDINGS - 1."""

    rows: list[np.ndarray] = field(default_factory=list)
    starts: list[np.ndarray] = field(default_factory=list)
    labels: list[np.ndarray] = field(default_factory=list)
    weights: list[np.ndarray] = field(default_factory=list)
    groups: list[np.ndarray] = field(default_factory=list)  # scene id per window, -1 in streams
    size: int = 0

    def add(
        self,
        embeddings: np.ndarray,
        silence: np.ndarray,
        labels: np.ndarray,
        weights: np.ndarray,
        group: int = -1,
    ) -> None:
        """One sequence: per-frame labels and weights (weight 0: not a training window)."""
        padded = np.concatenate([np.tile(silence, (HEAD_WINDOW_EMBEDDINGS - 1, 1)), embeddings]).astype(np.float32)
        keep = np.flatnonzero(weights > 0)
        self.rows.append(padded)
        self.starts.append(self.size + keep)
        self.labels.append(labels[keep].astype(np.float32))
        self.weights.append(weights[keep].astype(np.float32))
        self.groups.append(np.full(keep.size, group, np.int32))
        self.size += padded.shape[0]

    def arrays(self) -> dict[str, np.ndarray]:
        if not self.rows:
            return {
                "rows": np.zeros((0, 96), np.float32),
                **{k: np.zeros(0, t) for k, t in (("starts", np.int64), ("labels", np.float32))},
                "weights": np.zeros(0, np.float32),
                "groups": np.zeros(0, np.int32),
            }
        return {
            "rows": np.concatenate(self.rows),
            "starts": np.concatenate(self.starts).astype(np.int64),
            "labels": np.concatenate(self.labels),
            "weights": np.concatenate(self.weights),
            "groups": np.concatenate(self.groups),
        }


def merge(sets: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One window set from several (`Windows.arrays()` or cached), rows and groups renumbered."""
    rows, starts, labels, weights, groups = [], [], [], [], []
    offset, group_offset = 0, 0
    for part in sets:
        rows.append(part["rows"])
        starts.append(part["starts"] + offset)
        labels.append(part["labels"])
        weights.append(part["weights"])
        part_groups = part["groups"].copy()
        part_groups[part_groups >= 0] += group_offset
        groups.append(part_groups)
        offset += part["rows"].shape[0]
        group_offset = max(group_offset, int(part_groups.max()) + 1 if part_groups.size else group_offset)
    return {
        "rows": np.concatenate(rows),
        "starts": np.concatenate(starts),
        "labels": np.concatenate(labels),
        "weights": np.concatenate(weights),
        "groups": np.concatenate(groups),
    }


def gather_windows(data: dict[str, np.ndarray], indices: np.ndarray | None = None) -> np.ndarray:
    """(w, HEAD_WINDOW_EMBEDDINGS, 96) windows, all or the given ones."""
    starts = data["starts"] if indices is None else data["starts"][indices]
    windows: np.ndarray = data["rows"][starts[:, None] + np.arange(HEAD_WINDOW_EMBEDDINGS)[None, :]]
    return windows


def score_windows(score: Callable[[np.ndarray], float], data: dict[str, np.ndarray]) -> np.ndarray:
    """`score` of every window, in order, gathering a block of windows at a time to bound memory."""
    count = len(data["starts"])
    scores = np.empty(count, np.float32)
    for first in range(0, count, SCORING_BLOCK_WINDOWS):
        indices = np.arange(first, min(first + SCORING_BLOCK_WINDOWS, count))
        for index, window in zip(indices, gather_windows(data, indices), strict=True):
            scores[index] = score(window)
    return scores


# --------------------------------------------------------------------------- scenes


@dataclass(frozen=True)
class SceneRecipe:
    """How to make the scenes of one set of utterances."""

    name: str  # cache name, e.g. "positives-train"
    texts: tuple[str, ...]  # drawn at random per render
    renders: int  # distinct espeak-ng renders
    scenes_per_render: int
    positive: bool  # frames right after the utterance are positives; else every frame is a hard negative
    languages: tuple[str, ...] = TRAIN_LANGUAGES
    variants: tuple[str, ...] = TRAIN_VARIANTS
    speed_wpm: tuple[int, int] = SPEED_WPM
    pitch: tuple[int, int] = PITCH
    flite_voices: tuple[str, ...] = ()  # flite voices that say `flite_share` of the renders
    flite_share: float = 0.0
    speed_share: float = SPEED_SHARE  # share of renders through sox `speed` (0 for held-out measurements)
    colour_share: float = 0.0  # share of renders through a random sox equalizer, band limit, pitch or tempo change
    trailing_speech_share: float = 0.0  # scenes where a command follows the utterance, as in use
    frames_after_end: int = POSITIVE_FRAMES_AFTER_END
    hard_negative_weight: float = 2.0
    clean_share: float = CLEAN_SHARE
    snr_db: tuple[float, float] = SNR_DB
    seed: int = 0


@dataclass(frozen=True)
class Utterance:
    text: str
    voice: Voice
    reverb: tuple[int, int, int] | None = None  # sox reverb: reverberance %, HF damping %, room scale %
    speed: float | None = None  # sox speed factor: pitch, formants and tempo scaled together
    colour: tuple[str, ...] = ()  # further sox effects (`random_colour`)

    def effects(self) -> list[str]:
        speed = [] if self.speed is None else ["speed", f"{self.speed:.3f}"]
        if self.speed is not None and "lowpass" in self.colour:
            # sox `speed` lowers the rate the next effects run at; back to the voice's own rate where a
            # low-pass would be above that rate's Nyquist (flite's 16 kHz slowed down; never espeak-ng's)
            cutoff = int(self.colour[self.colour.index("lowpass") + 1])
            if cutoff >= self.voice.sample_rate_hz * self.speed / 2:
                speed += ["rate", str(self.voice.sample_rate_hz)]
        return [*speed, *self.colour, *([] if self.reverb is None else ["reverb", *(str(v) for v in self.reverb)])]


def random_colour(rng: random.Random) -> tuple[str, ...]:
    """One or two sox effects that change how a voice reaches the microphone or how it speaks:
    an equalizer band, a band-limited channel, a pitch shift without tempo change, a tempo change."""
    kinds = rng.sample(("equalizer", "band", "pitch", "tempo"), rng.choice((1, 1, 2)))
    effects: list[str] = []
    for kind in sorted(kinds):
        if kind == "equalizer":
            effects += ["equalizer", str(rng.randint(*EQ_HZ)), f"{rng.uniform(0.5, 2.0):.2f}q"]
            effects.append(f"{rng.uniform(*EQ_GAIN_DB):.1f}")
        elif kind == "band":
            effects += ["highpass", str(rng.randint(*HIGHPASS_HZ)), "lowpass", str(rng.randint(*LOWPASS_HZ))]
        elif kind == "pitch":
            effects += ["pitch", str(rng.randint(*PITCH_SHIFT_CENTS))]
        else:
            effects += ["tempo", f"{rng.uniform(*TEMPO_FACTOR):.3f}"]
    return tuple(effects)


def pick_voice(rng: random.Random, recipe: SceneRecipe | StreamRecipe, text: str) -> Voice:
    """A voice of the recipe for `text`: flite `recipe.flite_share` of the time, except for espeak-ng
    phonemes (`[[...]]`), which only espeak-ng reads. Draws nothing more when the recipe has no flite
    voices, so older recipes make the same audio."""
    if recipe.flite_voices and not text.startswith("[[") and rng.random() < recipe.flite_share:
        return Voice(FLITE, rng.choice(recipe.flite_voices), rng.randint(*recipe.speed_wpm), rng.randint(*recipe.pitch))
    return random_voice(rng, recipe.languages, recipe.variants, recipe.speed_wpm, recipe.pitch)


def plan_utterances(texts: Sequence[str], count: int, rng: random.Random, recipe: SceneRecipe) -> list[Utterance]:
    utterances = []
    for index in range(count):
        text = texts[index % len(texts)] if index < len(texts) else rng.choice(texts)
        voice = pick_voice(rng, recipe, text)
        reverb = (
            (rng.randint(20, 80), rng.randint(20, 80), rng.randint(30, 100)) if rng.random() < REVERB_SHARE else None
        )
        speed = rng.uniform(*SPEED_FACTOR) if rng.random() < recipe.speed_share else None
        colour = random_colour(rng) if recipe.colour_share > 0 and rng.random() < recipe.colour_share else ()
        utterances.append(Utterance(text, voice, reverb, speed, colour))
    return utterances


def synthesize_all(utterances: Sequence[Utterance], progress: Progress, what: str) -> list[np.ndarray]:
    clips: list[np.ndarray] = []
    with ThreadPoolExecutor(SYNTHESIS_WORKERS) as pool:
        for clip in pool.map(lambda u: synthesize(u.text, u.voice, [*u.effects(), "gain", "-n", "-3"]), utterances):
            clips.append(clip)
            progress(what, len(clips), len(utterances))
    return clips


def build_scene(
    clip: np.ndarray,
    rng: random.Random,
    backgrounds: Backgrounds,
    lead_clips: Sequence[np.ndarray],
    frames_after_end: int,
    clean_share: float = CLEAN_SHARE,
    snr_db: tuple[float, float] = SNR_DB,
    trailing_speech_share: float = 0.0,
) -> tuple[np.ndarray, int, int, str]:
    """An utterance after a stretch of background, sometimes after the tail of another sentence and,
    `trailing_speech_share` of the time, followed by the start of one: (audio, first frame that hears
    the utterance, first frame that has heard all of it, noise name)."""
    start, end = active_span(clip)
    voiced = clip[start:end].astype(np.float64)
    level = 10 ** (rng.uniform(*SPEECH_LEVEL_DBFS) / 20) * 32768
    voiced *= level / max(_rms(voiced), 1.0)
    lead = round(rng.uniform(*LEAD_S) * SAMPLE_RATE_HZ)
    phrase_end = lead + voiced.size
    end_frame = max(0, -(-(phrase_end - LAST_MEL_WINDOW_END) // FRAME_SAMPLES))
    total = (end_frame + frames_after_end + 1) * FRAME_SAMPLES
    audio = np.zeros(total, np.float64)
    audio[lead:phrase_end] = voiced[: total - lead]
    if lead_clips and rng.random() < LEAD_SPEECH_SHARE:  # the tail of another sentence, then a short pause
        other = rng.choice(lead_clips)
        o_start, o_end = active_span(other)
        tail = other[o_start:o_end].astype(np.float64)
        tail *= level / max(_rms(tail), 1.0)
        pause = round(rng.uniform(0.1, 0.5) * SAMPLE_RATE_HZ)
        room = max(0, lead - pause)
        if room > 0:
            piece = tail[-room:]
            audio[room - piece.size : room] = piece
    if lead_clips and trailing_speech_share > 0 and rng.random() < trailing_speech_share:
        other = rng.choice(lead_clips)
        o_start, o_end = active_span(other)
        head = other[o_start:o_end].astype(np.float64)
        head *= level / max(_rms(head), 1.0)
        begin = phrase_end + round(rng.uniform(*TRAIL_GAP_S) * SAMPLE_RATE_HZ)
        if begin < total:
            piece = head[: total - begin]
            audio[begin : begin + piece.size] = piece
    mixed, noise_name = add_noise(audio, level, backgrounds, rng, clean_share, snr_db)
    first_frame = max(0, (lead - LAST_MEL_WINDOW_END) // FRAME_SAMPLES)
    return to_int16(mixed), first_frame, end_frame, noise_name


def scene_windows(
    recipe: SceneRecipe,
    features: SpeechFeatures,
    backgrounds: Backgrounds,
    lead_sentences: Sequence[str],
    cache: Cache,
    progress: Progress = _no_progress,
) -> dict[str, np.ndarray]:
    """Windows of every scene of `recipe`: for a positive recipe, frames end..end+k are positives
    and frames before the utterance negatives; for a negative recipe, every frame is a hard negative."""
    key = {
        "recipe": _recipe_key(recipe),
        "lead_sentences": list(lead_sentences)[:50],
        "backgrounds": _describe(backgrounds),
    }
    cached = cache.load(recipe.name, key, features)
    if cached is not None:
        return cached
    rng = random.Random(f"{recipe.seed}:{recipe.name}")
    utterances = plan_utterances(recipe.texts, recipe.renders, rng, recipe)
    clips = synthesize_all(utterances, progress, f"{recipe.name}: synthesizing")
    lead_rng = random.Random(f"{recipe.seed}:{recipe.name}:lead")
    lead_utterances = [
        Utterance(text, random_voice(lead_rng, recipe.languages, recipe.variants)) for text in list(lead_sentences)[:50]
    ]
    lead_clips = synthesize_all(lead_utterances, _no_progress, "") if lead_utterances else []
    windows = Windows()
    scene_count = len(clips) * recipe.scenes_per_render
    noise_counts: dict[str, int] = {}
    for index in range(scene_count):
        clip = clips[index % len(clips)]
        audio, first, end, noise_name = build_scene(
            clip, rng, backgrounds, lead_clips, recipe.frames_after_end, recipe.clean_share, recipe.snr_db,
            recipe.trailing_speech_share,
        )  # fmt: skip
        noise_counts[noise_name] = noise_counts.get(noise_name, 0) + 1
        embeddings = features.embed_audio(audio)
        frames = embeddings.shape[0]
        labels = np.zeros(frames, np.float32)
        weights = np.ones(frames, np.float32)
        if recipe.positive:
            labels[end:] = 1.0
            weights[first:end] = 0.0  # the phrase partly heard: neither positive nor negative
        else:
            weights[first:] = recipe.hard_negative_weight
        windows.add(embeddings, features.silence_embedding, labels, weights, group=index)
        progress(f"{recipe.name}: embedding", index + 1, scene_count)
    arrays = windows.arrays()
    summary = {
        "scenes": scene_count,
        "renders": len(clips),
        "texts": len(set(u.text for u in utterances)),
        "voices": len(set(u.voice.name for u in utterances)),
        "reverb": sum(u.reverb is not None for u in utterances),
        "speed_perturbed": sum(u.speed is not None for u in utterances),
        "coloured": sum(bool(u.colour) for u in utterances),
        "noise": noise_counts,
        "seconds": round(sum(c.size for c in clips) / SAMPLE_RATE_HZ, 1),
        "scene_voices": [utterances[i % len(clips)].voice.name for i in range(scene_count)],
    }
    cache.save(recipe.name, key, features, arrays, summary)
    return arrays


# --------------------------------------------------------------------------- streams


@dataclass(frozen=True)
class StreamRecipe:
    """Long negative audio: sentences, noise-only stretches and human recordings, in a noise bed."""

    name: str  # cache name, e.g. "stream-train"
    seconds: float
    sentences: tuple[str, ...]
    languages: tuple[str, ...] = TRAIN_LANGUAGES
    variants: tuple[str, ...] = TRAIN_VARIANTS
    speed_wpm: tuple[int, int] = SPEED_WPM
    pitch: tuple[int, int] = PITCH
    speed_share: float = SPEED_SHARE
    colour_share: float = 0.0
    flite_voices: tuple[str, ...] = ()  # flite voices that say `flite_share` of the sentences
    flite_share: float = 0.0
    noise_only: bool = False  # only the noise bed: no speech at all
    humans_only: bool = False  # only the human recordings, each once, with pauses
    seed: int = 0


def stream_windows(
    recipe: StreamRecipe,
    features: SpeechFeatures,
    backgrounds: Backgrounds,
    cache: Cache,
    progress: Progress = _no_progress,
) -> dict[str, np.ndarray]:
    """Every frame of the stream as a negative window, in order."""
    key = {"recipe": _recipe_key(recipe), "backgrounds": _describe(backgrounds)}
    cached = cache.load(recipe.name, key, features)
    if cached is not None:
        return cached
    stream = FeatureStream(features)
    embeddings: list[np.ndarray] = []
    counts = {"sentences": 0, "human": 0, "noise_only": 0, "seconds": 0.0}
    total_frames = round(recipe.seconds * SAMPLE_RATE_HZ / FRAME_SAMPLES)
    if recipe.humans_only:  # every recording once, with up to 1.5 s before it
        human_samples = sum(h.size for h in backgrounds.humans) + round(1.5 * SAMPLE_RATE_HZ) * len(backgrounds.humans)
        total_frames = human_samples // FRAME_SAMPLES
    for block in stream_audio(recipe, backgrounds, counts):
        usable = block.size // FRAME_SAMPLES * FRAME_SAMPLES
        for start in range(0, usable, FRAME_SAMPLES):
            embeddings.append(stream.push(block[start : start + FRAME_SAMPLES]))
        counts["seconds"] += usable / SAMPLE_RATE_HZ
        progress(f"{recipe.name}: embedding", min(len(embeddings), total_frames), total_frames)
    array = np.stack(embeddings) if embeddings else np.zeros((0, 96), np.float32)
    windows = Windows()
    windows.add(array, features.silence_embedding, np.zeros(len(array)), np.ones(len(array)))
    arrays = windows.arrays()
    cache.save(recipe.name, key, features, arrays, counts)
    return arrays


def stream_audio(recipe: StreamRecipe, backgrounds: Backgrounds, counts: dict[str, Any]) -> Iterator[np.ndarray]:
    """The stream's audio, block by block (int16); `counts` tallies what went in."""
    rng = random.Random(f"{recipe.seed}:{recipe.name}")
    if recipe.humans_only:
        yield from _human_blocks(backgrounds, rng, counts)
        return
    block_samples = round(STREAM_BLOCK_S * SAMPLE_RATE_HZ)
    total = round(recipe.seconds * SAMPLE_RATE_HZ)
    sentences = list(recipe.sentences)
    made = 0
    while made < total:
        length = min(block_samples, total - made)
        audio = np.zeros(length, np.float64)
        levels: list[float] = []
        if not recipe.noise_only:
            position = 0
            for gap, clip in _segments(recipe, backgrounds, sentences, rng, counts, length):
                position += gap
                if position >= length:
                    break
                if clip.size == 0:  # a noise-only stretch: the bed alone
                    continue
                level = 10 ** (rng.uniform(*SPEECH_LEVEL_DBFS) / 20) * 32768
                piece = (clip.astype(np.float64) * level / max(_rms(clip), 1.0))[: length - position]
                audio[position : position + piece.size] = piece
                position += piece.size
                levels.append(level)
        bed_level = float(np.mean(levels)) if levels else 10 ** (rng.uniform(-45.0, -25.0) / 20) * 32768
        if recipe.noise_only:
            _, noise = backgrounds.pick_noise(rng)
            piece = _noise_slice(noise, length, rng).astype(np.float64)
            audio += piece * bed_level / max(_rms(piece), 1.0)
        else:
            audio, _ = add_noise(audio, bed_level, backgrounds, rng)
        made += length
        yield to_int16(audio)


def _segments(
    recipe: StreamRecipe,
    backgrounds: Backgrounds,
    sentences: list[str],
    rng: random.Random,
    counts: dict[str, Any],
    length: int,
) -> list[tuple[int, np.ndarray]]:
    """(gap before it, audio) per segment, enough to fill `length` samples; an empty array is a
    noise-only stretch of `gap` samples. Sentences are synthesized two at a time."""
    plan: list[tuple[int, str | np.ndarray]] = []
    estimate = 0
    while estimate < length:
        gap = round(rng.uniform(*STREAM_GAP_S) * SAMPLE_RATE_HZ)
        draw = rng.random()
        if draw < NOISE_ONLY_SHARE:
            stretch = round(rng.uniform(2.0, 5.0) * SAMPLE_RATE_HZ)
            plan.append((gap + stretch, np.zeros(0, np.int16)))
            estimate += gap + stretch
            counts["noise_only"] += 1
        elif draw < NOISE_ONLY_SHARE + HUMAN_SHARE and backgrounds.humans:
            clip = rng.choice(backgrounds.humans)
            plan.append((gap, clip))
            estimate += gap + clip.size
            counts["human"] += 1
        else:
            text = sentences[counts["sentences"] % len(sentences)]
            counts["sentences"] += 1
            plan.append((gap, text))
            estimate += gap + round(0.3 * len(text.split()) * SAMPLE_RATE_HZ)
    texts = [segment for _, segment in plan if isinstance(segment, str)]
    utterances = [
        Utterance(
            text,
            pick_voice(rng, recipe, text),
            speed=rng.uniform(*SPEED_FACTOR) if rng.random() < recipe.speed_share else None,
            colour=random_colour(rng) if recipe.colour_share > 0 and rng.random() < recipe.colour_share else (),
        )
        for text in texts
    ]
    clips = iter(synthesize_all(utterances, _no_progress, ""))
    segments = []
    for gap, segment in plan:
        if isinstance(segment, str):
            clip = next(clips)
            start, end = active_span(clip)
            segments.append((gap, clip[start:end]))
        else:
            segments.append((gap, segment))
    return segments


def _human_blocks(backgrounds: Backgrounds, rng: random.Random, counts: dict[str, Any]) -> Iterator[np.ndarray]:
    """Each human recording once, as recorded (no noise added), 0.5-1.5 s apart."""
    for clip in backgrounds.humans:
        pause = np.zeros(round(rng.uniform(0.5, 1.5) * SAMPLE_RATE_HZ), np.int16)
        counts["human"] += 1
        yield np.concatenate([pause, clip])


# --------------------------------------------------------------------------- cache


def _recipe_key(recipe: SceneRecipe | StreamRecipe) -> dict[str, Any]:
    """The fields that differ from their defaults: a new field with a default keeps old cache entries valid."""
    return {f.name: getattr(recipe, f.name) for f in fields(recipe) if getattr(recipe, f.name) != f.default}


def _describe(backgrounds: Backgrounds) -> dict[str, Any]:
    return {
        "noises": {
            name: [int(noise.size), hashlib.sha1(noise.tobytes()).hexdigest()[:12]]
            for name, noise in sorted(backgrounds.noises.items())
        },
        "humans": backgrounds.human_sources,
    }


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/assistant/wakeword, else ~/.cache/assistant/wakeword."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "assistant" / "wakeword"


class Cache:
    """Window sets on disk, named by a hash of their recipe and the feature models."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.summaries: dict[str, dict[str, Any]] = {}

    def _path(self, name: str, key: dict[str, Any], features: SpeechFeatures) -> Path:
        material = json.dumps({"version": DATA_VERSION, "key": key, "features": features.checksums}, sort_keys=True)
        digest = hashlib.sha256(material.encode()).hexdigest()[:16]
        return self.directory / f"{name}-{digest}.npz"

    def load(self, name: str, key: dict[str, Any], features: SpeechFeatures) -> dict[str, np.ndarray] | None:
        path = self._path(name, key, features)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                arrays = {k: stored[k] for k in ("rows", "starts", "labels", "weights", "groups")}
                self.summaries[name] = json.loads(str(stored["summary"]))
        except (OSError, ValueError, KeyError) as error:
            log.warning("%s: unreadable cache entry, rebuilding (%s)", path, error)
            return None
        log.info("%s: from cache %s", name, path)
        return arrays

    def save(
        self,
        name: str,
        key: dict[str, Any],
        features: SpeechFeatures,
        arrays: dict[str, np.ndarray],
        summary: dict[str, Any],
    ) -> None:
        path = self._path(name, key, features)
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.npz")
        np.savez(
            partial,
            rows=arrays["rows"],
            starts=arrays["starts"],
            labels=arrays["labels"],
            weights=arrays["weights"],
            groups=arrays["groups"],
            summary=np.array(json.dumps(summary)),
        )
        partial.replace(path)
        self.summaries[name] = summary

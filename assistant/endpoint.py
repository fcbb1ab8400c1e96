"""End-of-command endpointing: where a spoken command starts and stops.

After the wake word (or a button press) the `Endpointer` takes frames until the
command is over and hands back one `Utterance`:

- `silence`: `silence_timeout_ms` of non-speech followed speech;
- `max_length`: the command reached `max_command_s` (counted from its first speech frame);
- `end_of_stream`: the audio ended while the command was going on (`finish()`);
- `no_speech`: nobody spoke for `no_speech_timeout_s`.

A burst of speech shorter than `min_speech_ms` followed by silence is taken for
noise (a click, a clatter) and ignored.

Speech is the `VoiceActivityDetector`'s per-frame decision without hangover, so
`start_s` and `end_s` mark the first and last speech frames; the silence timeout
plays the part of the hangover. `samples` starts `preroll_ms` before the first
speech frame, so soft word onsets below the detector's threshold reach the
recognizer, and runs to where the command ended.

`split_utterances` cuts a long stream into every command it holds.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from assistant.audio import SAMPLE_RATE_HZ, iter_frames
from assistant.errors import AudioError
from assistant.vad import VoiceActivityDetector

if TYPE_CHECKING:
    from assistant.profiles import DeviceProfile

log = logging.getLogger(__name__)

EndReason = Literal["silence", "max_length", "end_of_stream", "no_speech"]
DEFAULT_PREROLL_MS = 240  # word onsets (a soft "f", "h" or "s") start up to ~200 ms before the energy rises
DEFAULT_NO_SPEECH_TIMEOUT_S = 4.0  # after the wake word, people start speaking within a second or two
# Shorter bursts are clicks and clatter; the shortest of 300 real one-word commands
# (Speech Commands sample) gives 320 ms of speech.
DEFAULT_MIN_SPEECH_MS = 200
SPEECH_PROBABILITY_THRESHOLD = 0.5


@dataclass(frozen=True, eq=False)
class Utterance:
    """One command as the endpointer heard it. Times are seconds since the stream's first frame."""

    samples: NDArray[np.int16]  # 16 kHz mono: from `audio_start_s`, pre-roll included, to where the command ended
    start_s: float  # start of the first speech frame (for no_speech: when the wait timed out)
    end_s: float  # end of the last speech frame
    reason: EndReason
    audio_start_s: float  # time of samples[0]: start_s minus the pre-roll that was available
    sample_rate_hz: int = SAMPLE_RATE_HZ

    @property
    def duration_s(self) -> float:
        """Length of `samples`, seconds."""
        return len(self.samples) / self.sample_rate_hz

    def to_dict(self) -> dict[str, Any]:
        """Everything but the samples themselves, for JSON."""
        return {
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "reason": self.reason,
            "audio_start_s": round(self.audio_start_s, 3),
            "duration_s": round(self.duration_s, 3),
        }


class Endpointer:
    """Finds the end of a spoken command in a stream of frames of `frame_ms` milliseconds.

    Push frames with `push`; it returns an `Utterance` when a command ends (or no
    speech came), and then starts listening for the next one. Call `finish` when
    the stream ends. Times run from the first frame ever pushed.

    Every pushed frame goes to `vad.speech_probability`. Pass the detector that
    already gates the wake word, so the noise is known when the command starts
    (each frame must reach the detector once: through `is_speech` while waiting
    for the wake word, through `push` after it).
    """

    def __init__(
        self,
        frame_ms: int,
        silence_timeout_ms: int,
        max_command_s: float,
        vad: VoiceActivityDetector | None = None,
        *,
        sample_rate_hz: int = SAMPLE_RATE_HZ,
        preroll_ms: int = DEFAULT_PREROLL_MS,
        no_speech_timeout_s: float = DEFAULT_NO_SPEECH_TIMEOUT_S,
        min_speech_ms: int = DEFAULT_MIN_SPEECH_MS,
    ) -> None:
        if frame_ms <= 0 or silence_timeout_ms <= 0 or max_command_s <= 0 or no_speech_timeout_s <= 0:
            raise ValueError(
                f"endpointer times must be positive: frame {frame_ms} ms, silence timeout {silence_timeout_ms} ms, "
                f"max command {max_command_s} s, no-speech timeout {no_speech_timeout_s} s"
            )
        self.frame_ms = frame_ms
        self.frame_samples = round(frame_ms * sample_rate_hz / 1000)
        self.sample_rate_hz = sample_rate_hz
        self.silence_timeout_ms = silence_timeout_ms
        self.max_command_s = max_command_s
        self.no_speech_timeout_s = no_speech_timeout_s
        self.min_speech_ms = min_speech_ms
        self.vad = vad if vad is not None else VoiceActivityDetector(sample_rate_hz)
        self._preroll: deque[NDArray[np.int16]] = deque(maxlen=math.ceil(preroll_ms / frame_ms))
        self._frames_seen = 0  # since the stream started: the clock
        self.reset()

    @classmethod
    def from_profile(cls, profile: DeviceProfile, vad: VoiceActivityDetector | None = None) -> Endpointer:
        """An endpointer with the frame size, silence timeout and maximum length of a device profile."""
        audio = profile.audio
        return cls(
            frame_ms=audio.frame_ms,
            silence_timeout_ms=audio.silence_timeout_ms,
            max_command_s=audio.max_command_s,
            vad=vad if vad is not None else VoiceActivityDetector(audio.sample_rate_hz),
            sample_rate_hz=audio.sample_rate_hz,
        )

    def reset(self) -> None:
        """Drop any command in progress and wait for speech again (the noise estimate is kept)."""
        self._preroll.clear()
        self._command: list[NDArray[np.int16]] = []  # pre-roll and every frame since the first speech frame
        self._waiting_since = self._frames_seen
        self._audio_start_frame = 0
        self._first_speech_frame: int | None = None
        self._last_speech_frame = 0

    @property
    def in_command(self) -> bool:
        """Whether speech has started and the command is not over yet."""
        return self._first_speech_frame is not None

    def push(self, frame: NDArray[np.int16]) -> Utterance | None:
        """Take the next frame; the finished command, if this frame ended it."""
        if len(frame) != self.frame_samples:
            raise AudioError(f"the endpointer takes frames of {self.frame_samples} samples, got {len(frame)}")
        index = self._frames_seen
        self._frames_seen += 1
        speech = self.vad.speech_probability(frame) > SPEECH_PROBABILITY_THRESHOLD
        if self._first_speech_frame is None:
            if not speech:
                self._preroll.append(frame)
                if self._seconds(self._frames_seen - self._waiting_since) >= self.no_speech_timeout_s:
                    return self._no_speech()
                return None
            self._audio_start_frame = index - len(self._preroll)
            self._command = [*self._preroll, frame]
            self._preroll.clear()
            self._first_speech_frame = index
        else:
            self._command.append(frame)
        if speech:
            self._last_speech_frame = index
        first = self._first_speech_frame
        if 1000 * self._seconds(index - self._last_speech_frame) >= self.silence_timeout_ms:
            if self._too_short(first):
                return self._ignore_burst()
            return self._end("silence", first)
        if self._seconds(index + 1 - first) >= self.max_command_s:
            return self._end("max_length", first)
        return None

    def finish(self) -> Utterance | None:
        """The stream ended: the command in progress (`end_of_stream`), `no_speech` if frames came
        but no speech, None if no frame came since the last utterance."""
        first = self._first_speech_frame
        if first is not None and not self._too_short(first):
            return self._end("end_of_stream", first)
        if self._frames_seen > self._waiting_since:
            return self._no_speech()
        return None

    def _seconds(self, frames: int) -> float:
        return frames * self.frame_samples / self.sample_rate_hz

    def _too_short(self, first_speech_frame: int) -> bool:
        return 1000 * self._seconds(self._last_speech_frame + 1 - first_speech_frame) < self.min_speech_ms

    def _ignore_burst(self) -> Utterance | None:
        """Back to waiting as if the burst had not been speech; the no-speech clock keeps running."""
        log.debug("ignoring a burst of speech shorter than %d ms", self.min_speech_ms)
        self._preroll.extend(self._command)  # the deque keeps only the last pre-roll's worth
        self._command = []
        self._first_speech_frame = None
        if self._seconds(self._frames_seen - self._waiting_since) >= self.no_speech_timeout_s:
            return self._no_speech()
        return None

    def _end(self, reason: EndReason, first_speech_frame: int) -> Utterance:
        utterance = Utterance(
            samples=np.concatenate(self._command),
            start_s=self._seconds(first_speech_frame),
            end_s=self._seconds(self._last_speech_frame + 1),
            reason=reason,
            audio_start_s=self._seconds(self._audio_start_frame),
            sample_rate_hz=self.sample_rate_hz,
        )
        log.debug("utterance %s", utterance.to_dict())
        self.reset()
        return utterance

    def _no_speech(self) -> Utterance:
        now_s = self._seconds(self._frames_seen)
        self._waiting_since = self._frames_seen  # keep waiting, pre-roll included
        return Utterance(
            samples=np.zeros(0, dtype=np.int16),
            start_s=now_s,
            end_s=now_s,
            reason="no_speech",
            audio_start_s=now_s,
            sample_rate_hz=self.sample_rate_hz,
        )


def split_utterances(frames: Iterable[NDArray[np.int16]], endpointer: Endpointer) -> list[Utterance]:
    """Every command in a stream of frames, in order; stretches with no speech are skipped."""
    utterances = [utterance for frame in frames if (utterance := endpointer.push(frame)) is not None]
    last = endpointer.finish()
    utterances += [last] if last is not None else []
    return [utterance for utterance in utterances if utterance.reason != "no_speech"]


def command_span(samples: NDArray[np.int16], profile: DeviceProfile) -> NDArray[np.int16]:
    """A recording of one command cut as the device's endpointer cuts it: from the
    pre-roll before the first speech to where the last speech's silence timeout
    ends. Recordings and synthesized test commands hold silence around the words
    that a device never decodes, and PocketSphinx in grammar mode measurably
    decodes worse with it (espeak-ng commands padded with silence came out as
    other commands). No speech at all: the recording as it is."""
    endpointer = Endpointer.from_profile(profile)  # a fresh one: its clock starts at this recording
    utterances = split_utterances(iter_frames(samples, endpointer.frame_samples), endpointer)
    if not utterances:
        return samples
    begin = round(utterances[0].audio_start_s * endpointer.sample_rate_hz)
    end = round(utterances[-1].audio_start_s * endpointer.sample_rate_hz) + len(utterances[-1].samples)
    return samples[begin:end]

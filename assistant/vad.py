"""Voice activity detection: is there speech in this frame? Cheap enough to run always.

It runs before the wake word on a watch, so it must cost almost nothing: one FFT
of the frame, the energy in the speech band (200-6000 Hz), and a comparison with
the background noise, all in numpy. The decision rule:

1. The noise floor follows the band energy down quickly and up slowly
   (`FLOOR_RISE_DB_PER_S`), so it sits under the noise and ignores speech, whose
   energy keeps falling back between syllables and words.
2. How far noise alone rises above that floor is learned on the frames judged
   not speech (a running 90th percentile): steady fan or hiss stays within a dB
   or two, a kitchen with clattering dishes swings 8 dB and more.
3. A frame is speech when it rises above the floor by more than that swing plus
   a margin, kept between `MIN_SNR_DB` and `MAX_SNR_DB`.
4. `is_speech` holds a decision for `hangover_frames` more frames, so the quiet
   ends of words and short pauses inside a command stay speech.

Energy says nothing about *what* makes the sound: loud non-speech (a dropped
pan) passes as speech for a frame or two. The wake word and recognizer that
follow reject it; this stage only has to keep silence and steady noise out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from assistant.audio import SAMPLE_RATE_HZ

SPEECH_BAND_HZ = (200.0, 6000.0)  # below: hum and rumble; above: hiss. Fricatives reach 6 kHz
FLOOR_RISE_DB_PER_S = 3.0  # the noise floor climbs this fast; a 10 dB step in noise takes ~3 s to learn
FLOOR_FALL_FRACTION = 0.5  # per frame, the floor moves this far down towards a quieter frame
MIN_SNR_DB = 6.0  # a frame must be at least this far above the floor to be speech
MAX_SNR_DB = 15.0  # ... and never needs more, however much the noise swings
SWING_MARGIN_DB = 3.0  # above the 90th percentile of the noise's own swing above the floor
SWING_QUANTILE = 0.9
SWING_STEP_DB_PER_S = 6.0  # how fast the swing estimate moves (stochastic quantile tracking)
INITIAL_SWING_DB = 3.0  # until the noise is known: the threshold starts at MIN_SNR_DB
SILENCE_FLOOR_DBFS = -70.0  # quieter than any microphone's self-noise; digital silence is not a floor
PROBABILITY_SLOPE_DB = 2.0  # speech_probability goes from 0.27 to 0.73 across 4 dB around the threshold
DEFAULT_HANGOVER_FRAMES = 3  # 240 ms at 80 ms frames
ENERGY_EPSILON = 1e-12  # keeps log10 finite on digital silence


@dataclass(frozen=True)
class _FrameAnalysis:
    """Precomputed per frame length: the window and which FFT bins are in the speech band."""

    window: NDArray[np.float64]
    band: NDArray[np.bool_]
    scale: float  # turns summed |FFT|^2 into mean power relative to int16 full scale


class VoiceActivityDetector:
    """Per-frame speech/no-speech on 16 kHz int16 frames (any fixed length; 80 ms by default).

    Feed every frame of the stream, in order, to exactly one of `is_speech` or
    `speech_probability`: both learn the noise from it.
    """

    def __init__(
        self,
        sample_rate_hz: int = SAMPLE_RATE_HZ,
        *,
        hangover_frames: int = DEFAULT_HANGOVER_FRAMES,
        min_snr_db: float = MIN_SNR_DB,
        max_snr_db: float = MAX_SNR_DB,
    ) -> None:
        if min_snr_db > max_snr_db:
            raise ValueError(f"min_snr_db {min_snr_db} is above max_snr_db {max_snr_db}")
        self.sample_rate_hz = sample_rate_hz
        self.hangover_frames = hangover_frames
        self.min_snr_db = min_snr_db
        self.max_snr_db = max_snr_db
        self._analyses: dict[int, _FrameAnalysis] = {}
        self.reset()

    def reset(self) -> None:
        """Forget the noise and any hangover, as for a new stream."""
        self._floor_db: float | None = None
        self._swing_db = INITIAL_SWING_DB
        self._hangover_left = 0
        self.last_energy_dbfs = -math.inf  # speech-band energy of the last frame, dB re int16 full scale

    @property
    def noise_floor_dbfs(self) -> float | None:
        """The current noise floor in the speech band, dB re int16 full scale (None before any frame)."""
        return self._floor_db

    @property
    def threshold_db(self) -> float:
        """How far above the floor a frame must be to count as speech, dB."""
        return min(self.max_snr_db, max(self.min_snr_db, self._swing_db + SWING_MARGIN_DB))

    def speech_probability(self, frame: NDArray[np.int16]) -> float:
        """How likely `frame` is speech, from 0 to 1 (0.5 at the threshold); no hangover.

        Also learns the noise from the frame.
        """
        energy = self._band_energy_dbfs(frame)
        self.last_energy_dbfs = energy
        if self._floor_db is None:
            self._floor_db = energy
        reference = max(self._floor_db, SILENCE_FLOOR_DBFS)
        above_floor = energy - reference
        threshold = self.threshold_db
        frame_s = len(frame) / self.sample_rate_hz
        if above_floor <= threshold:  # noise: learn how far it swings above the floor
            step = SWING_STEP_DB_PER_S * frame_s
            self._swing_db += step * (SWING_QUANTILE - float(above_floor < self._swing_db))
        change = energy - self._floor_db
        self._floor_db += FLOOR_FALL_FRACTION * change if change < 0 else min(change, FLOOR_RISE_DB_PER_S * frame_s)
        return 1.0 / (1.0 + math.exp(-(above_floor - threshold) / PROBABILITY_SLOPE_DB))

    def is_speech(self, frame: NDArray[np.int16]) -> bool:
        """Whether `frame` is speech, held `hangover_frames` frames after the last speech frame."""
        if self.speech_probability(frame) > 0.5:
            self._hangover_left = self.hangover_frames
            return True
        if self._hangover_left > 0:
            self._hangover_left -= 1
            return True
        return False

    def _band_energy_dbfs(self, frame: NDArray[np.int16]) -> float:
        """Mean power of `frame` in the speech band, dB relative to int16 full scale (32768 squared)."""
        analysis = self._analyses.get(len(frame)) or self._analyse(len(frame))
        spectrum = np.fft.rfft(frame * analysis.window)
        power = float(np.sum(spectrum.real[analysis.band] ** 2 + spectrum.imag[analysis.band] ** 2))
        return 10.0 * math.log10(power * analysis.scale + ENERGY_EPSILON)

    def _analyse(self, frame_samples: int) -> _FrameAnalysis:
        if frame_samples < 2:
            raise ValueError(f"a frame of {frame_samples} samples is too short for voice activity detection")
        window = np.hanning(frame_samples)
        frequencies = np.fft.rfftfreq(frame_samples, 1.0 / self.sample_rate_hz)
        band = (frequencies >= SPEECH_BAND_HZ[0]) & (frequencies < SPEECH_BAND_HZ[1])
        # Parseval: mean square of the windowed frame = 2 * sum |X|^2 / (N * sum w^2) over positive bins.
        scale = 2.0 / (frame_samples * float(np.sum(window**2))) / 32768.0**2
        analysis = _FrameAnalysis(window=window, band=band, scale=scale)
        self._analyses[frame_samples] = analysis
        return analysis

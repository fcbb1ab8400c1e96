"""Band-limited sample-rate conversion in numpy: polyphase Kaiser-windowed sinc.

A rate change by the reduced ratio L/M (16000/44100 = 160/441) puts output
sample n at input position n * M / L. Its value is the input convolved with a
low-pass sinc kernel centred there; the kernel is sampled at the L fractional
offsets the positions can take (the polyphase bank), so each output sample costs
one dot product of `2 * half_width` taps. The kernel's cut-off sits just below
the lower of the two Nyquist frequencies, which removes what would alias when
downsampling and the images when upsampling; the Kaiser window sets the stop-band
attenuation. The output is centred on the input: no delay to compensate.

Speech recognizers read up to about 7.6 kHz at 16 kHz, so the pass band keeps
95% of the lower Nyquist frequency and everything above it is gone by Nyquist.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

PASSBAND_EDGE = 0.95  # pass band ends at this fraction of the lower Nyquist frequency (7.6 kHz at 16 kHz)
STOPBAND_EDGE = 1.0  # stop band starts at the lower Nyquist frequency: nothing above it folds back
STOPBAND_ATTENUATION_DB = 80.0  # below the 16-bit noise floor of speech recordings
OUTPUT_BLOCK_SAMPLES = 8192  # output samples computed per matrix product, to bound memory


def resample(samples: NDArray[np.floating], from_hz: int, to_hz: int) -> NDArray[np.float64]:
    """`samples` (1-D, any scale) taken at `from_hz` Hz, resampled to `to_hz` Hz.

    The output has `ceil(len(samples) * to_hz / from_hz)` samples and the same
    scale; output sample n lies at input time n / to_hz seconds.
    """
    if from_hz <= 0 or to_hz <= 0:
        raise ValueError(f"sample rates must be positive, got {from_hz} Hz -> {to_hz} Hz")
    signal = np.asarray(samples, dtype=np.float64)
    if signal.ndim != 1:
        raise ValueError(f"resample takes 1-D samples, got shape {signal.shape}")
    if from_hz == to_hz:
        return np.array(signal, dtype=np.float64)
    gcd = math.gcd(from_hz, to_hz)
    up, down = to_hz // gcd, from_hz // gcd  # L and M
    n_out = -(-len(signal) * up // down)
    if n_out == 0:
        return np.zeros(0)
    bank = _polyphase_bank(from_hz, to_hz)  # (L, taps)
    taps = bank.shape[1]
    half = taps // 2
    # Output n reads input[base - half + 1 : base + half + 1] with base = n * M // L;
    # in the padded signal that window starts at base + 1.
    padded = np.concatenate([np.zeros(half), signal, np.zeros(half + 1)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, taps)  # (len(padded) - taps + 1, taps), no copy
    out = np.empty(n_out)
    for phase_start in range(min(up, n_out)):
        # Outputs phase_start, phase_start + L, ... share one fractional offset,
        # and their windows start M input samples apart.
        count = -(-(n_out - phase_start) // up)
        first_window = phase_start * down // up + 1
        kernel = bank[(phase_start * down) % up]
        for block in range(0, count, OUTPUT_BLOCK_SAMPLES):
            block_count = min(OUTPUT_BLOCK_SAMPLES, count - block)
            start = first_window + block * down
            rows = windows[start : start + block_count * down : down]  # (block_count, taps)
            out[phase_start + block * up : phase_start + (block + block_count) * up : up] = rows @ kernel
    return out


@lru_cache(maxsize=16)
def _polyphase_bank(from_hz: int, to_hz: int) -> NDArray[np.float64]:
    """The kernel sampled at every fractional offset: row p is for offset p / L input samples.

    Taps are in input-sample spacing; each row sums to about 1 (unity gain at 0 Hz).
    """
    gcd = math.gcd(from_hz, to_hz)
    up = to_hz // gcd
    nyquist_hz = min(from_hz, to_hz) / 2
    cutoff_hz = nyquist_hz * (PASSBAND_EDGE + STOPBAND_EDGE) / 2
    transition_hz = nyquist_hz * (STOPBAND_EDGE - PASSBAND_EDGE)
    # Kaiser's estimates of the window length and shape for the wanted attenuation.
    length = (STOPBAND_ATTENUATION_DB - 7.95) / (2.285 * 2 * math.pi * transition_hz / from_hz)
    half = max(2, math.ceil(length / 2))
    beta = 0.1102 * (STOPBAND_ATTENUATION_DB - 8.7)
    cutoff = cutoff_hz / from_hz  # cycles per input sample
    offsets = np.arange(up)[:, None] / up  # (L, 1)
    # Tap i of output with fractional offset f sits (f + half - 1 - i) input samples before it.
    distance = offsets + half - 1 - np.arange(2 * half)[None, :]  # (L, 2 * half)
    window = _kaiser(distance / half, beta)
    return np.asarray(2 * cutoff * np.sinc(2 * cutoff * distance) * window, dtype=np.float64)


def _kaiser(position: NDArray[np.float64], beta: float) -> NDArray[np.float64]:
    """Kaiser window at `position` in [-1, 1] (0 outside), for arbitrary real positions."""
    inside = np.clip(1.0 - position**2, 0.0, None)
    return np.asarray(np.i0(beta * np.sqrt(inside)) / np.i0(beta) * (np.abs(position) <= 1.0), dtype=np.float64)

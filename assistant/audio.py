"""Audio in: WAV files, raw PCM streams and the microphone, as fixed-size frames.

Everything downstream (voice activity, wake word, recognizer) sees one format:
16 kHz mono 16-bit audio (`numpy.int16`, 1-D) cut into frames of a fixed number
of samples, 1280 (80 ms) by default, the profile's `audio.frame_ms`.

- `read_wav` / `write_wav`: any WAV file in (8/16/24/32-bit PCM or 32/64-bit
  float, any rate, any channel count), 16 kHz mono int16 out.
- `mix_at_snr`: speech plus noise at a chosen signal-to-noise ratio.
- `Framer`: chunks of any size in, identical frames out whatever the chunk size.
- `AudioSource`: `WavSource`, `PcmStreamSource` (stdin), `MicrophoneSource`
  (sounddevice), and `open_source("mic" | "-" | path)`.
"""

from __future__ import annotations

import importlib
import logging
import queue
import struct
import sys
import threading
import wave
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Protocol, TypeVar, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from assistant.errors import AudioError
from assistant.resample import resample

log = logging.getLogger(__name__)

SAMPLE_RATE_HZ = 16000  # what the recognizers and the wake-word model are trained on
SAMPLE_WIDTH_BYTES = 2  # int16
DEFAULT_FRAME_MS = 80
DEFAULT_FRAME_SAMPLES = 1280  # 80 ms at 16 kHz: the wake-word model's hop
INT16_MIN, INT16_MAX = -32768, 32767
MICROPHONE_STALL_TIMEOUT_S = 2.0  # a microphone that delivers nothing for this long has failed
PCM_DTYPE = np.dtype("<i2")  # raw streams and WAV data are little-endian

Samples = NDArray[np.int16]


def frame_samples_for(frame_ms: float, sample_rate_hz: int = SAMPLE_RATE_HZ) -> int:
    """Samples in one frame of `frame_ms` milliseconds at `sample_rate_hz` Hz."""
    samples = round(frame_ms * sample_rate_hz / 1000)
    if samples < 1:
        raise AudioError(f"a frame of {frame_ms} ms at {sample_rate_hz} Hz holds no samples")
    return samples


# --------------------------------------------------------------------------- WAV files

WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_EXTENSIBLE = 0xFFFE  # the real format is in the first 2 bytes of the sub-format GUID
UNSUPPORTED_FORMATS = {
    0x0002: "Microsoft ADPCM",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0055: "MP3",
}
STREAMING_DATA_SIZE = 0xFFFFFFFF  # written by encoders that cannot seek back: "until the end of the file"


@dataclass(frozen=True)
class WavFormat:
    """What a WAV file's `fmt ` chunk says about its audio."""

    encoding: int  # WAVE_FORMAT_PCM or WAVE_FORMAT_IEEE_FLOAT
    channels: int
    sample_rate_hz: int
    bits_per_sample: int  # container size of one sample of one channel, bits
    block_bytes: int  # one sample of every channel, bytes


def read_wav(path: Path | str, sample_rate_hz: int = SAMPLE_RATE_HZ) -> Samples:
    """The audio of the WAV file at `path` as mono int16 at `sample_rate_hz` Hz.

    Channels are averaged; other rates are resampled band-limited
    (`assistant.resample`). Raises `AudioError` naming the file when it cannot be
    read, is not a WAV file, is truncated, or uses an encoding other than integer
    PCM (8, 16, 24, 32 bits) or IEEE float (32, 64 bits).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except OSError as error:
        raise AudioError(f"{path}: cannot read ({error.strerror or error})") from error
    fmt, payload = _parse_wav(path, data)
    pcm16 = fmt.encoding == WAVE_FORMAT_PCM and fmt.bits_per_sample == 16
    if pcm16 and fmt.channels == 1 and fmt.sample_rate_hz == sample_rate_hz:
        return np.frombuffer(payload, dtype=PCM_DTYPE).astype(np.int16)
    signal = _decode(fmt, payload)  # (frames, channels), int16 scale
    mono = signal.mean(axis=1) if fmt.channels > 1 else signal[:, 0]
    if fmt.sample_rate_hz != sample_rate_hz:
        mono = resample(mono, fmt.sample_rate_hz, sample_rate_hz)
    return to_int16(mono)


def write_wav(path: Path | str, samples: NDArray[np.int16], sample_rate_hz: int = SAMPLE_RATE_HZ) -> None:
    """Write mono int16 `samples` at `sample_rate_hz` Hz as a 16-bit PCM WAV file."""
    path = Path(path)
    if samples.dtype != np.int16 or samples.ndim != 1:
        raise AudioError(f"{path}: write_wav takes 1-D int16 samples, got {samples.dtype} of shape {samples.shape}")
    try:
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(SAMPLE_WIDTH_BYTES)
            out.setframerate(sample_rate_hz)
            out.writeframes(samples.astype(PCM_DTYPE).tobytes())
    except OSError as error:
        raise AudioError(f"{path}: cannot write ({error.strerror or error})") from error


def to_int16(signal: NDArray[np.floating] | NDArray[np.integer]) -> Samples:
    """Float or wide-integer samples in int16 scale, rounded and clipped to int16."""
    clipped: Samples = np.clip(np.rint(signal), INT16_MIN, INT16_MAX).astype(np.int16)
    return clipped


def _parse_wav(path: Path, data: bytes) -> tuple[WavFormat, bytes]:
    """The format and the raw audio bytes of a RIFF/WAVE file's contents."""
    if len(data) < 12 or data[8:12] != b"WAVE" or data[:4] not in (b"RIFF", b"RIFX", b"RF64"):
        raise AudioError(f"{path}: not a WAV file (it starts with {data[:12]!r})")
    if data[:4] != b"RIFF":
        raise AudioError(f"{path}: {data[:4].decode()} WAV files are not supported (only little-endian RIFF)")
    fmt: WavFormat | None = None
    position = 12
    while position + 8 <= len(data):
        chunk_id = data[position : position + 4]
        (size,) = struct.unpack_from("<I", data, position + 4)
        body_start = position + 8
        if chunk_id == b"fmt ":
            fmt = _parse_fmt(path, data[body_start : body_start + size])
        elif chunk_id == b"data":
            if fmt is None:
                raise AudioError(f"{path}: malformed WAV file: the data chunk comes before the fmt chunk")
            available = len(data) - body_start
            if size == STREAMING_DATA_SIZE:
                log.debug("%s: data size unknown (streamed WAV); reading to the end of the file", path)
                size = available - available % fmt.block_bytes
            if size > available:
                raise AudioError(f"{path}: truncated: the header promises {size} bytes of audio but {available} follow")
            if size % fmt.block_bytes:
                raise AudioError(
                    f"{path}: truncated: {size} bytes of audio is not a whole number of {fmt.block_bytes}-byte samples"
                )
            return fmt, data[body_start : body_start + size]
        position = body_start + size + (size & 1)  # chunks are padded to an even length
    if fmt is None:
        raise AudioError(f"{path}: truncated or malformed WAV file: no fmt chunk")
    raise AudioError(f"{path}: truncated or malformed WAV file: no data chunk")


def _parse_fmt(path: Path, body: bytes) -> WavFormat:
    if len(body) < 16:
        raise AudioError(f"{path}: truncated WAV file: the fmt chunk has {len(body)} bytes, needs at least 16")
    encoding, channels, rate, _, block_bytes, bits = struct.unpack_from("<HHIIHH", body)
    if encoding == WAVE_FORMAT_EXTENSIBLE:
        if len(body) < 26:
            raise AudioError(f"{path}: truncated WAV file: extensible fmt chunk without its sub-format")
        (encoding,) = struct.unpack_from("<H", body, 24)
    if encoding not in (WAVE_FORMAT_PCM, WAVE_FORMAT_IEEE_FLOAT):
        name = UNSUPPORTED_FORMATS.get(encoding, "unknown")
        raise AudioError(
            f"{path}: unsupported WAV encoding 0x{encoding:04x} ({name}); convert it to PCM, e.g. "
            f"sox {path.name} -b 16 out.wav"
        )
    supported_bits = (8, 16, 24, 32) if encoding == WAVE_FORMAT_PCM else (32, 64)
    kind = "integer PCM" if encoding == WAVE_FORMAT_PCM else "float"
    if bits not in supported_bits:
        raise AudioError(f"{path}: unsupported {bits}-bit {kind} WAV (supported: {supported_bits} bits)")
    if channels < 1 or rate < 1:
        raise AudioError(f"{path}: malformed WAV file: {channels} channels at {rate} Hz")
    if block_bytes != channels * bits // 8:
        raise AudioError(
            f"{path}: malformed WAV file: block size {block_bytes} bytes for {channels} channels of {bits} bits"
        )
    return WavFormat(encoding, channels, rate, bits, block_bytes)


def _decode(fmt: WavFormat, payload: bytes) -> NDArray[np.float64]:
    """Raw WAV audio as floats in int16 scale, shape (frames, channels)."""
    bits = fmt.bits_per_sample
    if fmt.encoding == WAVE_FORMAT_IEEE_FLOAT:
        floats = np.frombuffer(payload, dtype="<f4" if bits == 32 else "<f8")
        values = np.nan_to_num(floats.astype(np.float64)) * -INT16_MIN
    elif bits == 8:  # unsigned, silence at 128
        values = (np.frombuffer(payload, dtype=np.uint8).astype(np.float64) - 128) * 256
    elif bits == 16:
        values = np.frombuffer(payload, dtype=PCM_DTYPE).astype(np.float64)
    elif bits == 24:
        octets = np.frombuffer(payload, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        packed = octets[:, 0] | (octets[:, 1] << 8) | (octets[:, 2] << 16)
        values = ((packed << 8) >> 8).astype(np.float64) / 256  # sign-extend from bit 23
    else:
        values = np.frombuffer(payload, dtype="<i4").astype(np.float64) / 65536
    return values.reshape(-1, fmt.channels)


# --------------------------------------------------------------------------- mixing


def mix_at_snr(speech: NDArray[np.int16], noise: NDArray[np.int16], snr_db: float) -> Samples:
    """`speech` plus `noise` scaled so that speech power / noise power is `snr_db` dB.

    Powers are mean squares over the whole `speech` signal and the noise after it
    is looped or cropped to the speech's length (the Picovoice speech-to-intent
    benchmark's method). The sum is clipped to int16.
    """
    if len(speech) == 0:
        return np.zeros(0, dtype=np.int16)
    if len(noise) == 0:
        raise AudioError("mix_at_snr: the noise is empty")
    speech_f = speech.astype(np.float64)
    noise_f = np.resize(noise.astype(np.float64), len(speech))  # np.resize repeats the noise
    speech_power = float(np.mean(speech_f**2))
    noise_power = float(np.mean(noise_f**2))
    if noise_power == 0:
        raise AudioError("mix_at_snr: the noise is silent (all zeros); no gain reaches a finite SNR")
    gain = np.sqrt(speech_power / (noise_power * 10 ** (snr_db / 10)))
    return to_int16(speech_f + gain * noise_f)


# --------------------------------------------------------------------------- framing


class Framer:
    """Regroups PCM chunks of any size into frames of exactly `frame_samples` samples.

    Chunks are raw little-endian 16-bit bytes (an odd byte waits for its partner)
    or int16 arrays. The frames depend only on the samples, never on how they were
    chunked.
    """

    def __init__(self, frame_samples: int = DEFAULT_FRAME_SAMPLES) -> None:
        if frame_samples < 1:
            raise AudioError(f"a frame needs at least one sample, got {frame_samples}")
        self.frame_samples = frame_samples
        self._frame_bytes = frame_samples * SAMPLE_WIDTH_BYTES
        self._pending = bytearray()

    @property
    def pending_samples(self) -> int:
        """Whole samples waiting for the rest of their frame."""
        return len(self._pending) // SAMPLE_WIDTH_BYTES

    def push(self, chunk: bytes | bytearray | memoryview | NDArray[np.int16]) -> list[Samples]:
        """Add a chunk; return the frames it completes (possibly none)."""
        if isinstance(chunk, np.ndarray):
            if chunk.dtype != np.int16 or chunk.ndim != 1:
                raise AudioError(f"audio chunks must be 1-D int16 arrays or bytes, got {chunk.dtype} {chunk.shape}")
            self._pending += chunk.astype(PCM_DTYPE).tobytes()
        else:
            self._pending += chunk
        whole = len(self._pending) - len(self._pending) % self._frame_bytes
        if whole == 0:
            return []
        frames = np.frombuffer(bytes(self._pending[:whole]), dtype=PCM_DTYPE).astype(np.int16)
        del self._pending[:whole]
        return list(frames.reshape(-1, self.frame_samples))

    def flush(self) -> Samples | None:
        """The last partial frame zero-padded to full length, or None if nothing is pending."""
        if len(self._pending) % SAMPLE_WIDTH_BYTES:
            log.warning("audio stream ended in the middle of a sample; dropping its odd last byte")
        samples = np.frombuffer(bytes(self._pending[: self.pending_samples * 2]), dtype=PCM_DTYPE)
        self._pending.clear()
        if len(samples) == 0:
            return None
        frame = np.zeros(self.frame_samples, dtype=np.int16)
        frame[: len(samples)] = samples
        return frame


def iter_frames(samples: NDArray[np.int16], frame_samples: int = DEFAULT_FRAME_SAMPLES) -> Iterator[Samples]:
    """`samples` cut into frames of `frame_samples`, the last one zero-padded."""
    framer = Framer(frame_samples)
    yield from framer.push(samples)
    last = framer.flush()
    if last is not None:
        yield last


def iter_chunks(samples: NDArray[np.int16], chunk_bytes: int) -> Iterable[bytes]:
    """`samples` as little-endian PCM bytes in chunks of `chunk_bytes` (the last shorter)."""
    data = samples.astype(PCM_DTYPE).tobytes()
    return (data[start : start + chunk_bytes] for start in range(0, len(data), chunk_bytes))


# --------------------------------------------------------------------------- sources

SourceT = TypeVar("SourceT", bound="_ClosingSource")


@runtime_checkable
class AudioSource(Protocol):
    """Where audio comes from: 16 kHz mono int16 frames of `frame_samples` samples."""

    @property
    def sample_rate_hz(self) -> int: ...

    @property
    def frame_samples(self) -> int: ...

    def frames(self) -> Iterator[Samples]:
        """Frames until the source ends or is closed; the last one zero-padded."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> AudioSource: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...


class _ClosingSource:
    """Shared plumbing of the sources: fixed rate and frame size, `with` closes."""

    def __init__(self, frame_samples: int) -> None:
        if frame_samples < 1:
            raise AudioError(f"a frame needs at least one sample, got {frame_samples}")
        self._frame_samples = frame_samples
        self._closed = threading.Event()

    @property
    def sample_rate_hz(self) -> int:
        return SAMPLE_RATE_HZ

    @property
    def frame_samples(self) -> int:
        return self._frame_samples

    def close(self) -> None:
        """Stop delivering frames; `frames()` ends at its next frame."""
        self._closed.set()

    def __enter__(self: SourceT) -> SourceT:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class WavSource(_ClosingSource):
    """Frames of a WAV file (any format `read_wav` reads), the last one zero-padded.

    The file is read when the source is made, so a bad file fails at once.
    """

    def __init__(self, path: Path | str, frame_samples: int = DEFAULT_FRAME_SAMPLES) -> None:
        super().__init__(frame_samples)
        self.path = Path(path)
        self.samples = read_wav(self.path)

    def frames(self) -> Iterator[Samples]:
        for frame in iter_frames(self.samples, self.frame_samples):
            if self._closed.is_set():
                return
            yield frame


class PcmStreamSource(_ClosingSource):
    """Frames of raw 16 kHz mono 16-bit little-endian PCM from a binary stream (stdin, a pipe, a socket).

    Reads one frame's worth at a time, so a live stream is not delayed; the last
    partial frame is zero-padded. `close_stream` also closes `stream` on `close()`.
    """

    def __init__(
        self, stream: BinaryIO, frame_samples: int = DEFAULT_FRAME_SAMPLES, *, close_stream: bool = False
    ) -> None:
        super().__init__(frame_samples)
        self.stream = stream
        self.close_stream = close_stream

    def frames(self) -> Iterator[Samples]:
        framer = Framer(self.frame_samples)
        read_bytes = self.frame_samples * SAMPLE_WIDTH_BYTES
        while not self._closed.is_set():
            chunk = self.stream.read(read_bytes)
            if not chunk:
                last = framer.flush()
                if last is not None:
                    yield last
                return
            yield from framer.push(chunk)

    def close(self) -> None:
        super().close()
        if self.close_stream:
            self.stream.close()


class MicrophoneSource(_ClosingSource):
    """Frames from a microphone through sounddevice (PortAudio), 16 kHz mono int16.

    In callback mode (the default) PortAudio's audio thread only puts the bytes it
    captured on a queue, so it never waits on us; `frames()` takes them off and
    cuts frames. `blocking=True` reads frames with `RawInputStream.read` instead,
    with no extra thread. `device` is a PortAudio device index or name (None: the
    system default). `frames()` runs until `close()`.
    """

    def __init__(
        self,
        frame_samples: int = DEFAULT_FRAME_SAMPLES,
        device: int | str | None = None,
        blocking: bool = False,
        *,
        stall_timeout_s: float = MICROPHONE_STALL_TIMEOUT_S,
    ) -> None:
        super().__init__(frame_samples)
        self.device = device
        self.blocking = blocking
        self.stall_timeout_s = stall_timeout_s
        self._chunks: queue.Queue[bytes | None] = queue.Queue()

    def frames(self) -> Iterator[Samples]:
        sounddevice = _import_sounddevice()
        self._chunks = queue.Queue()
        try:
            stream = sounddevice.RawInputStream(
                samplerate=SAMPLE_RATE_HZ,
                blocksize=self.frame_samples,
                device=self.device,
                channels=1,
                dtype="int16",
                callback=None if self.blocking else self._on_audio,
            )
        except (sounddevice.PortAudioError, ValueError) as error:
            raise AudioError(f"microphone {self._device_name}: cannot open ({error})") from error
        try:
            stream.start()
        except sounddevice.PortAudioError as error:
            stream.close(ignore_errors=True)
            raise AudioError(f"microphone {self._device_name}: cannot start ({error})") from error
        try:
            yield from self._read_blocking(stream) if self.blocking else self._read_queue()
        finally:
            stream.stop(ignore_errors=True)
            stream.close(ignore_errors=True)

    @property
    def _device_name(self) -> str:
        return "(default)" if self.device is None else repr(self.device)

    def _on_audio(self, indata: Any, frames: int, time: Any, status: Any) -> None:
        """PortAudio's callback, on its audio thread: hand the bytes over and return."""
        self._chunks.put(bytes(indata))

    def _read_queue(self) -> Iterator[Samples]:
        framer = Framer(self.frame_samples)
        while not self._closed.is_set():
            try:
                chunk = self._chunks.get(timeout=self.stall_timeout_s)
            except queue.Empty:
                raise AudioError(
                    f"microphone {self._device_name}: no audio for {self.stall_timeout_s} s; is it disconnected?"
                ) from None
            if chunk is None:  # close() woke us up
                return
            yield from framer.push(np.frombuffer(chunk, dtype=np.int16))

    def _read_blocking(self, stream: Any) -> Iterator[Samples]:
        while not self._closed.is_set():
            data, overflowed = stream.read(self.frame_samples)
            if overflowed:
                log.warning("microphone %s: input overflow; audio was lost", self._device_name)
            yield np.frombuffer(bytes(data), dtype=np.int16).copy()

    def close(self) -> None:
        super().close()
        self._chunks.put(None)


def _import_sounddevice() -> Any:
    try:
        sounddevice = importlib.import_module("sounddevice")
    except ImportError as error:
        raise AudioError("the microphone needs sounddevice: pip install sounddevice") from error
    except OSError as error:  # sounddevice is there but the PortAudio library is not
        raise AudioError(f"the microphone needs PortAudio: apt-get install libportaudio2 ({error})") from error
    return sounddevice


def open_source(spec: str, frame_samples: int = DEFAULT_FRAME_SAMPLES) -> AudioSource:
    """The audio source `spec` names.

    `"mic"` (the default microphone), `"mic:DEVICE"` (a PortAudio device index or
    name), `"-"` (raw 16 kHz mono 16-bit little-endian PCM on stdin) or a WAV path.
    """
    if spec == "mic" or spec.startswith("mic:"):
        device_spec = spec[4:]
        device: int | str | None = None
        if device_spec:
            device = int(device_spec) if device_spec.isdigit() else device_spec
        return MicrophoneSource(frame_samples, device=device)
    if spec == "-":
        return PcmStreamSource(sys.stdin.buffer, frame_samples)
    path = Path(spec)
    if not path.is_file():
        raise AudioError(
            f"{spec}: no such audio file (an audio source is 'mic', 'mic:DEVICE', '-' for raw 16 kHz mono "
            "16-bit PCM on stdin, or a WAV file)"
        )
    return WavSource(path, frame_samples)

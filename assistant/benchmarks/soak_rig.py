"""What the soak runs around the daemon, and the faults it injects into it.

- `DaemonProcess`: `python -m assistant daemon --config FILE` with its stdin fed
  by the soak, its JSON events collected as they come (with the time each was
  read), its log kept in a file, its memory and CPU time read from /proc;
- `Broker`: Mosquitto on a free loopback port, killed and started again;
- `HermesListener`: a plain MQTT client noting each intent the daemon publishes;
- the faults (`FAULTS`), each a function of a `Rig` that does something bad to
  the daemon and returns a `Finding`: what was done, what the daemon answered
  (quoted), and what was missing from a clear answer.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from assistant.audio import SAMPLE_RATE_HZ
from assistant.errors import AssistantError

START_TIMEOUT_S = 120.0  # the daemon loads its models
EVENT_TIMEOUT_S = 30.0  # an answer to a fault
RECONNECT_TIMEOUT_S = 75.0  # paho retries a lost broker every 1..30 s
STOP_TIMEOUT_S = 30.0
WYOMING_HEADER_LIMIT_BYTES = 64 * 1024  # the server's WyomingLimits.max_header_bytes
SOCKET_MESSAGE_LIMIT_BYTES = 64 * 1024  # the event socket's SocketLimits.max_message_bytes
OVERSIZE_BYTES = 100 * 1024
RANDOM_BYTES = 300
WYOMING_CHUNK_BYTES = 3200  # 100 ms of 16 kHz int16

SOCKET_GARBAGE, WYOMING_DROP, WYOMING_GARBAGE = "socket_garbage", "wyoming_drop", "wyoming_garbage"
BROKER_DOWN, BROKER_UP, MODEL_CORRUPT, MODEL_RESTORE = "broker_down", "broker_up", "model_corrupt", "model_restore"
# The reloads first: each leaves resident memory higher (a new setup is built beside the running one), and the
# memory slope is measured on the long stretch after the last of them.
FAULTS = (MODEL_CORRUPT, MODEL_RESTORE, SOCKET_GARBAGE, WYOMING_DROP, WYOMING_GARBAGE, BROKER_DOWN, BROKER_UP)
NEEDS = {BROKER_UP: BROKER_DOWN, MODEL_RESTORE: MODEL_CORRUPT}  # a fault that undoes an earlier one


class SoakError(AssistantError):
    """The soak could not be set up, or the daemon did not start."""


# --------------------------------------------------------------------------- the processes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Broker:
    """Mosquitto on 127.0.0.1:`port`; killed and started again by the broker faults."""

    def __init__(self, directory: Path) -> None:
        if shutil.which("mosquitto") is None:
            raise SoakError("mosquitto not found: install the system packages (sudo apt-get install mosquitto)")
        self.port = free_port()
        self.config = directory / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n",
            encoding="utf-8",
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(["mosquitto", "-c", str(self.config)], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + EVENT_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SoakError(f"mosquitto exited with status {self.process.returncode} (port {self.port})")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SoakError(f"mosquitto did not listen on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(EVENT_TIMEOUT_S)
            self.process = None


class HermesListener:
    """A paho client that notes when each hermes/intent/... message came; it reconnects with the broker."""

    def __init__(self, port: int, clock: Callable[[], float]) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.intents: list[tuple[float, str]] = []  # (seconds into the stream, intent name)
        self._clock = clock
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"soak-{os.getpid()}")
        self.client.on_connect = lambda client, *_: client.subscribe("hermes/intent/#")
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 2)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        self.intents.append((self._clock(), str(message.topic).removeprefix("hermes/intent/")))

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@dataclass
class Line:
    at_s: float  # seconds into the stream when it was read
    event: dict[str, Any]


class DaemonProcess:
    """`python -m assistant daemon --config FILE`: stdin fed by the soak, stdout events collected as they come."""

    def __init__(self, config: Path, log_path: Path) -> None:
        self.log_path = log_path
        self.t0 = time.monotonic()  # `clock` counts from here: the stream's start, once `start_clock` is called
        self.lines: list[Line] = []
        self._changed = threading.Condition()
        self._ended = False
        command = [sys.executable, "-m", "assistant", "daemon", "--config", str(config)]
        with log_path.open("wb") as stderr:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin: IO[bytes] = self.process.stdin
        threading.Thread(target=self._read, args=(self.process.stdout,), name="soak-stdout", daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        for raw in stream:
            try:
                event = json.loads(raw)
            except json.JSONDecodeError:
                event = {"type": "unparsed", "line": raw.decode(errors="replace")}
            with self._changed:
                self.lines.append(Line(self.clock(), event))
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def clock(self) -> float:
        """Seconds since the stream started."""
        return time.monotonic() - self.t0

    def start_clock(self) -> None:
        self.t0 = time.monotonic()

    def started(self) -> dict[str, Any]:
        """The details of the daemon's "started" event; raises `SoakError` with its log when it does not start."""
        event = self.wait_for(lambda e: e["type"] == "daemon" and e.get("status") == "started", 0, START_TIMEOUT_S)
        if event is not None:
            return dict(event["details"])
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(STOP_TIMEOUT_S)
        status = self.process.poll()
        why = f"exited with status {status}" if status is not None else f"did not start in {START_TIMEOUT_S:g} s"
        tail = "\n".join(self.log_lines(0)[-5:])
        raise SoakError(f"the daemon {why}; its log ends:\n{tail}")

    def wait_for(self, want: Callable[[dict[str, Any]], bool], after: int, timeout_s: float) -> dict[str, Any] | None:
        """The first event from line `after` on that `want` accepts, waiting up to `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            position = after
            while True:
                while position < len(self.lines):
                    if want(self.lines[position].event):
                        return self.lines[position].event
                    position += 1
                left = deadline - time.monotonic()
                if left <= 0 or self._ended:
                    return None
                self._changed.wait(left)

    @property
    def count(self) -> int:
        with self._changed:
            return len(self.lines)

    def log_lines(self, start: int) -> list[str]:
        """The daemon's log from byte `start` on."""
        with self.log_path.open("rb") as stream:
            stream.seek(start)
            return stream.read().decode(errors="replace").splitlines()

    @property
    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def memory_and_cpu(self) -> tuple[float, float] | None:
        """(VmRSS in MB, user + system CPU seconds) from /proc; None once the process is gone."""
        pid = self.process.pid
        try:
            status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
            stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
        except OSError:
            return None
        rss_kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), None)
        if rss_kb is None:  # a zombie has no memory left to report
            return None
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        ticks = os.sysconf("SC_CLK_TCK")
        return rss_kb / 1024.0, (int(fields[11]) + int(fields[12])) / ticks

    def stop(self) -> tuple[int | None, float | None]:
        """SIGTERM; (exit status, seconds to exit), or (None, None) when it had to be killed."""
        if self.process.poll() is not None:
            return self.process.returncode, 0.0
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(STOP_TIMEOUT_S)
            return code, time.monotonic() - started
        except subprocess.TimeoutExpired:
            self.kill()
            return None, None

    def kill(self) -> None:
        kill_and_close(self.process)


def kill_and_close(process: subprocess.Popen[bytes]) -> None:
    """Kill `process` if it still runs, wait for it, and close the pipes this side holds."""
    if process.poll() is None:
        process.kill()
        process.wait()
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):  # a pipe the child broke has nothing left to flush
                stream.close()


# --------------------------------------------------------------------------- faults


@dataclass
class Rig:
    """What the faults act on."""

    daemon: DaemonProcess
    broker: Broker
    socket_path: Path
    wyoming_port: int
    model_file: Path
    good_model: bytes
    speech: bytes  # a command's audio, for the Wyoming client that drops
    rng: random.Random


@dataclass
class Finding:
    action: str
    answers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def expect(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)


def _socket_exchange(path: Path, data: bytes) -> tuple[dict[str, Any] | None, bool]:
    """Send `data` on a new event-socket connection: (the error reply, whether the daemon then closed it).

    Every client also receives every event: those are skipped."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(EVENT_TIMEOUT_S)
        client.connect(str(path))
        with contextlib.suppress(OSError):  # the daemon may close before it has read everything: it has replied
            client.sendall(data)
        reader = client.makefile("rb")
        error = None
        for raw in reader:
            line = json.loads(raw)
            if line.get("type") in ("error", "state"):
                error = line
                break
        closed = error is not None and error["type"] == "error" and _drained(reader)
        return error, closed


def _drained(reader: IO[bytes]) -> bool:
    """True when the peer closes the connection (lines still in flight are read and dropped)."""
    try:
        for _ in reader:
            pass
    except TimeoutError:
        return False
    except OSError:  # reset rather than closed: closed all the same
        return True
    return True


def _garbage(rig: Rig, malformed: bytes, malformed_code: str) -> list[tuple[bytes, str]]:
    """What a misbehaving client sends a line-based server, each with the error code expected:
    a line that is not JSON, a line over the limit, random bytes."""
    return [
        (malformed, malformed_code),
        (b"x" * OVERSIZE_BYTES + b"\n", "too-large"),
        (rig.rng.randbytes(RANDOM_BYTES) + b"\n", malformed_code),
    ]


def _fault_socket_garbage(rig: Rig) -> Finding:
    finding = Finding(
        f"event socket: three clients send malformed JSON, a {OVERSIZE_BYTES // 1024} KB line (limit "
        f"{SOCKET_MESSAGE_LIMIT_BYTES // 1024} KB) and {RANDOM_BYTES} random bytes; a fourth asks for the state"
    )
    for data, code in _garbage(rig, b'{"type": "say", "text": \n', "malformed"):
        reply, closed = _socket_exchange(rig.socket_path, data)
        finding.answers.append(json.dumps(reply))
        finding.expect(reply is not None and reply.get("code") == code, f"expected a {code!r} error, got {reply}")
        finding.expect(closed, "the connection was not closed after the error")
    state, _ = _socket_exchange(rig.socket_path, b'{"type": "state"}\n')
    finding.expect(state is not None and state.get("type") == "state", f"no state for a good client: {state}")
    if state is not None:
        finding.answers.append(f"good client: state of {state.get('device')}")
    return finding


def _wyoming_connect(port: int) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", port), timeout=EVENT_TIMEOUT_S)
    client.settimeout(EVENT_TIMEOUT_S)
    return client


def _fault_wyoming_drop(rig: Rig) -> Finding:
    from wyoming.audio import AudioChunk, AudioStart
    from wyoming.event import write_event
    from wyoming.info import Describe, Info

    fmt = {"rate": SAMPLE_RATE_HZ, "width": 2, "channels": 1}
    finding = Finding(
        "Wyoming: one client sends audio-start and three 100 ms chunks of a command and disconnects; "
        "another disconnects in the middle of a chunk's payload; a third asks describe"
    )
    log_from = rig.daemon.log_size
    with _wyoming_connect(rig.wyoming_port) as client, client.makefile("wb") as out:
        write_event(AudioStart(**fmt).event(), out)
        for start in range(0, 3 * WYOMING_CHUNK_BYTES, WYOMING_CHUNK_BYTES):
            write_event(AudioChunk(audio=rig.speech[start : start + WYOMING_CHUNK_BYTES], **fmt).event(), out)
        out.flush()
    with _wyoming_connect(rig.wyoming_port) as client:
        header = {"type": "audio-chunk", "data": fmt, "payload_length": WYOMING_CHUNK_BYTES}
        client.sendall(_wyoming_line(header) + rig.speech[:1000])
    with _wyoming_connect(rig.wyoming_port) as client, client.makefile("rwb") as stream:
        write_event(Describe().event(), cast(BinaryIO, stream))
        stream.flush()
        info = _read_wyoming(stream)
    finding.expect(info is not None and Info.is_type(info.type), f"no info for describe: {info}")
    time.sleep(0.5)  # the log line of the dropped clients
    dropped = [line for line in rig.daemon.log_lines(log_from) if "Wyoming client" in line]
    finding.answers += dropped or ["(nothing in the daemon's log)"]
    finding.expect(len(dropped) >= 2, f"expected a log line for each dropped client, got {dropped}")
    if info is not None:
        finding.answers.append(f"describe -> {info.type}")
    return finding


def _fault_wyoming_garbage(rig: Rig) -> Finding:
    from wyoming.event import write_event
    from wyoming.info import Describe, Info

    finding = Finding(
        f"Wyoming: three clients send a malformed JSON header, a {OVERSIZE_BYTES // 1024} KB header (limit "
        f"{WYOMING_HEADER_LIMIT_BYTES // 1024} KB) and {RANDOM_BYTES} random bytes; a fourth asks describe"
    )
    for data, code in _garbage(rig, b'{"type": "transcribe", \n', "malformed-event"):
        with _wyoming_connect(rig.wyoming_port) as client, client.makefile("rb") as stream:
            with contextlib.suppress(OSError):
                client.sendall(data)
            reply = _read_wyoming(stream)
        answer = None if reply is None else {"type": reply.type, **(reply.data or {})}
        finding.answers.append(json.dumps(answer))
        finding.expect(answer is not None and answer.get("code") == code, f"expected a {code!r} error, got {answer}")
    with _wyoming_connect(rig.wyoming_port) as client, client.makefile("rwb") as stream:
        write_event(Describe().event(), cast(BinaryIO, stream))
        stream.flush()
        info = _read_wyoming(stream)
    finding.expect(info is not None and Info.is_type(info.type), f"no info for describe: {info}")
    if info is not None:
        finding.answers.append(f"good client: describe -> {info.type}")
    return finding


def _wyoming_line(header: dict[str, Any]) -> bytes:
    return json.dumps(header).encode() + b"\n"


def _read_wyoming(stream: Any) -> Any:
    from wyoming.event import read_event

    try:
        return read_event(stream)
    except (OSError, ValueError):
        return None


def _fault_broker_down(rig: Rig) -> Finding:
    finding = Finding(f"Mosquitto on port {rig.broker.port} killed (SIGKILL)")
    after = rig.daemon.count
    rig.broker.stop()
    lost = rig.daemon.wait_for(
        lambda e: e["type"] == "integration" and e.get("name") == "hermes" and e.get("connected") is False,
        after,
        EVENT_TIMEOUT_S,
    )
    finding.answers.append(json.dumps(lost) if lost else "(no event)")
    finding.expect(lost is not None, "no integration event saying the broker was lost")
    return finding


def _fault_broker_up(rig: Rig) -> Finding:
    finding = Finding(f"Mosquitto started again on port {rig.broker.port}")
    after = rig.daemon.count
    rig.broker.start()
    back = rig.daemon.wait_for(
        lambda e: e["type"] == "integration" and e.get("name") == "hermes" and e.get("connected") is True,
        after,
        RECONNECT_TIMEOUT_S,
    )
    finding.answers.append(json.dumps(back) if back else "(no event)")
    finding.expect(back is not None, f"the daemon did not reconnect within {RECONNECT_TIMEOUT_S:g} s")
    return finding


def _fault_model_corrupt(rig: Rig) -> Finding:
    finding = Finding(f"{rig.model_file.name} replaced by {len(rig.good_model):,} random bytes, then SIGHUP")
    _replace_file(rig.model_file, rig.rng.randbytes(len(rig.good_model)))
    after = rig.daemon.count
    rig.daemon.process.send_signal(signal.SIGHUP)
    failed = rig.daemon.wait_for(lambda e: e["type"] == "error" and e.get("stage") == "reload", after, EVENT_TIMEOUT_S)
    finding.answers.append(json.dumps(failed) if failed else "(no event)")
    finding.expect(
        failed is not None and rig.model_file.name in failed.get("message", ""),
        "no reload error naming the model file",
    )
    return finding


def _fault_model_restore(rig: Rig) -> Finding:
    finding = Finding(f"{rig.model_file.name} restored, then SIGHUP")
    _replace_file(rig.model_file, rig.good_model)
    after = rig.daemon.count
    rig.daemon.process.send_signal(signal.SIGHUP)
    done = rig.daemon.wait_for(
        lambda e: (
            (e["type"] == "daemon" and e.get("status") == "reloaded")
            or (e["type"] == "error" and e.get("stage") == "reload")
        ),
        after,
        EVENT_TIMEOUT_S,
    )
    if done is not None and done["type"] == "daemon":
        finding.answers.append(f'{{"type": "daemon", "status": "reloaded", "model": "{done["details"]["model"]}"}}')
    else:
        finding.answers.append(json.dumps(done) if done else "(no event)")
    finding.expect(done is not None and done["type"] == "daemon", "the restored model was not reloaded")
    return finding


def _replace_file(path: Path, data: bytes) -> None:
    """A new file in place of `path`, as installers do (the running model maps the old one)."""
    fresh = path.with_name(path.name + ".new")
    fresh.write_bytes(data)
    fresh.replace(path)


FAULT_ACTIONS: dict[str, Callable[[Rig], Finding]] = {
    SOCKET_GARBAGE: _fault_socket_garbage,
    WYOMING_DROP: _fault_wyoming_drop,
    WYOMING_GARBAGE: _fault_wyoming_garbage,
    BROKER_DOWN: _fault_broker_down,
    BROKER_UP: _fault_broker_up,
    MODEL_CORRUPT: _fault_model_corrupt,
    MODEL_RESTORE: _fault_model_restore,
}

"""The daemon's event socket: a Unix socket that streams events and takes commands.

Every connected client receives every event as one JSON object a line. A client
may also send commands, one JSON object a line:

- `{"type": "say", "text": "set a timer for ten minutes"}`: a text turn through
  the dialogue; its events go to every client;
- `{"type": "state"}`: answered to this client only with `{"type": "state", ...}`.

A message that is not UTF-8, not JSON, not an object, has no `type`, an unknown
`type`, a missing or mistyped field, or is over `max_message_bytes`, is answered
with `{"type": "error", "code": ..., "message": ...}` and that connection is
closed; the others are not affected. A client that reads so slowly that
`max_queued_lines` events pile up for it is dropped the same way, so one stuck
reader never holds the daemon's memory. Blank lines are ignored.

The server runs on an asyncio loop (the daemon's network thread); `publish` may
be called from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError, IntegrationError

log = logging.getLogger(__name__)

SOCKET_MODE = 0o660  # the daemon's user and group; nobody else
LINGER_S = 1.0  # after an error, how long the client's remaining input is read and dropped before closing
DISCARD_BLOCK_BYTES = 64 * 1024
MAX_TYPE_CHARS = 64  # longer than any command type; a longer one is quoted cut short

# The `code` of an error reply.
MALFORMED, TOO_LARGE, UNKNOWN_COMMAND, BUSY, FAILED = "malformed", "too-large", "unknown-command", "busy", "failed"


@dataclass(frozen=True)
class SocketLimits:
    max_message_bytes: int = 64 * 1024  # one command line
    max_text_chars: int = 1000  # the text of a `say`
    max_clients: int = 16
    max_queued_lines: int = 1000  # events waiting for one client before it is dropped as too slow


@dataclass(frozen=True)
class Say:
    text: str


@dataclass(frozen=True)
class StateQuery:
    pass


Command = Say | StateQuery


class CommandError(IntegrationError):
    """A client message the server does not accept; `code` goes into the error reply."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class CommandHandler:
    """What the daemon does for the commands; both run on a worker thread, never on the event loop."""

    say: Callable[[str], None]  # a text turn; the daemon broadcasts its events itself
    state: Callable[[], dict[str, Any]]  # the reply to `state`, without its `type`


def parse_command(line: bytes, max_text_chars: int) -> Command:
    """One command line, checked; raises `CommandError` saying what is wrong."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CommandError(MALFORMED, f"not UTF-8 ({error.reason} at byte {error.start})") from None
    try:
        message = json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(MALFORMED, f"not JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(message, dict):
        raise CommandError(MALFORMED, f"expected a JSON object, got {type(message).__name__}")
    kind = message.get("type")
    if not isinstance(kind, str):
        raise CommandError(MALFORMED, 'expected a string "type" ("say" or "state")')
    if kind == "say":
        _only_keys(message, {"type", "text"})
        said = message.get("text")
        if not isinstance(said, str) or not said.strip():
            raise CommandError(MALFORMED, 'a "say" needs a non-empty string "text"')
        if len(said) > max_text_chars:
            raise CommandError(TOO_LARGE, f'"text" has {len(said)} characters; at most {max_text_chars}')
        return Say(said)
    if kind == "state":
        _only_keys(message, {"type"})
        return StateQuery()
    shown = kind if len(kind) <= MAX_TYPE_CHARS else kind[:MAX_TYPE_CHARS] + "..."
    raise CommandError(UNKNOWN_COMMAND, f"unknown command type {shown!r} (known: say, state)")


def _only_keys(message: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(message) - allowed)
    if unknown:
        raise CommandError(MALFORMED, f"unknown key {unknown[0][:MAX_TYPE_CHARS]!r} in {message['type']!r}")


def error_line(code: str, message: str) -> str:
    return json.dumps({"type": "error", "code": code, "message": message}, ensure_ascii=False)


class EventSocketServer:
    """Serves events and commands on the Unix socket at `path` (created 0660, removed on stop)."""

    def __init__(self, path: Path, handler: CommandHandler, limits: SocketLimits | None = None) -> None:
        self.path = path
        self.handler = handler
        self.limits = limits or SocketLimits()
        self._server: asyncio.AbstractServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: set[_Client] = set()

    @property
    def clients(self) -> int:
        return len(self._clients)

    async def start(self) -> None:
        """Listen; raises `IntegrationError` naming the path when it cannot."""
        self._loop = asyncio.get_running_loop()
        _remove_stale_socket(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._server = await asyncio.start_unix_server(
                self._accept, path=str(self.path), limit=self.limits.max_message_bytes
            )
            os.chmod(self.path, SOCKET_MODE)
        except OSError as error:
            raise IntegrationError(f"{self.path}: cannot listen ({error.strerror or error})") from error
        log.info("event socket listening on %s", self.path)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for client in list(self._clients):
            client.task.cancel()
        await asyncio.gather(*(client.task for client in self._clients), return_exceptions=True)
        if server is not None:
            await server.wait_closed()
            self.path.unlink(missing_ok=True)

    def publish(self, line: str) -> None:
        """Send `line` (one JSON object, no newline) to every client; callable from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop stopped meanwhile: the daemon is shutting down
            loop.call_soon_threadsafe(self._broadcast, line)

    def _broadcast(self, line: str) -> None:
        for client in list(self._clients):
            client.send(line)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # asyncio runs each connection callback in a task
        if len(self._clients) >= self.limits.max_clients:
            log.warning("event socket client refused: %d clients already connected", len(self._clients))
            await _close_with_error(reader, writer, BUSY, f"too many clients (at most {self.limits.max_clients})")
            return
        client = _Client(writer, task, self.limits.max_queued_lines)
        self._clients.add(client)
        try:
            await self._serve(client, reader)
        except asyncio.CancelledError:
            pass  # the server is stopping
        finally:
            self._clients.discard(client)
            client.end()
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(client.sender, LINGER_S)  # what is queued goes out first
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _serve(self, client: _Client, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                line = await reader.readline()
            except ValueError:  # the line is over the reader's limit
                await client.fail(reader, TOO_LARGE, f"message over {self.limits.max_message_bytes} bytes")
                return
            except ConnectionError:
                return
            if not line:
                return
            if not line.strip():
                continue
            try:
                command = parse_command(line.rstrip(b"\r\n"), self.limits.max_text_chars)
            except CommandError as error:
                log.warning("event socket client: %s", error)
                await client.fail(reader, error.code, str(error))
                return
            await self._run(command, client)

    async def _run(self, command: Command, client: _Client) -> None:
        loop = asyncio.get_running_loop()
        try:
            if isinstance(command, Say):
                await loop.run_in_executor(None, self.handler.say, command.text)
            else:
                state = await loop.run_in_executor(None, self.handler.state)
                client.send(json.dumps({"type": "state", **state}, ensure_ascii=False, default=str))
        except AssistantError as error:  # the command was fine; carrying it out failed
            client.send(error_line(FAILED, str(error)))


class _Client:
    """One connection's outgoing lines, written by `pump` in order."""

    def __init__(self, writer: asyncio.StreamWriter, task: asyncio.Task[None], max_queued: int) -> None:
        self.writer = writer
        self.task = task
        self.lines: asyncio.Queue[str | None] = asyncio.Queue(max_queued)
        self.dropped = False
        self.sender = asyncio.create_task(self.pump())

    def send(self, line: str) -> None:
        if self.dropped:
            return
        try:
            self.lines.put_nowait(line)
        except asyncio.QueueFull:  # the client does not read: drop it rather than buffer without end
            self.dropped = True
            self.task.cancel()
            log.warning("event socket client dropped: over %d events not read", self.lines.maxsize)

    def end(self) -> None:
        """No more lines: `pump` returns once the queued ones are written."""
        with contextlib.suppress(asyncio.QueueFull):
            self.lines.put_nowait(None)

    async def pump(self) -> None:
        with contextlib.suppress(ConnectionError):
            while (line := await self.lines.get()) is not None:
                self.writer.write(line.encode("utf-8") + b"\n")
                await self.writer.drain()

    async def fail(self, reader: asyncio.StreamReader, code: str, message: str) -> None:
        """Send the error after the lines already queued, then let the client's input run out."""
        self.dropped = True
        with contextlib.suppress(asyncio.QueueFull):
            self.lines.put_nowait(error_line(code, message))
        self.end()
        with contextlib.suppress(asyncio.TimeoutError, ConnectionError, OSError):
            await asyncio.wait_for(self.sender, LINGER_S)
            self.writer.write_eof()  # the client sees the end at once, while its leftover input is drained
        await _linger(reader)


async def _close_with_error(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, code: str, text: str) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        writer.write(error_line(code, text).encode("utf-8") + b"\n")
        await writer.drain()
        writer.write_eof()
    await _linger(reader)
    writer.close()


async def _linger(reader: asyncio.StreamReader) -> None:
    """Read and drop what the client still sends for a moment: closing a socket with
    unread input can reset it before the client has read the error."""

    async def drain() -> None:
        while await reader.read(DISCARD_BLOCK_BYTES):
            pass

    with contextlib.suppress(ConnectionError, OSError, asyncio.TimeoutError, ValueError):
        await asyncio.wait_for(drain(), LINGER_S)


def _remove_stale_socket(path: Path) -> None:
    """A socket file left by a daemon that died is removed; any other file there is an error."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise IntegrationError(f"{path}: cannot use this path for the event socket ({error.strerror})") from error
    if not stat.S_ISSOCK(mode):
        raise IntegrationError(f"{path}: exists and is not a socket; refusing to replace it")
    path.unlink()

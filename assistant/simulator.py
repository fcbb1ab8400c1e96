"""A simulated device to talk to: the dialogue, the appliance and a clock that
moves only when told, with each turn shown as the stages saw it.

`Session` is the wiring (text or speech in, turns out); `run_scenario` plays a
scripted conversation against it; `format_turn` and `interact` are the terminal
front end used by `assistant simulate`.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from numpy.typing import NDArray

from assistant.audio import read_wav
from assistant.devices import SimClock, simulate
from assistant.devices.base import flatten_state
from assistant.dialogue import Dialogue, Turn
from assistant.intents import IntentSet
from assistant.nlu.runtime import IntentModel
from assistant.profiles import DeviceProfile
from assistant.scenario import Scenario, ScriptTurn, parse_duration

CLOCK_STEP_S = 60.0  # the clock moves in steps this long so notices come in order and repeat alarms re-arm
HISTORY_FILE = Path.home() / ".assistant_history"

# What an utterance (16 kHz mono int16) becomes: the transcript and the milliseconds the recognizer took.
Transcriber = Callable[[NDArray[np.int16]], tuple[str, float]]
Synthesizer = Callable[[str], NDArray[np.int16]]


@dataclass(frozen=True)
class TurnResult:
    """A scripted turn as it ran: the turns it produced and what did not match."""

    step: ScriptTurn
    turns: tuple[Turn, ...]
    problems: tuple[str, ...]
    transcript: str | None = None

    @property
    def passed(self) -> bool:
        return not self.problems


class Session:
    def __init__(
        self,
        profile: DeviceProfile,
        intents: IntentSet,
        model: IntentModel,
        *,
        start: datetime | None = None,
        seed: int | None = 0,
        transcriber: Transcriber | None = None,
        synthesizer: Synthesizer | None = None,
    ) -> None:
        self.profile = profile
        self.clock = SimClock(start) if start else SimClock()
        self.device = simulate(profile, self.clock)
        self.dialogue = Dialogue(
            intents.restricted_to(profile.domains), model, self.device, self.clock, confirm=profile.confirm, seed=seed
        )
        self.transcriber = transcriber
        self.synthesizer = synthesizer

    def say(self, text: str) -> Turn:
        return self.dialogue.hear(text)

    def hear_audio(self, path: Path) -> tuple[str, Turn, float]:
        """A recording through the recognizer, then the dialogue: (transcript, turn, recognizer ms)."""
        return self._hear(read_wav(path))

    def speak_and_hear(self, text: str) -> tuple[str, Turn, float]:
        """`text` synthesized, then recognized and understood: the whole speech path."""
        if self.synthesizer is None:
            raise RuntimeError("this session was built without a speech synthesizer")
        return self._hear(self.synthesizer(text))

    def _hear(self, samples: NDArray[np.int16]) -> tuple[str, Turn, float]:
        if self.transcriber is None:
            raise RuntimeError("this session was built without a recognizer")
        text, recognize_ms = self.transcriber(samples)
        return text, self.dialogue.hear(text), recognize_ms

    def advance(self, seconds: float) -> list[Turn]:
        """Move the clock; the notices that came due, as turns."""
        notices: list[Turn] = []
        left = seconds
        while left > 0:
            step = min(CLOCK_STEP_S, left)
            self.clock.advance(step)
            left -= step
            notices += self.dialogue.poll()
        return notices

    def flat_state(self) -> dict[str, Any]:
        return flatten_state(self.device.state())


def run_scenario(session: Session, scenario: Scenario) -> Iterator[TurnResult]:
    """Each scripted turn as it runs, checked against its expectation."""
    for step in scenario.turns:
        transcript = None
        if step.kind == "advance":
            turns = session.advance(float(step.value))
        elif step.kind == "say":
            turns = [session.say(str(step.value))]
        elif step.kind == "tts":
            transcript, turn, _ = session.speak_and_hear(str(step.value))
            turns = [turn]
        else:
            transcript, turn, _ = session.hear_audio(Path(str(step.value)))
            turns = [turn]
        problems = step.expect.failures(turns, session.flat_state())
        yield TurnResult(step, tuple(turns), tuple(problems), transcript)


# Terminal front end ----------------------------------------------------------


class Style:
    """ANSI colour when writing to a terminal that wants it (NO_COLOR unset)."""

    def __init__(self, stream: TextIO) -> None:
        self.on = stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"

    def __call__(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.on else text


def format_turn(turn: Turn, style: Style, transcript_ms: float | None = None) -> str:
    clock = turn.at.strftime("%H:%M:%S")
    if turn.heard is None:
        return f"{style(clock, '2')} {style('device', '35')}  {style(turn.reply.text, '1')}"
    lines = [f"{style(clock, '2')} {style('you', '36')}     {turn.heard}"]
    if turn.intent is None:
        lines.append(f"  intent  {style('(not understood)', '33')}")
    else:
        confidence = f"  confidence {turn.frame.confidence:.2f}" if turn.frame else ""
        lines.append(f"  intent  {style(turn.intent, '32')}{style(confidence, '2')}")
    if turn.action and turn.action.slots:
        slots = ", ".join(f"{s.name}={s.value!r} ({s.raw!r})" for s in turn.action.slots)
        lines.append(f"  slots   {slots}")
    if turn.outcome is not None and not turn.outcome.ok:
        lines.append(f"  device  {style('refused: ' + str(turn.outcome.reason), '31')}")
    for key, (before, after) in turn.changes.items():
        lines.append(f"  device  {key}: {before!r} -> {after!r}")
    lines.append(f"  reply   {style(turn.reply.text, '1')}  {style('[' + turn.reply.source + ']', '2')}")
    timings = dict(turn.timings_ms)
    if transcript_ms is not None:
        timings = {"recognize": transcript_ms, **timings}
    shown = " · ".join(f"{stage} {ms:.1f} ms" for stage, ms in timings.items())
    waiting = f" · waiting for {turn.expects}" if turn.expects else ""
    lines.append(style(f"  timing  {shown}{waiting}", "2"))
    return "\n".join(lines)


def turn_json(turn: Turn, transcript_ms: float | None = None) -> str:
    data = turn.to_dict()
    if transcript_ms is not None:
        data["timings_ms"] = {"recognize": round(transcript_ms, 3), **data["timings_ms"]}
    return json.dumps(data, ensure_ascii=False)


HELP = """Type what you would say. Commands:
  :advance 10m   move the clock (1h30m, 10m, 45s or seconds); timers fire, programs finish
  :state         the device's state
  :audio FILE    a recording through the recognizer
  :tts TEXT      TEXT synthesized with espeak-ng, recognized, then understood
  :help  :quit"""


def interact(session: Session, out: TextIO, *, as_json: bool, speak: Callable[[str], None] | None) -> None:
    """The interactive loop: line editing and history where readline exists."""
    style = Style(out)
    try:
        import readline

        if HISTORY_FILE.exists():
            readline.read_history_file(HISTORY_FILE)
    except (ImportError, OSError):
        readline = None  # type: ignore[assignment]
    print(style(f"{session.profile.name}: {session.profile.description}", "1"), file=out)
    print(style("Type :help for commands, :quit to leave.", "2"), file=out)
    try:
        while True:
            try:
                line = input(f"{session.clock.now():%H:%M} > ").strip()
            except EOFError:
                break
            if not line:
                continue
            if line in (":quit", ":q", ":exit"):
                break
            try:
                for turn, ms in _interactive_turns(session, line, out):
                    print(turn_json(turn, ms) if as_json else format_turn(turn, style, ms), file=out)
                    if speak is not None:
                        speak(turn.reply.text)
            except (ValueError, RuntimeError, OSError) as error:
                print(style(f"error: {error}", "31"), file=out)
    finally:
        if readline is not None:
            with contextlib.suppress(OSError):
                readline.write_history_file(HISTORY_FILE)


def _interactive_turns(session: Session, line: str, out: TextIO) -> list[tuple[Turn, float | None]]:
    if line == ":help":
        print(HELP, file=out)
        return []
    if line == ":state":
        print(json.dumps(session.device.state(), indent=2, ensure_ascii=False), file=out)
        return []
    command, _, argument = line.partition(" ")
    if command == ":advance":
        return [(turn, None) for turn in session.advance(parse_duration(argument.strip() or "0", "", ":advance"))]
    if command == ":audio":
        _, turn, ms = session.hear_audio(Path(argument.strip()))
        return [(turn, ms)]
    if command == ":tts":
        _, turn, ms = session.speak_and_hear(argument.strip())
        return [(turn, ms)]
    if command.startswith(":"):
        raise ValueError(f"unknown command {command} (:help lists them)")
    return [(session.say(line), None)]


def print_scenario_result(result: TurnResult, index: int, out: TextIO, style: Style) -> None:
    step = result.step
    label = f"{step.kind} {step.value if step.kind != 'advance' else f'{float(step.value):g} s'}"
    mark = style("PASS", "32") if result.passed else style("FAIL", "31;1")
    heard = f"  (heard {result.transcript!r})" if result.transcript is not None else ""
    print(f"{mark} turn {index + 1}: {label}{heard}", file=out)
    for turn in result.turns:
        print("     " + format_turn(turn, style).replace("\n", "\n     "), file=out)
    for problem in result.problems:
        print(style(f"     ! {problem}", "31"), file=out)

"""Appliances that run a program to the end: the washing machine and the dishwasher.

Both share one model: a program table (how long each program runs, and for the
washer the temperatures and spin speeds it allows), a door, and a cycle that goes
idle -> (delayed ->) running <-> paused -> finished. A delayed start is given as
a delay, a start time or a finish time; the appliance announces when a delayed
program starts and when any program finishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from assistant.devices.base import Outcome
from assistant.devices.clocks import clock_time, next_at
from assistant.devices.phrases import say_degrees, say_duration, say_name, say_time
from assistant.devices.timeline import TimedCapability
from assistant.spoken import number_words

IDLE, DELAYED, RUNNING, PAUSED, FINISHED = "idle", "delayed", "running", "paused", "finished"


@dataclass(frozen=True)
class Program:
    minutes: int
    temperatures: tuple[int, int] | None = None  # the range it washes at; None: it does not heat
    default_temperature: int | None = None
    max_spin: int | None = None  # rpm; None: it does not spin (a dishwasher)
    default_spin: int | None = None


WASHER_PROGRAMS = {
    "cotton": Program(170, (20, 90), 40, 1600, 1400),
    "synthetics": Program(110, (20, 60), 40, 1200, 1000),
    "delicates": Program(50, (30, 40), 30, 600, 600),
    "wool": Program(40, (20, 40), 30, 800, 800),
    "quick": Program(30, (20, 40), 30, 1200, 800),
    "eco": Program(210, (20, 60), 40, 1400, 1400),  # long and lukewarm is what saves energy
    "bedding": Program(130, (20, 60), 40, 1000, 1000),
    "sportswear": Program(70, (20, 40), 30, 1000, 800),
    "hand_wash": Program(40, (20, 30), 20, 600, 400),
    "mixed": Program(80, (20, 60), 40, 1400, 1200),
    "rinse_and_spin": Program(20, None, None, 1600, 1200),
    "spin_only": Program(15, None, None, 1600, 1400),
    "darks": Program(90, (20, 40), 30, 1000, 800),
    "towels": Program(150, (40, 90), 60, 1600, 1400),
    "baby_care": Program(140, (40, 90), 60, 1400, 1200),
    "allergy": Program(180, (60, 90), 60, 1400, 1400),
}
DISHWASHER_PROGRAMS = {
    "eco": Program(225, (50, 50), 50),
    "auto": Program(150, (45, 65), 55),
    "intensive": Program(135, (70, 70), 70),
    "quick": Program(30, (45, 45), 45),
    "glass": Program(90, (40, 40), 40),
    "pre_rinse": Program(15),
    "hygiene": Program(160, (70, 70), 70),
    "night": Program(240, (50, 50), 50),  # slow and quiet
    "half_load": Program(100, (50, 50), 50),
}
MAX_DELAY_S = 24 * 3600
RINSE_AID_PER_RUN_PERCENT, SALT_PER_RUN_PERCENT = 4, 3
LOW_SUPPLY_PERCENT = 15  # the dishwasher's rinse aid and salt lights come on below this


class ProgramCycle(TimedCapability):
    """The cycle shared by the washer and the dishwasher."""

    programs: ClassVar[dict[str, Program]]
    default_program: ClassVar[str]
    started_text: ClassVar[str]  # "{program}" is filled in
    finished_text: ClassVar[str]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._state = IDLE
        self._program = self.default_program
        self._temperature: int | None = None
        self._spin: int | None = None
        self._starts_at: datetime | None = None  # while delayed
        self._ends_at: datetime | None = None  # while running
        self._left_s = 0.0  # while paused or delayed
        self._finished_at: datetime | None = None
        self._door_open = False

    def pause(self) -> Outcome:
        now = self._settle()
        if self._state != RUNNING or self._ends_at is None:
            return Outcome.refused(self._not_running())
        self._left_s, self._ends_at, self._state = (self._ends_at - now).total_seconds(), None, PAUSED
        return Outcome.done(remaining=round(self._left_s))

    def resume(self) -> Outcome:
        now = self._settle()
        if self._state == RUNNING:
            return Outcome.done(remaining=round(self._remaining()))
        if self._state != PAUSED:
            return Outcome.refused(self._not_running())
        if self._door_open:
            return Outcome.refused("the door is open")
        self._ends_at, self._state = now + timedelta(seconds=self._left_s), RUNNING
        return Outcome.done(remaining=round(self._left_s))

    def cancel(self) -> Outcome:
        self._settle()
        if self._state not in (RUNNING, PAUSED, DELAYED):
            return Outcome.refused("nothing is running")
        self._state, self._starts_at, self._ends_at = IDLE, None, None
        return Outcome.done()

    def remaining(self) -> Outcome:
        self._settle()
        if self._state not in (RUNNING, PAUSED, DELAYED):
            return Outcome.refused(self._not_running())
        return Outcome.done(remaining=round(self._remaining()))

    def delay_start(
        self,
        delay: int | None = None,
        start_time: str | None = None,
        finish_time: str | None = None,
        program: str | None = None,
    ) -> Outcome:
        now = self._settle()
        chosen = program or self.default_program
        given = [value for value in (delay, start_time, finish_time) if value is not None]
        if not given:
            return Outcome.refused("it needs a delay, a start time or a finish time")
        if len(given) > 1:
            return Outcome.refused("it takes either a delay, a start time or a finish time, not more")
        busy = self._cannot_start()
        if busy is not None:
            return Outcome.refused(busy)
        duration_s = self.programs[chosen].minutes * 60
        if finish_time is not None:
            starts_at = next_at(finish_time, now) - timedelta(seconds=duration_s)
            if starts_at < now:
                return Outcome.refused(
                    f"the {say_name(chosen)} program takes {say_duration(duration_s)}, "
                    f"so it cannot finish by {say_time(finish_time)}"
                )
        elif start_time is not None:
            starts_at = next_at(start_time, now)
        else:
            starts_at = now + timedelta(seconds=delay or 0)
        if starts_at - now > timedelta(seconds=MAX_DELAY_S):
            return Outcome.refused(f"the delay can be {say_duration(MAX_DELAY_S)} at most")
        self._choose(chosen)
        self._state, self._starts_at, self._left_s = DELAYED, starts_at, float(duration_s)
        return Outcome.done()

    # What people do to the appliance besides talking to it (scenarios use these).

    def open_door(self) -> bool:
        """Open the door; False while a program locks it."""
        self._settle()
        if self._state == RUNNING:
            return False
        self._door_open = True
        if self._state == FINISHED:
            self._state = IDLE  # emptied
        return True

    def close_door(self) -> None:
        self._door_open = False

    def state(self) -> dict[str, Any]:
        self._settle()
        busy = self._state in (RUNNING, PAUSED, DELAYED)
        return {
            "state": self._state,
            "program": self._program if busy or self._state == FINISHED else None,
            "remaining_s": round(self._remaining()) if busy else 0,
            "starts_at": clock_time(self._starts_at) if self._starts_at else None,
            "door": "open" if self._door_open else "closed",
        }

    def _start_now(self, program: str, temperature: int | None = None, spin: int | None = None) -> Outcome:
        now = self._settle()
        busy = self._cannot_start()
        if busy is not None:
            return Outcome.refused(busy)
        self._choose(program, temperature, spin)
        duration_s = self.programs[program].minutes * 60
        self._state, self._ends_at = RUNNING, now + timedelta(seconds=duration_s)
        return Outcome.done(remaining=duration_s)

    def _choose(self, program: str, temperature: int | None = None, spin: int | None = None) -> None:
        settings = self.programs[program]
        self._program = program
        self._temperature = temperature if temperature is not None else settings.default_temperature
        self._spin = spin if spin is not None else settings.default_spin

    def _cannot_start(self) -> str | None:
        """Why no program can start now, or None."""
        if self._state in (RUNNING, PAUSED):
            return f"the {say_name(self._program)} program is {self._state}"
        if self._state == DELAYED and self._starts_at is not None:
            return (
                f"the {say_name(self._program)} program is waiting to start at {say_time(clock_time(self._starts_at))}"
            )
        if self._door_open:
            return "the door is open"
        return None

    def _not_running(self) -> str:
        if self._state == DELAYED and self._starts_at is not None:
            return f"it is waiting to start at {say_time(clock_time(self._starts_at))}"
        if self._state == PAUSED:
            return "it is already paused"
        if self._state == FINISHED and self._finished_at is not None:
            return f"the {say_name(self._program)} program finished at {say_time(clock_time(self._finished_at))}"
        return "no program is running"

    def _remaining(self) -> float:
        """Seconds until the program is done (a delayed one: including the wait)."""
        now = self.clock.now()
        if self._state == RUNNING and self._ends_at is not None:
            return (self._ends_at - now).total_seconds()
        if self._state == DELAYED and self._starts_at is not None:
            return (self._starts_at - now).total_seconds() + self._left_s
        return self._left_s if self._state == PAUSED else 0.0

    def _next_event(self) -> datetime | None:
        if self._state == DELAYED:
            return self._starts_at
        return self._ends_at if self._state == RUNNING else None

    def _on_event(self, at: datetime) -> None:
        program = say_name(self._program)
        if self._state == DELAYED:
            self._starts_at = None
            if self._door_open:
                self._state = IDLE
                self._announce(
                    at, f"{self.domain}.not_started", f"The {program} program could not start: the door is open."
                )
                return
            self._state, self._ends_at = RUNNING, at + timedelta(seconds=self._left_s)
            self._announce(at, f"{self.domain}.started", self.started_text.format(program=program))
        else:
            self._state, self._ends_at, self._finished_at = FINISHED, None, at
            self._finished()
            self._announce(at, f"{self.domain}.finished", self.finished_text.format(program=program))

    def _finished(self) -> None:
        """What a finished program uses up."""


class Washer(ProgramCycle):
    domain = "washer"
    programs = WASHER_PROGRAMS
    default_program = "cotton"
    started_text = "The {program} wash has started."
    finished_text = "The {program} wash is done."

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.loaded = True  # the drum holds laundry (the machine weighs it)

    def start(self, program: str, temperature: float | None = None, spin: int | None = None) -> Outcome:
        settings = self.programs[program]
        name = say_name(program)
        if temperature is not None:
            if settings.temperatures is None:
                return Outcome.refused(f"the {name} program does not heat the water")
            low, high = settings.temperatures
            if temperature > high:
                return Outcome.refused(f"the {name} program goes up to {say_degrees(high)}")
            if temperature < low:
                return Outcome.refused(f"the {name} program washes at {say_degrees(low)} or more")
        if spin is not None and settings.max_spin is not None and spin > settings.max_spin:
            return Outcome.refused(f"the {name} program spins at {number_words(settings.max_spin)} rpm at most")
        if not self.loaded:
            return Outcome.refused("the drum is empty")
        return self._start_now(program, None if temperature is None else round(temperature), spin)

    def delay_start(
        self,
        delay: int | None = None,
        start_time: str | None = None,
        finish_time: str | None = None,
        program: str | None = None,
    ) -> Outcome:
        if not self.loaded:
            return Outcome.refused("the drum is empty")
        return super().delay_start(delay, start_time, finish_time, program)

    def state(self) -> dict[str, Any]:
        shown = super().state()
        busy = self._state != IDLE
        return shown | {
            "temperature": self._temperature if busy else None,
            "spin": self._spin if busy else None,
            "loaded": self.loaded,
        }


class Dishwasher(ProgramCycle):
    domain = "dishwasher"
    programs = DISHWASHER_PROGRAMS
    default_program = "eco"
    started_text = "The dishwasher has started the {program} program."
    finished_text = "The dishes are done: the {program} program has finished."

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.rinse_aid_percent = 60.0
        self.salt_percent = 10.0  # the salt light is on: a scenario can ask about it

    def start(self, program: str = default_program) -> Outcome:
        return self._start_now(program)

    def status(self) -> Outcome:
        self._settle()
        return Outcome.done(
            state=self._state,
            remaining=round(self._remaining()),
            rinse_aid=_supply(self.rinse_aid_percent),
            salt=_supply(self.salt_percent),
        )

    def state(self) -> dict[str, Any]:
        return super().state() | {"rinse_aid": _supply(self.rinse_aid_percent), "salt": _supply(self.salt_percent)}

    def _finished(self) -> None:
        self.rinse_aid_percent = max(0.0, self.rinse_aid_percent - RINSE_AID_PER_RUN_PERCENT)
        self.salt_percent = max(0.0, self.salt_percent - SALT_PER_RUN_PERCENT)


def _supply(percent: float) -> str:
    return "low" if percent < LOW_SUPPLY_PERCENT else "ok"

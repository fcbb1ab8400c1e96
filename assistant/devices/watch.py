"""The smartwatch itself: workouts, heart rate, steps, battery, do not disturb,
flashlight, screen brightness and finding the phone.

Readings are deterministic functions of the simulated time, so a scripted
conversation gets the same numbers every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from assistant.devices.base import Outcome
from assistant.devices.clocks import past_day
from assistant.devices.phrases import say_name, say_percent
from assistant.devices.timeline import TimedCapability
from assistant.spoken import number_words

BODY_WEIGHT_KG = 70.0  # until the wearer enters theirs
# Metabolic equivalents (Compendium of Physical Activities): kcal = MET x kg x hours.
MET = {
    "running": 9.8, "walking": 3.5, "cycling": 7.5, "swimming": 7.0, "hiking": 6.0, "yoga": 2.5,
    "strength_training": 5.0, "rowing": 7.0, "elliptical": 5.0, "hiit": 8.0, "pilates": 3.0, "dance": 5.5,
}  # fmt: skip
STEPS_PER_MINUTE = {"running": 160, "walking": 110, "hiking": 100, "dance": 90, "elliptical": 130}
RESTING_BPM = 64
BPM_PER_MET = 11  # a workout's heart rate: resting plus this much per MET above rest
MAX_WORKOUT_BPM = 185
HEART_RATE_RAMP_S = 180.0  # the heart rate climbs to its workout level over three minutes
DAY_STEPS_MIN, DAY_STEPS_SPREAD = 5_000, 6_000  # ordinary days: 5000 to 11000 steps away from workouts
WAKING_HOURS = (time(7, 0), time(23, 0))  # steps are spread over these hours
STEP_HISTORY_DAYS = 30
START_BATTERY_PERCENT = 80.0
IDLE_DRAIN_PERCENT_PER_H = 1.2  # about three days on a charge
FLASHLIGHT_DRAIN_PERCENT_PER_H = 15.0  # the whole screen at full brightness
WORKOUT_DRAIN_PERCENT_PER_H = 9.0  # GPS and the heart rate sensor
LOW_BATTERY_PERCENT = 10.0
MIN_BRIGHTNESS, MAX_BRIGHTNESS, BRIGHTNESS_STEP = 10, 100, 10  # percent; the screen never goes fully dark
DEFAULT_BRIGHTNESS = 60


@dataclass(frozen=True)
class _Workout:
    kind: str
    started: datetime
    ended: datetime

    def steps_on(self, day: date) -> float:
        start = max(self.started, datetime.combine(day, time()))
        end = min(self.ended, datetime.combine(day + timedelta(days=1), time()))
        return max(0.0, (end - start).total_seconds()) / 60 * STEPS_PER_MINUTE.get(self.kind, 0)


class Watch(TimedCapability):
    domain = "watch"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._battery = START_BATTERY_PERCENT
        self._low_battery_told = False
        self._workout: tuple[str, datetime] | None = None  # kind and start of the one being tracked
        self._workouts: list[_Workout] = []
        self._dnd = False
        self._dnd_until: datetime | None = None
        self._flashlight = False
        self._brightness = DEFAULT_BRIGHTNESS

    def workout_start(self, workout_type: str) -> Outcome:
        self._settle()
        if self._workout is not None:
            return Outcome.refused(f"you are already tracking {say_name(self._workout[0])}")
        self._workout = (workout_type, self.clock.now())
        return Outcome.done()

    def workout_stop(self, workout_type: str | None = None) -> Outcome:
        self._settle()
        if self._workout is None:
            return Outcome.refused("no workout is being tracked")
        kind, started = self._workout
        if workout_type is not None and workout_type != kind:
            return Outcome.refused(f"you are tracking {say_name(kind)}, not {say_name(workout_type)}")
        now = self.clock.now()
        self._workout = None
        self._workouts.append(_Workout(kind, started, now))
        hours = (now - started).total_seconds() / 3600
        return Outcome.done(elapsed=round(hours * 3600), calories=round(MET[kind] * BODY_WEIGHT_KG * hours))

    def heart_rate(self) -> Outcome:
        now = self.clock.now()
        wiggle = (now.hour * 60 + now.minute) * 37 % 7 - 3  # beat-to-beat variation, the same every run
        bpm = float(RESTING_BPM)
        if self._workout is not None:
            kind, started = self._workout
            target = min(MAX_WORKOUT_BPM, RESTING_BPM + BPM_PER_MET * (MET[kind] - 1))
            bpm += (target - RESTING_BPM) * min(1.0, self.seconds_since(started) / HEART_RATE_RAMP_S)
        return Outcome.done(bpm=round(bpm) + wiggle)

    def steps(self, date: str = "today") -> Outcome:
        today = self.clock.now().date()
        day = past_day(date, today)
        if day is None:
            return Outcome.refused(f"{date} is not a date")
        if day > today:
            return Outcome.refused("that day has not come yet")
        if (today - day).days >= STEP_HISTORY_DAYS:
            return Outcome.refused(f"the watch keeps {number_words(STEP_HISTORY_DAYS)} days of steps")
        return Outcome.done(steps=self._steps_on(day))

    def battery(self) -> Outcome:
        self._settle()
        return Outcome.done(level=round(self._battery))

    def dnd_on(self, duration: int | None = None) -> Outcome:
        self._settle()
        self._dnd = True
        self._dnd_until = self.clock.now() + timedelta(seconds=duration) if duration is not None else None
        return Outcome.done()

    def dnd_off(self) -> Outcome:
        self._settle()
        self._dnd, self._dnd_until = False, None
        return Outcome.done()

    def flashlight_on(self) -> Outcome:
        self._settle()
        self._flashlight = True
        return Outcome.done()

    def flashlight_off(self) -> Outcome:
        self._settle()
        self._flashlight = False
        return Outcome.done()

    def find_phone(self) -> Outcome:
        return Outcome.done()  # the phone rings; nothing changes on the watch

    def brightness(self, level: float) -> Outcome:
        if not MIN_BRIGHTNESS <= level <= MAX_BRIGHTNESS:
            return Outcome.refused(
                f"the screen goes from {number_words(MIN_BRIGHTNESS)} to {say_percent(MAX_BRIGHTNESS)}"
            )
        self._brightness = round(level)
        return Outcome.done()

    def brightness_up(self) -> Outcome:
        self._brightness = min(MAX_BRIGHTNESS, self._brightness + BRIGHTNESS_STEP)
        return Outcome.done(level=self._brightness)

    def brightness_down(self) -> Outcome:
        self._brightness = max(MIN_BRIGHTNESS, self._brightness - BRIGHTNESS_STEP)
        return Outcome.done(level=self._brightness)

    def state(self) -> dict[str, Any]:
        self._settle()
        return {
            "battery": round(self._battery),
            "workout": self._workout[0] if self._workout else None,
            "do_not_disturb": self._dnd,
            "flashlight": self._flashlight,
            "brightness": self._brightness,
            "steps_today": self._steps_on(self.clock.now().date()),
        }

    def _drain_percent_per_s(self) -> float:
        drain = IDLE_DRAIN_PERCENT_PER_H
        drain += FLASHLIGHT_DRAIN_PERCENT_PER_H if self._flashlight else 0.0
        drain += WORKOUT_DRAIN_PERCENT_PER_H if self._workout is not None else 0.0
        return drain / 3600

    def _low_battery_at(self) -> datetime | None:
        if self._low_battery_told:
            return None
        seconds = max(0.0, self._battery - LOW_BATTERY_PERCENT) / self._drain_percent_per_s()
        return self._settled_at + timedelta(seconds=seconds)

    def _next_event(self) -> datetime | None:
        return min((t for t in (self._low_battery_at(), self._dnd_until) if t), default=None)

    def _on_event(self, at: datetime) -> None:
        if at == self._dnd_until:
            self._dnd, self._dnd_until = False, None
            self._announce(at, "watch.dnd_ended", "Do not disturb is off.")
        else:
            self._low_battery_told = True
            self._announce(at, "watch.battery_low", f"Battery low: {say_percent(LOW_BATTERY_PERCENT)} left.")

    def _run(self, seconds: float) -> None:
        self._battery = max(0.0, self._battery - self._drain_percent_per_s() * seconds)

    def _steps_on(self, day: date) -> int:
        everyday = DAY_STEPS_MIN + day.toordinal() * 7919 % DAY_STEPS_SPREAD  # fixed per date
        now = self.clock.now()
        wake, sleep = (datetime.combine(day, moment) for moment in WAKING_HOURS)
        awake = min(1.0, max(0.0, (now - wake) / (sleep - wake)))
        workouts = [*self._workouts]
        if self._workout is not None:
            workouts.append(_Workout(self._workout[0], self._workout[1], now))
        return round(everyday * awake + sum(workout.steps_on(day) for workout in workouts))

"""The coffee maker: builds the drink ordered (drink, size, roast, shots, milk,
sugar), brews it from its water tank and bean hopper, and descales."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from assistant.devices.base import Outcome
from assistant.devices.phrases import say_duration, say_percent
from assistant.devices.timeline import TimedCapability

WATER_TANK_ML = 1800
BEAN_HOPPER_G = 250
START_WATER_PERCENT, START_BEANS_PERCENT = 70.0, 60.0
DEFAULT_SIZE = "medium"
CUP_ML = {
    "small": 240, "medium": 350, "large": 470,
    "eight ounce": 240, "twelve ounce": 350, "sixteen ounce": 470, "twenty ounce": 590,
}  # fmt: skip
SHOT_ML, SHOT_BEANS_G = 30, 9  # one espresso shot
SHOTS = {"single shot": 1, "double shot": 2, "triple shot": 3}
BREWED_BEANS_G_PER_L = 60  # filter coffee strength
ESPRESSO_DRINKS = {"espresso": 1, "americano": 2, "latte": 2, "cappuccino": 2, "mocha": 2, "iced mocha": 2}  # shots
TOPPED_WITH_WATER = frozenset({"americano"})  # shots filled up to the cup size with hot water
BREW_S = 40
ESPRESSO_BREW_S = 25
DESCALE_S = 20 * 60
DESCALE_MIN_WATER_PERCENT = 50  # descaler plus water for the whole program


@dataclass(frozen=True)
class Drink:
    """A drink as ordered, with what it takes to make."""

    name: str
    size: str | None
    roast: str | None
    shots: int
    milk: str | None
    sugar: str | None
    water_ml: float
    beans_g: float

    @property
    def said(self) -> str:
        return f"{self.size} {self.name}" if self.size else self.name

    def to_dict(self) -> dict[str, Any]:
        return {
            "drink": self.name, "size": self.size, "roast": self.roast, "shots": self.shots,
            "milk": self.milk, "sugar": self.sugar,
        }  # fmt: skip


class Coffee(TimedCapability):
    domain = "coffee"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.water_ml = WATER_TANK_ML * START_WATER_PERCENT / 100
        self.beans_g = BEAN_HOPPER_G * START_BEANS_PERCENT / 100
        self._brewing: Drink | None = None
        self._ready_at: datetime | None = None
        self._descaled_at: datetime | None = None  # when descaling ends, while it runs

    # The intent and slot names are the coffee-maker benchmark grammar's, camel case and all.
    def orderDrink(
        self,
        coffeeDrink: str,
        size: str | None = None,
        roast: str | None = None,
        numberOfShots: str | None = None,
        milkAmount: str | None = None,
        sugarAmount: str | None = None,
    ) -> Outcome:
        now = self._settle()
        busy = self._busy()
        if busy is not None:
            return Outcome.refused(busy)
        drink = make_drink(coffeeDrink, size, roast, numberOfShots, milkAmount, sugarAmount)
        if drink.water_ml > self.water_ml:
            return Outcome.refused("there is not enough water in the tank")
        if drink.beans_g > self.beans_g:
            return Outcome.refused("there are not enough beans")
        self.water_ml -= drink.water_ml
        self.beans_g -= drink.beans_g
        brew_s = ESPRESSO_BREW_S if drink.name == "espresso" else BREW_S
        self._brewing, self._ready_at = drink, now + timedelta(seconds=brew_s)
        return Outcome.done()

    def status(self) -> Outcome:
        self._settle()
        return Outcome.done(water=self._water_percent(), beans=self._beans_percent())

    def descale(self) -> Outcome:
        now = self._settle()
        if self._descaled_at is not None:
            return Outcome.done(remaining=round(self._seconds_until(self._descaled_at)))
        busy = self._busy()
        if busy is not None:
            return Outcome.refused(busy)
        if self._water_percent() < DESCALE_MIN_WATER_PERCENT:
            return Outcome.refused(f"the water tank needs to be at least {say_percent(DESCALE_MIN_WATER_PERCENT)} full")
        self._descaled_at = now + timedelta(seconds=DESCALE_S)
        return Outcome.done(remaining=DESCALE_S)

    # What people do to the machine besides talking to it (scenarios use these).

    def refill_water(self) -> None:
        self.water_ml = WATER_TANK_ML

    def refill_beans(self) -> None:
        self.beans_g = BEAN_HOPPER_G

    def state(self) -> dict[str, Any]:
        self._settle()
        return {
            "water": self._water_percent(),
            "beans": self._beans_percent(),
            "brewing": self._brewing.to_dict() if self._brewing else None,
            "descaling": self._descaled_at is not None,
        }

    def _busy(self) -> str | None:
        if self._brewing is not None:
            return f"it is still making your {self._brewing.said}"
        if self._descaled_at is not None:
            return f"it is descaling for another {say_duration(max(1.0, self._seconds_until(self._descaled_at)))}"
        return None

    def _water_percent(self) -> int:
        return round(100 * self.water_ml / WATER_TANK_ML)

    def _beans_percent(self) -> int:
        return round(100 * self.beans_g / BEAN_HOPPER_G)

    def _next_event(self) -> datetime | None:
        return min((t for t in (self._ready_at, self._descaled_at) if t), default=None)

    def _on_event(self, at: datetime) -> None:
        if at == self._ready_at and self._brewing is not None:
            self._announce(at, "coffee.ready", f"Your {self._brewing.said} is ready.")
            self._brewing, self._ready_at = None, None
        else:
            self._descaled_at, self.water_ml = None, 0.0  # the tank went through the machine
            self._announce(at, "coffee.descaled", "Descaling is done; rinse and refill the water tank.")


def make_drink(
    name: str, size: str | None, roast: str | None, shots: str | None, milk: str | None, sugar: str | None
) -> Drink:
    """The drink ordered, with the water and beans it takes."""
    cup_ml = CUP_ML[size or DEFAULT_SIZE]
    water_ml: float
    beans_g: float
    if name in ESPRESSO_DRINKS:
        count = SHOTS[shots] if shots else ESPRESSO_DRINKS[name]
        water_ml = cup_ml if name in TOPPED_WITH_WATER else count * SHOT_ML  # milk comes from the frother
        beans_g = count * SHOT_BEANS_G
    else:  # brewed coffee: extra shots go in on top
        count = SHOTS[shots] if shots else 0
        water_ml = cup_ml + count * SHOT_ML
        beans_g = cup_ml / 1000 * BREWED_BEANS_G_PER_L + count * SHOT_BEANS_G
    return Drink(name, size, roast, count, milk, sugar, water_ml, beans_g)

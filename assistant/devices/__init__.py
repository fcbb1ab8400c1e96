"""Simulated appliances behind the one `Device` interface (see base.py)."""

from __future__ import annotations

from assistant.devices.alarms import Alarms
from assistant.devices.base import Capability, Device, Notice, Outcome, SimulatedDevice, state_changes
from assistant.devices.clock import Clock, SimClock, WallClock
from assistant.devices.clocks import Clocks
from assistant.devices.coffee import Coffee
from assistant.devices.cycles import Dishwasher, Washer
from assistant.devices.fridge import Fridge
from assistant.devices.lights import Lights
from assistant.devices.media import Media
from assistant.devices.oven import Oven
from assistant.devices.stopwatch import Stopwatch
from assistant.devices.thermostat import Thermostat
from assistant.devices.timers import Timers
from assistant.devices.vacuum import Vacuum
from assistant.devices.watch import Watch
from assistant.profiles import DeviceProfile

# Every simulated domain; "general" (yes, no, cancel, help) belongs to the dialogue.
CAPABILITIES: dict[str, type[Capability]] = {
    capability.domain: capability
    for capability in (
        Clocks,
        Timers,
        Alarms,
        Stopwatch,
        Watch,
        Media,
        Lights,
        Thermostat,
        Vacuum,
        Coffee,
        Washer,
        Dishwasher,
        Oven,
        Fridge,
    )
}


def simulate(profile: DeviceProfile, clock: Clock) -> SimulatedDevice:
    """The simulated appliance of a profile, with a capability for each of its domains."""
    domains = [domain for domain in profile.domains if domain in CAPABILITIES]
    return SimulatedDevice(profile.name, [CAPABILITIES[domain](clock) for domain in domains])


__all__ = [
    "CAPABILITIES", "Capability", "Clock", "Device", "Notice", "Outcome", "SimClock", "SimulatedDevice",
    "WallClock", "simulate", "state_changes",
]  # fmt: skip

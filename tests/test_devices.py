from __future__ import annotations

import inspect
import json
import random
from datetime import datetime, timedelta

import pytest

from assistant.devices import CAPABILITIES, Capability, Notice, Outcome, SimClock, simulate
from assistant.devices.alarms import Alarms
from assistant.devices.clocks import Clocks
from assistant.devices.coffee import Coffee
from assistant.devices.cycles import Dishwasher, Washer
from assistant.devices.fridge import Fridge
from assistant.devices.media import Media
from assistant.devices.oven import Oven
from assistant.devices.stopwatch import Stopwatch
from assistant.devices.thermostat import Thermostat
from assistant.devices.vacuum import Vacuum
from assistant.devices.watch import Watch
from assistant.intents import IntentSet
from assistant.profiles import DeviceProfile

START = datetime(2026, 11, 26, 8, 0)  # SimClock's default: a Thursday, 08:00
SAMPLED_ROUNDS = 12
STEPS_S = (0, 0, 5, 40, 600, 3600, 4 * 3600)  # how far the clock moves between sampled actions


def make(capability: type[Capability]) -> tuple[Capability, SimClock]:
    clock = SimClock(START)
    return capability(clock), clock


def done(outcome: Outcome) -> dict[str, object]:
    assert outcome.ok, outcome.reason
    return dict(outcome.results)


def refused(outcome: Outcome) -> str:
    assert not outcome.ok, outcome.results
    assert outcome.reason is not None
    return outcome.reason


def texts(notices: list[Notice]) -> list[str]:
    return [notice.text for notice in notices]


# Every device, every intent --------------------------------------------------


def test_every_profile_gets_a_capability_for_each_of_its_domains(profiles: dict[str, DeviceProfile]) -> None:
    for profile in profiles.values():
        device = simulate(profile, SimClock())
        assert set(device.domains) == set(profile.domains) - {"general"}, profile.name


def test_each_intent_has_a_method_that_takes_its_slots(intents: IntentSet) -> None:
    for intent in intents.intents:
        if intent.domain == "general":
            continue
        capability = CAPABILITIES[intent.domain]
        verb = intent.name.split(".", 1)[1]
        parameters = dict(inspect.signature(getattr(capability, verb)).parameters)
        parameters.pop("self")
        assert set(parameters) == set(intent.slots), intent.name
        for name, parameter in parameters.items():
            has_default = parameter.default is not inspect.Parameter.empty
            assert has_default != intent.slots[name].required, f"{intent.name}: {name}"


def test_every_intent_acts_on_sampled_values_and_reports_its_result_fields(
    profiles: dict[str, DeviceProfile], intents: IntentSet
) -> None:
    for profile in profiles.values():
        clock = SimClock(START)
        device = simulate(profile, clock)
        rng = random.Random(profile.name)
        domain_intents = [intent for intent in intents.intents if intent.domain in device.domains]
        for _ in range(SAMPLED_ROUNDS):
            for intent in domain_intents:
                slots = {
                    name: slot.type.sample(rng)
                    for name, slot in intent.slots.items()
                    if slot.required or rng.random() < 0.5
                }
                outcome = device.act(intent.name, slots)
                where = f"{profile.name}: {intent.name} {slots}"
                if outcome.ok:
                    assert set(outcome.results) == set(intent.result), where
                    for name, value in outcome.results.items():
                        assert intent.result[name].say(value), where
                else:
                    assert outcome.reason and outcome.reason == outcome.reason.strip(), where
                    assert outcome.reason[0].islower() and not outcome.reason.endswith("."), where
                clock.advance(rng.choice(STEPS_S))
                for notice in device.poll():
                    assert notice.at <= clock.now() and notice.text.endswith("."), where
                json.dumps(device.state())


def test_notices_come_once_and_in_time_order(profiles: dict[str, DeviceProfile]) -> None:
    clock = SimClock(START)
    device = simulate(profiles["smart_speaker"], clock)
    assert device.act("oven.preheat", {"temperature": 200}).ok
    assert device.act("timer.start", {"duration": 300}).ok
    assert device.act("washer.start", {"program": "quick"}).ok
    clock.advance(3 * 3600)
    notices = device.poll()
    assert [notice.event for notice in notices] == ["timer.finished", "oven.preheated", "washer.finished"]
    assert device.poll() == []


# Clock -------------------------------------------------------------------------


def test_clock_says_the_time_and_dates_from_the_simulated_now() -> None:
    clock_domain, clock = make(Clocks)
    clock.advance(95 * 60)
    assert done(clock_domain.act("time", {})) == {"time": "09:35"}
    assert done(clock_domain.act("date", {})) == {"date": "11-26", "weekday": "thursday"}
    assert done(clock_domain.act("date", {"day": "tomorrow"})) == {"date": "11-27", "weekday": "friday"}
    assert done(clock_domain.act("date", {"day": "monday"})) == {"date": "11-30", "weekday": "monday"}
    assert done(clock_domain.act("date", {"day": "12-25"})) == {"date": "12-25", "weekday": "friday"}


def test_days_until_counts_to_the_next_occurrence() -> None:
    clock_domain, _ = make(Clocks)
    assert done(clock_domain.act("days_until", {"date": "today"})) == {"days": 0}
    assert done(clock_domain.act("days_until", {"date": "thursday"})) == {"days": 0}
    assert done(clock_domain.act("days_until", {"date": "wednesday"})) == {"days": 6}
    assert done(clock_domain.act("days_until", {"date": "12-25"})) == {"days": 29}
    assert done(clock_domain.act("days_until", {"date": "11-25"})) == {"days": 364}
    assert refused(clock_domain.act("days_until", {"date": "yesterday"})) == "that day has already passed"


# Timers and alarms -------------------------------------------------------------


def test_a_timer_rings_when_its_time_is_up_and_stops_ringing_when_silenced(profiles: dict[str, DeviceProfile]) -> None:
    clock = SimClock(START)
    device = simulate(profiles["kitchen_timer"], clock)
    assert device.act("timer.start", {"duration": 300, "name": "eggs"}).ok
    clock.advance(299)
    assert device.poll() == []
    clock.advance(1)
    (notice,) = device.poll()
    assert (notice.at, notice.text, notice.ringing) == (
        START + timedelta(seconds=300),
        "Time's up: your eggs timer is done.",
        True,
    )
    assert device.silence() is True
    assert device.silence() is False


def test_an_alarm_rings_at_its_time_snoozes_and_stops() -> None:
    alarms, clock = make(Alarms)
    assert done(alarms.act("set", {"time": "07:00", "label": "gym"})) == {}
    assert refused(alarms.act("set", {"time": "07:00"})) == "an alarm is already set for seven o'clock a m"
    assert done(alarms.act("list", {})) == {"count": 1, "next": "07:00"}
    assert refused(alarms.act("snooze", {})) == "no alarm is ringing"
    clock.set(datetime(2026, 11, 27, 6, 59, 59))
    assert alarms.poll() == []
    clock.advance(1)
    (ring,) = alarms.poll()
    assert (ring.at, ring.text, ring.ringing) == (
        datetime(2026, 11, 27, 7, 0),
        "It's seven o'clock a m: your gym alarm.",
        True,
    )
    assert done(alarms.act("snooze", {})) == {"until": "07:09"}
    clock.advance(9 * 60)
    (again,) = alarms.poll()
    assert again.text == "Snooze is over: it's seven oh nine a m."
    assert done(alarms.act("stop", {})) == {}
    assert refused(alarms.act("stop", {})) == "no alarm is ringing"
    assert refused(alarms.act("list", {})) == "the alarm list is empty"  # a one-off alarm is gone once it rang


def test_a_weekday_alarm_skips_the_weekend_and_stays_set() -> None:
    alarms, clock = make(Alarms)
    assert alarms.act("set", {"time": "06:30", "recurrence": "weekdays"}).ok
    rang = []
    for _ in range(5 * 24):
        clock.advance(3600)
        rang += [notice.at for notice in alarms.poll()]
        alarms.silence()
    assert [moment.strftime("%a %H:%M") for moment in rang] == ["Fri 06:30", "Mon 06:30", "Tue 06:30"]
    assert done(alarms.act("list", {})) == {"count": 1, "next": "06:30"}


def test_alarm_dates_and_cancelling() -> None:
    alarms, _ = make(Alarms)
    assert refused(alarms.act("set", {"time": "07:30", "date": "today"})) == "seven thirty a m today has already passed"
    assert alarms.act("set", {"time": "07:30", "date": "thursday"}).ok  # today's has passed: next week's
    assert alarms.act("set", {"time": "21:00"}).ok
    assert done(alarms.act("list", {})) == {"count": 2, "next": "21:00"}
    assert alarms.state()["alarms"][1]["rings_at"] == "2026-12-03T07:30"
    assert (
        refused(alarms.act("cancel", {"time": "06:00"}))
        == "the alarms are set for nine o'clock p m and seven thirty a m"
    )
    assert alarms.act("cancel", {}).ok  # the next one
    assert done(alarms.act("list", {})) == {"count": 1, "next": "07:30"}
    assert alarms.act("cancel", {"time": "07:30"}).ok
    assert refused(alarms.act("cancel", {})) == "no alarms are set"


# Stopwatch ---------------------------------------------------------------------


def test_stopwatch_counts_laps_stops_and_resets() -> None:
    stopwatch, clock = make(Stopwatch)
    assert refused(stopwatch.act("lap", {})) == "the stopwatch is not running"
    stopwatch.act("start", {})
    clock.advance(65)
    assert done(stopwatch.act("lap", {})) == {"lap": 1, "lap_time": 65}
    clock.advance(30)
    assert done(stopwatch.act("lap", {})) == {"lap": 2, "lap_time": 30}
    assert done(stopwatch.act("stop", {})) == {"elapsed": 95}
    clock.advance(100)
    assert done(stopwatch.act("status", {})) == {"elapsed": 95}
    stopwatch.act("start", {})
    clock.advance(5)
    assert done(stopwatch.act("status", {})) == {"elapsed": 100}
    stopwatch.act("reset", {})
    assert refused(stopwatch.act("status", {})) == "the stopwatch has not been started"


# Watch -------------------------------------------------------------------------


def test_a_workout_reports_its_time_and_calories_and_raises_the_heart_rate() -> None:
    watch, clock = make(Watch)
    resting = done(watch.act("heart_rate", {}))["bpm"]
    assert isinstance(resting, int) and 55 <= resting <= 75
    assert watch.act("workout_start", {"workout_type": "running"}).ok
    assert refused(watch.act("workout_start", {"workout_type": "yoga"})) == "you are already tracking running"
    clock.advance(30 * 60)
    working = done(watch.act("heart_rate", {}))["bpm"]
    assert isinstance(working, int) and 140 <= working <= 185
    assert refused(watch.act("workout_stop", {"workout_type": "swimming"})) == "you are tracking running, not swimming"
    assert done(watch.act("workout_stop", {})) == {"elapsed": 1800, "calories": 343}  # 9.8 MET x 70 kg x 0.5 h
    assert refused(watch.act("workout_stop", {})) == "no workout is being tracked"


def test_steps_grow_through_the_day_and_with_a_run_while_yesterday_stays_fixed() -> None:
    watch, clock = make(Watch)
    yesterday = done(watch.act("steps", {"date": "yesterday"}))["steps"]
    morning = done(watch.act("steps", {}))["steps"]
    clock.advance(3600)
    later = done(watch.act("steps", {}))["steps"]
    watch.act("workout_start", {"workout_type": "running"})
    clock.advance(600)
    watch.act("workout_stop", {})
    after_run = done(watch.act("steps", {"date": "today"}))["steps"]
    assert isinstance(morning, int) and isinstance(later, int) and isinstance(after_run, int)
    assert 0 < morning < later < after_run - 1600  # ten minutes of running is 1600 steps
    assert done(watch.act("steps", {"date": "yesterday"}))["steps"] == yesterday
    assert refused(watch.act("steps", {"date": "tomorrow"})) == "that day has not come yet"


def test_the_battery_drains_faster_with_the_flashlight_and_warns_when_low() -> None:
    watch, clock = make(Watch)
    assert done(watch.act("battery", {})) == {"level": 80}
    clock.advance(3600)
    assert done(watch.act("battery", {})) == {"level": 79}
    watch.act("flashlight_on", {})
    clock.advance(3600)
    assert done(watch.act("battery", {})) == {"level": 63}
    clock.advance(4 * 3600)
    (low,) = watch.poll()
    assert (low.event, low.text) == ("watch.battery_low", "Battery low: ten percent left.")
    assert START + timedelta(hours=5) < low.at < clock.now()


def test_do_not_disturb_for_a_while_ends_by_itself() -> None:
    watch, clock = make(Watch)
    watch.act("dnd_on", {"duration": 1800})
    clock.advance(1799)
    assert watch.poll() == [] and watch.state()["do_not_disturb"] is True
    clock.advance(60)
    (ended,) = watch.poll()
    assert (ended.at, ended.text) == (START + timedelta(seconds=1800), "Do not disturb is off.")
    assert watch.state()["do_not_disturb"] is False


def test_watch_brightness_stays_between_ten_and_a_hundred() -> None:
    watch, _ = make(Watch)
    assert refused(watch.act("brightness", {"level": 5})) == "the screen goes from ten to one hundred percent"
    watch.act("brightness", {"level": 95})
    assert done(watch.act("brightness_up", {})) == {"level": 100}
    watch.act("brightness", {"level": 15})
    assert done(watch.act("brightness_down", {})) == {"level": 10}


# Media -------------------------------------------------------------------------


def test_media_resumes_only_what_was_played_and_clamps_the_volume() -> None:
    media, _ = make(Media)
    assert refused(media.act("resume", {})) == "nothing is playing"
    assert refused(media.act("next", {})) == "nothing is playing"
    media.act("play", {"what": "some jazz", "source": "radio"})
    media.act("pause", {})
    assert refused(media.act("pause", {})) == "nothing is playing"
    assert media.act("resume", {}).ok and media.state()["playing"] is True
    assert done(media.act("volume_up", {})) == {"level": 50}
    assert done(media.act("volume_up", {"amount": 80})) == {"level": 100}
    assert done(media.act("volume_down", {"amount": 30})) == {"level": 70}
    media.act("mute", {})
    assert done(media.act("volume_down", {"amount": 100})) == {"level": 0}
    assert media.state()["muted"] is False


# Thermostat --------------------------------------------------------------------


def test_thermostat_limits_and_steps() -> None:
    thermostat, _ = make(Thermostat)
    assert refused(thermostat.act("set", {"temperature": 31})) == "the thermostat goes from five to thirty degrees"
    assert done(thermostat.act("up", {})) == {"target": 22}
    assert done(thermostat.act("down", {"amount": 1.5})) == {"target": 20.5}
    thermostat.act("set", {"temperature": 29.5})
    assert done(thermostat.act("up", {"amount": 3})) == {"target": 30}
    assert refused(thermostat.act("up", {})) == "it is already at thirty degrees, the highest setting"
    thermostat.act("mode", {"mode": "off"})
    assert done(thermostat.act("status", {})) == {"mode": "off", "target": 30}
    assert refused(thermostat.act("set", {"temperature": 20})) == "the thermostat is switched off"


def test_the_room_warms_toward_the_target_and_cools_when_off() -> None:
    thermostat, clock = make(Thermostat)
    assert done(thermostat.act("current", {})) == {"temperature": 19, "target": 21}
    clock.advance(40 * 60)
    assert done(thermostat.act("current", {})) == {"temperature": 20, "target": 21}
    clock.advance(3 * 3600)
    assert done(thermostat.act("current", {})) == {"temperature": 21, "target": 21}
    thermostat.act("mode", {"mode": "off"})
    clock.advance(5 * 3600)
    room = done(thermostat.act("current", {}))["temperature"]
    assert isinstance(room, (int, float)) and 15 <= room <= 17


# Fridge ------------------------------------------------------------------------


def test_fridge_and_freezer_refuse_settings_outside_their_range() -> None:
    fridge, _ = make(Fridge)
    assert refused(fridge.act("set_freezer_temperature", {"temperature": -14})) == (
        "the freezer goes from minus twenty four to minus sixteen degrees"
    )
    assert (
        refused(fridge.act("set_fridge_temperature", {"temperature": 9})) == "the fridge goes from one to eight degrees"
    )
    assert fridge.act("set_freezer_temperature", {"temperature": -20}).ok


def test_fridge_temperatures_follow_the_set_points_and_super_cool_ends_by_itself() -> None:
    fridge, clock = make(Fridge)
    assert done(fridge.act("status", {})) == {"fridge_temperature": 4, "freezer_temperature": -18, "door": "closed"}
    fridge.act("set_fridge_temperature", {"temperature": 7})
    clock.advance(2 * 3600)
    assert done(fridge.act("status", {}))["fridge_temperature"] == 6  # 7 - 3 / e^(2 / 1.5)
    clock.advance(4 * 3600)
    assert done(fridge.act("status", {}))["fridge_temperature"] == 7
    assert done(fridge.act("super_cool_on", {})) == {"ends_in": 6 * 3600}
    clock.advance(3600)
    assert done(fridge.act("super_cool_on", {})) == {"ends_in": 5 * 3600}
    clock.advance(5 * 3600)
    assert done(fridge.act("status", {}))["fridge_temperature"] == 2
    (ended,) = fridge.poll()
    assert (ended.at, ended.text) == (
        START + timedelta(hours=12),
        "Super cool is off; the fridge is back to seven degrees.",
    )
    assert refused(fridge.act("super_cool_off", {})) == "super cool is not on"
    assert done(fridge.act("super_freeze_on", {})) == {"ends_in": 50 * 3600}


def test_an_open_fridge_door_warms_the_fridge_and_beeps() -> None:
    fridge, clock = make(Fridge)
    assert isinstance(fridge, Fridge)
    fridge.open_door()
    clock.advance(119)
    assert fridge.poll() == []
    clock.advance(30 * 60)
    (beep,) = fridge.poll()
    assert (beep.at, beep.ringing) == (START + timedelta(seconds=120), True)
    assert done(fridge.act("status", {}))["door"] == "open"
    assert done(fridge.act("status", {}))["fridge_temperature"] >= 10  # type: ignore[operator]
    fridge.close_door()
    assert fridge.silence() is False


# Oven --------------------------------------------------------------------------


def test_the_oven_preheats_at_ten_degrees_a_minute_and_says_when_it_is_hot() -> None:
    oven, clock = make(Oven)
    assert done(oven.act("preheat", {"temperature": 180})) == {"ready_in": 954}  # (180 - 21) / 10 per minute
    clock.advance(600)
    assert done(oven.act("status", {})) == {"temperature": 121, "target": 180, "mode": "conventional", "remaining": 0}
    assert oven.poll() == []
    clock.advance(400)
    (hot,) = oven.poll()
    assert (hot.at, hot.text) == (START + timedelta(seconds=954), "The oven has reached one hundred eighty degrees.")
    assert done(oven.act("status", {}))["temperature"] == 180


def test_oven_mode_ranges_and_mode_changes() -> None:
    oven, _ = make(Oven)
    assert refused(oven.act("preheat", {"temperature": 150, "mode": "pizza"})) == (
        "in pizza mode the oven goes from one hundred eighty to two hundred fifty degrees"
    )
    assert done(oven.act("set_mode", {"mode": "fan"})) == {"temperature": 160}
    assert done(oven.act("set_mode", {"mode": "defrost"})) == {"temperature": 50}
    assert oven.state()["mode"] == "defrost"


def test_the_cooking_time_switches_the_oven_off_and_it_cools_down() -> None:
    oven, clock = make(Oven)
    assert refused(oven.act("cook_timer", {"duration": 1800})) == "the oven is off"
    oven.act("preheat", {"temperature": 200, "mode": "fan"})
    clock.advance(1200)
    assert oven.act("cook_timer", {"duration": 1800}).ok
    assert done(oven.act("status", {}))["remaining"] == 1800
    clock.advance(1800)
    notices = oven.poll()
    assert texts(notices) == [
        "The oven has reached two hundred degrees.",
        "Cooking time is over; the oven has switched off.",
    ]
    assert notices[1].ringing and oven.silence()
    assert refused(oven.act("status", {})) == "it is still two hundred degrees inside"
    clock.advance(45 * 60)
    assert refused(oven.act("status", {})) == "it is still eighty seven degrees inside"  # 21 + 179 / e
    assert refused(oven.act("off", {})) == "it is already off"


# Washer and dishwasher ---------------------------------------------------------


def test_washer_programs_limit_temperature_and_spin() -> None:
    washer, _ = make(Washer)
    assert (
        refused(washer.act("start", {"program": "wool", "temperature": 60}))
        == "the wool program goes up to forty degrees"
    )
    assert (
        refused(washer.act("start", {"program": "wool", "spin": 1200}))
        == "the wool program spins at eight hundred rpm at most"
    )
    assert (
        refused(washer.act("start", {"program": "towels", "temperature": 30}))
        == "the towels program washes at forty degrees or more"
    )
    assert (
        refused(washer.act("start", {"program": "spin_only", "temperature": 30}))
        == "the spin only program does not heat the water"
    )
    assert done(washer.act("start", {"program": "cotton", "temperature": 60, "spin": 1600})) == {"remaining": 170 * 60}
    assert washer.state() | {"remaining_s": 0} == {
        "state": "running", "program": "cotton", "remaining_s": 0, "starts_at": None, "door": "closed",
        "temperature": 60, "spin": 1600, "loaded": True,
    }  # fmt: skip


def test_a_wash_pauses_resumes_and_says_when_it_is_done() -> None:
    washer, clock = make(Washer)
    assert isinstance(washer, Washer)
    washer.open_door()
    assert refused(washer.act("start", {"program": "quick"})) == "the door is open"
    washer.close_door()
    assert done(washer.act("start", {"program": "quick"})) == {"remaining": 1800}
    assert washer.open_door() is False  # locked while it runs
    clock.advance(600)
    assert done(washer.act("pause", {})) == {"remaining": 1200}
    clock.advance(300)
    assert done(washer.act("remaining", {})) == {"remaining": 1200}
    assert done(washer.act("resume", {})) == {"remaining": 1200}
    assert refused(washer.act("start", {"program": "wool"})) == "the quick program is running"
    clock.advance(1199)
    assert washer.poll() == []
    clock.advance(1)
    (finished,) = washer.poll()
    assert (finished.at, finished.text) == (START + timedelta(seconds=2100), "The quick wash is done.")
    assert refused(washer.act("remaining", {})) == "the quick program finished at eight thirty five a m"


def test_the_cotton_wash_announces_that_it_is_done(profiles: dict[str, DeviceProfile]) -> None:
    clock = SimClock(START)
    device = simulate(profiles["washing_machine"], clock)
    assert device.act("washer.start", {"program": "cotton"}).ok
    clock.advance(3 * 3600)
    assert texts(device.poll()) == ["The cotton wash is done."]


def test_a_delayed_wash_starts_and_finishes_on_its_own() -> None:
    washer, clock = make(Washer)
    assert refused(washer.act("delay_start", {})) == "it needs a delay, a start time or a finish time"
    assert refused(washer.act("delay_start", {"delay": 3600, "start_time": "10:00"})) == (
        "it takes either a delay, a start time or a finish time, not more"
    )
    assert refused(washer.act("delay_start", {"finish_time": "09:00"})) == (
        "the cotton program takes two hours fifty minutes, so it cannot finish by nine o'clock a m"
    )
    assert washer.act("delay_start", {"finish_time": "18:00", "program": "cotton"}).ok
    assert washer.state()["starts_at"] == "15:10"
    assert done(washer.act("remaining", {})) == {"remaining": 10 * 3600}
    assert refused(washer.act("pause", {})) == "it is waiting to start at three ten p m"
    clock.set(datetime(2026, 11, 26, 19, 0))
    started, finished = washer.poll()
    assert (started.at, started.text) == (datetime(2026, 11, 26, 15, 10), "The cotton wash has started.")
    assert (finished.at, finished.text) == (datetime(2026, 11, 26, 18, 0), "The cotton wash is done.")


def test_a_delay_by_start_time_or_duration(profiles: dict[str, DeviceProfile]) -> None:
    dishwasher, clock = make(Dishwasher)
    assert dishwasher.act("delay_start", {"start_time": "07:00"}).ok  # tomorrow morning
    assert dishwasher.state()["starts_at"] == "07:00"
    assert done(dishwasher.act("remaining", {})) == {"remaining": 23 * 3600 + 225 * 60}
    assert dishwasher.act("cancel", {}).ok
    assert dishwasher.act("delay_start", {"delay": 2 * 3600, "program": "quick"}).ok
    clock.advance(2 * 3600 + 30 * 60)
    assert texts(dishwasher.poll()) == [
        "The dishwasher has started the quick program.",
        "The dishes are done: the quick program has finished.",
    ]


def test_dishwasher_status_reports_state_time_and_supplies() -> None:
    dishwasher, clock = make(Dishwasher)
    idle = {"state": "idle", "remaining": 0, "rinse_aid": "ok", "salt": "low"}
    assert done(dishwasher.act("status", {})) == idle
    assert done(dishwasher.act("start", {})) == {"remaining": 225 * 60}
    clock.advance(25 * 60)
    assert done(dishwasher.act("status", {})) == {
        "state": "running",
        "remaining": 200 * 60,
        "rinse_aid": "ok",
        "salt": "low",
    }
    assert refused(dishwasher.act("start", {"program": "quick"})) == "the eco program is running"
    clock.advance(200 * 60)
    assert done(dishwasher.act("status", {}))["state"] == "finished"


# Vacuum ------------------------------------------------------------------------


def test_the_vacuum_cleans_a_room_and_goes_back_to_its_dock() -> None:
    vacuum, clock = make(Vacuum)
    assert refused(vacuum.act("clean_room", {"room": "garden"})) == "the vacuum has no map of the garden"
    assert refused(vacuum.act("dock", {})) == "it is already on its dock"
    assert vacuum.act("clean_room", {"room": "kitchen"}).ok
    clock.advance(60)
    assert done(vacuum.act("status", {})) == {"state": "cleaning", "battery": 99}
    clock.advance(180)
    kitchen, docked = vacuum.poll()
    assert (kitchen.at, kitchen.text) == (START + timedelta(seconds=180), "The kitchen is clean.")
    assert (docked.at, docked.text) == (START + timedelta(seconds=240), "The vacuum is back on its dock.")
    assert done(vacuum.act("status", {})) == {"state": "charging", "battery": 98}
    clock.advance(3600)
    assert done(vacuum.act("status", {})) == {"state": "docked", "battery": 100}


def test_the_vacuum_heads_home_when_low_and_will_not_start_below_fifteen_percent() -> None:
    vacuum, clock = make(Vacuum)
    assert done(vacuum.act("start", {})) == {"battery": 100}
    assert vacuum.act("suction", {"level": "max"}).ok
    assert vacuum.act("pause", {}).ok and refused(vacuum.act("pause", {})) == "it is not cleaning"
    assert vacuum.act("resume", {}).ok
    clock.advance(25 * 60)  # eight rooms, then the way home
    assert texts(vacuum.poll()) == ["The whole home is clean.", "The vacuum is back on its dock."]
    assert done(vacuum.act("start", {})) == {"battery": 66}  # 24 minutes at 1.4 % a minute, and the way home
    clock.advance(25 * 60)
    assert texts(vacuum.poll()) == ["The whole home is clean.", "The vacuum is back on its dock."]
    assert done(vacuum.act("start", {})) == {"battery": 32}
    low: list[Notice] = []
    while not low:
        clock.advance(10)
        low = vacuum.poll()
    assert texts(low) == ["The battery is low: the vacuum is going back to its dock."]
    assert vacuum.act("stop", {}).ok  # left where it is, off its dock
    assert refused(vacuum.act("start", {})) == "the battery is at ten percent, too low to clean"
    assert done(vacuum.act("dock", {})) == {"battery": 10}


# Coffee ------------------------------------------------------------------------


def test_a_drink_is_ready_after_it_brews() -> None:
    coffee, clock = make(Coffee)
    assert done(coffee.act("status", {})) == {"water": 70, "beans": 60}
    assert coffee.act("orderDrink", {"coffeeDrink": "latte", "size": "large", "milkAmount": "soy milk"}).ok
    assert refused(coffee.act("orderDrink", {"coffeeDrink": "espresso"})) == "it is still making your large latte"
    clock.advance(39)
    assert coffee.poll() == []
    clock.advance(1)
    (ready,) = coffee.poll()
    assert (ready.at, ready.text) == (START + timedelta(seconds=40), "Your large latte is ready.")
    assert done(coffee.act("status", {})) == {"water": 67, "beans": 53}  # two shots: 60 ml, 18 g


def test_the_coffee_maker_refuses_without_water_and_descales() -> None:
    coffee, clock = make(Coffee)
    assert isinstance(coffee, Coffee)
    for _ in range(2):
        assert coffee.act("orderDrink", {"coffeeDrink": "americano", "size": "twenty ounce"}).ok
        clock.advance(60)
        assert texts(coffee.poll()) == ["Your twenty ounce americano is ready."]
    assert (
        refused(coffee.act("orderDrink", {"coffeeDrink": "americano", "size": "large"}))
        == "there is not enough water in the tank"
    )
    assert refused(coffee.act("descale", {})) == "the water tank needs to be at least fifty percent full"
    coffee.refill_water()
    assert done(coffee.act("descale", {})) == {"remaining": 1200}
    clock.advance(600)
    assert refused(coffee.act("orderDrink", {"coffeeDrink": "coffee"})) == "it is descaling for another ten minutes"
    assert done(coffee.act("descale", {})) == {"remaining": 600}
    clock.advance(600)
    assert texts(coffee.poll()) == ["Descaling is done; rinse and refill the water tank."]
    assert done(coffee.act("status", {}))["water"] == 0


@pytest.mark.parametrize(
    "capability", [CAPABILITIES[domain] for domain in sorted(CAPABILITIES)], ids=sorted(CAPABILITIES)
)
def test_state_is_small_and_json(capability: type[Capability]) -> None:
    device, clock = make(capability)
    clock.advance(3600)
    state = device.state()
    assert json.loads(json.dumps(state)) == state

"""Music and audio playback: play, pause, skip, volume and mute."""

from __future__ import annotations

from typing import Any

from assistant.devices.base import Capability, Outcome

DEFAULT_SOURCE = "spotify"
DEFAULT_WHAT = "your daily mix"  # what "play some music" plays
DEFAULT_VOLUME_PERCENT = 40
VOLUME_STEP_PERCENT = 10  # "louder" with no amount


class Media(Capability):
    domain = "media"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._what: str | None = None  # nothing queued until something is played
        self._source = DEFAULT_SOURCE
        self._track = 0
        self._playing = False
        self._volume = DEFAULT_VOLUME_PERCENT
        self._muted = False

    def play(self, what: str | None = None, source: str | None = None) -> Outcome:
        if what is not None or self._what is None:
            self._what, self._track = what or DEFAULT_WHAT, 1
        if source is not None:
            self._source = source
        self._playing = True
        return Outcome.done()

    def pause(self) -> Outcome:
        if not self._playing:
            return Outcome.refused("nothing is playing")
        self._playing = False
        return Outcome.done()

    def resume(self) -> Outcome:
        if self._what is None:
            return Outcome.refused("nothing is playing")
        self._playing = True
        return Outcome.done()

    def next(self) -> Outcome:
        if self._what is None:
            return Outcome.refused("nothing is playing")
        self._track += 1
        self._playing = True
        return Outcome.done()

    def previous(self) -> Outcome:
        if self._what is None:
            return Outcome.refused("nothing is playing")
        self._track = max(1, self._track - 1)  # on the first track: from its start
        self._playing = True
        return Outcome.done()

    def volume_up(self, amount: float = VOLUME_STEP_PERCENT) -> Outcome:
        return self._set_volume(self._volume + amount)

    def volume_down(self, amount: float = VOLUME_STEP_PERCENT) -> Outcome:
        return self._set_volume(self._volume - amount)

    def volume_set(self, level: float) -> Outcome:
        self._set_volume(level)
        return Outcome.done()

    def mute(self) -> Outcome:
        self._muted = True
        return Outcome.done()

    def unmute(self) -> Outcome:
        self._muted = False
        return Outcome.done()

    def state(self) -> dict[str, Any]:
        return {
            "playing": self._playing,
            "what": self._what,
            "source": self._source,
            "track": self._track,
            "volume": self._volume,
            "muted": self._muted,
        }

    def _set_volume(self, level: float) -> Outcome:
        self._volume = max(0, min(100, round(level)))
        self._muted = False  # changing the volume unmutes, as on phones and speakers
        return Outcome.done(level=self._volume)

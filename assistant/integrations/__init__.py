"""Ecosystem integrations: the assistant served over other projects' protocols.

- `wyoming_server.WyomingServer`: the Wyoming protocol (Home Assistant, Rhasspy 3):
  speech to text, intent recognition and intent handling over TCP or a Unix socket.
- `hermes.HermesBridge`: the Hermes MQTT protocol (Rhasspy 2.5, Snips tools):
  publishes wake, transcript, intent and dialogue-session events and answers
  `hermes/nlu/query`.

Both are adapters over an `AssistantCore` (see `core`); importing this package
does not import `wyoming` or `paho-mqtt`. Guide: docs/integrations.md.
"""

from assistant.integrations.core import AssistantCore, LockedCore, Transcription, TranscriptLike

__all__ = ["AssistantCore", "LockedCore", "TranscriptLike", "Transcription"]

"""Memory of each component of a profile, measured in a fresh interpreter.

    python -m assistant.budget_probe PROFILE COMMAND.wav [--intents DIR] [--profiles DIR]
                                     [--model DIR] [--engine E] [--push-to-talk]
                                     [--without-domain NAME ...] [--network NAME]

Prints one JSON line: {"components": [{"name", "mb"}], "peak_mb", "notes"}.
`assistant.budget` runs this; it is a separate process so that nothing loaded
before (by the caller, or by another profile) is counted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.budget_probe")
    parser.add_argument("profile")
    parser.add_argument("wav", type=Path)
    parser.add_argument("--intents", type=Path)
    parser.add_argument("--profiles", type=Path)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--engine")
    parser.add_argument("--push-to-talk", action="store_true")
    parser.add_argument(
        "--without-domain", action="append", default=[], help="the profile as if it did not enable this domain"
    )
    parser.add_argument("--network", help="the profile as if its recognizer.network were this")
    args = parser.parse_args(argv)
    notes: list[str] = []
    loaded: dict[str, Any] = {}

    def loaders() -> Iterator[tuple[str, Callable[[], Any]]]:
        def runtime() -> Any:
            import numpy

            from assistant.litert import _interpreter_class

            return numpy, _interpreter_class()

        yield "python, numpy and the LiteRT interpreter", runtime

        from assistant.audio import read_wav
        from assistant.intents import DEFAULT_INTENTS_DIR
        from assistant.profiles import DEFAULT_PROFILES_DIR, load_device

        # As a running device does: its own domains' definitions only.
        intents, profile = load_device(
            args.profile, args.intents or DEFAULT_INTENTS_DIR, args.profiles or DEFAULT_PROFILES_DIR
        )
        if args.without_domain:
            profile = replace(profile, domains=tuple(d for d in profile.domains if d not in args.without_domain))
            intents = intents.restricted_to(profile.domains)
        if args.network:
            profile = replace(profile, recognizer=replace(profile.recognizer, network=args.network))
        audio = read_wav(args.wav)
        loaded.update(intents=intents, profile=profile, audio=audio)

        def intent_model() -> Any:
            from assistant.nlu.runtime import DEFAULT_MODEL_DIR, IntentModel

            model = IntentModel.load(intents, args.model or DEFAULT_MODEL_DIR, profile.model_variant)
            model.parse("set a timer for ten minutes")  # tensors and the reply vocabulary are allocated on first use
            loaded["model"] = model
            return model

        yield f"intent model ({profile.model_variant})", intent_model

        if not args.push_to_talk:

            def wake_word() -> Any:
                import numpy as np

                from assistant.wake import WakeWordDetector

                detector = WakeWordDetector.for_phrase(profile.wake_phrase)
                detector.process(np.zeros(1280, np.int16))
                return detector

            yield f"wake word ({profile.wake_phrase})", wake_word

        def recognizer() -> Any:
            from assistant.asr.factory import build_recognizer

            built = build_recognizer(profile, intents, engine=args.engine)
            loaded["transcript"] = built.transcribe(audio)
            return built

        yield f"recognizer ({_engine(args.engine, profile)}, {profile.recognizer.mode})", recognizer

        def dialogue() -> Any:
            from assistant.simulator import Session

            session = Session(profile, intents, loaded["model"])
            turn = session.say(loaded["transcript"].text or "set a timer for ten minutes")
            notes.append(f"heard {loaded['transcript'].text!r} -> {turn.intent}")
            return session

        yield "dialogue and simulated device", dialogue

    from assistant.budget import measure_memory

    components, peak = measure_memory(loaders())
    print(json.dumps({"components": [c.to_dict() for c in components], "peak_mb": round(peak, 1), "notes": notes}))
    return 0


def _engine(asked: str | None, profile: Any) -> str:
    """The engine that will run: vosk falls back to PocketSphinx when no vosk model is installed."""
    from assistant.asr.models import find_vosk_model

    engine: str = asked or profile.recognizer.engine
    if engine == "vosk" and asked is None and find_vosk_model(profile.recognizer.model) is None:
        return "pocketsphinx"
    return engine


if __name__ == "__main__":
    sys.exit(main())

"""Speech recognizers: device grammars compiled from the intents, and engines
(vosk, PocketSphinx) behind one streaming interface. See `factory.build_recognizer`."""

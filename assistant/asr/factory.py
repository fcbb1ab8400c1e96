"""Build the recognizer a device profile asks for.

`build_recognizer(profile, intents)` reads `profile.recognizer`: the engine
(vosk | pocketsphinx), the mode (grammar: the device's own sentences, compiled
from its intents; open: any words), the vosk model, and how PocketSphinx's
grammar is given to it (`recognizer.network`: exact | shared_slots, `slot_network.py` |
ngram, `grammar_lm.py`).

The fallback rule: when the profile asks for vosk and no vosk model is found
(lookup order in `models.find_vosk_model`: the profile's model, then
$ASSISTANT_VOSK_MODEL, then the models folder of `assistant models download`),
the recognizer is PocketSphinx, with a warning saying so, and every transcript
reports engine "pocketsphinx". It is never silent. When vosk was asked for
explicitly (`engine="vosk"`, the CLI's `--engine vosk`), a missing model is a
`RecognizerError` instead.
"""

from __future__ import annotations

import logging

from assistant.asr.decoder_grammar import EXACT
from assistant.asr.grammar import DeviceGrammar, compile_grammar
from assistant.asr.models import VOSK_MODEL_ENV, find_vosk_model, models_dir
from assistant.asr.phrases import DEFAULT_STRATEGY, vosk_phrases
from assistant.asr.pocketsphinx_engine import PocketSphinxRecognizer
from assistant.asr.recognizer import Recognizer
from assistant.asr.vosk_engine import VoskModel, VoskRecognizer
from assistant.errors import RecognizerError
from assistant.intents import IntentSet
from assistant.profiles import ENGINES, RECOGNIZER_MODES, DeviceProfile

log = logging.getLogger(__name__)

# Filler words around commands ("could you ... please") stay out of the recognizer
# grammar: measured on 40 espeak-ng smartwatch commands, PocketSphinx got 75.0% exact
# with them and 87.5% without (they give it words to explain any sound with).
GRAMMAR_FILLERS = False
DOWNLOAD_HINT = "install one with `assistant models download vosk-small-en-us`"


def build_recognizer(
    profile: DeviceProfile,
    intents: IntentSet,
    *,
    engine: str | None = None,
    mode: str | None = None,
    vosk_model: VoskModel | None = None,
    phrase_strategy: str = DEFAULT_STRATEGY,
) -> Recognizer:
    """The recognizer for `profile`; `engine` and `mode` override the profile's.

    `intents` may be every intent: only the profile's domains enter the grammar.
    `vosk_model` shares an already loaded model between recognizers.
    """
    if engine is not None and engine not in ENGINES:
        raise RecognizerError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    mode = mode or profile.recognizer.mode
    if mode not in RECOGNIZER_MODES:
        raise RecognizerError(f"unknown recognizer mode {mode!r} (known: {', '.join(RECOGNIZER_MODES)})")
    chosen = engine or profile.recognizer.engine
    device_intents = intents.restricted_to(profile.domains)

    def grammar() -> DeviceGrammar:
        return compile_grammar(device_intents, fillers=GRAMMAR_FILLERS)

    if chosen == "vosk":
        if vosk_model is None:
            path = find_vosk_model(profile.recognizer.model)
            if path is not None:
                vosk_model = VoskModel(path)
        if vosk_model is not None:
            if profile.recognizer.network != EXACT:
                log.info("%s: recognizer.network %s is PocketSphinx's; vosk builds its graph from the phrase list",
                         profile.name, profile.recognizer.network)  # fmt: skip
            phrases = vosk_phrases(grammar(), phrase_strategy) if mode == "grammar" else None
            return VoskRecognizer(vosk_model, phrases)
        looked = f"the profile's model ({profile.recognizer.model}), ${VOSK_MODEL_ENV}, {models_dir()}"
        if engine == "vosk":
            raise RecognizerError(f"vosk: no vosk model found (looked at {looked}); {DOWNLOAD_HINT}")
        log.warning(
            "%s asks for vosk but no vosk model was found (looked at %s): using PocketSphinx instead; %s",
            profile.name, looked, DOWNLOAD_HINT,
        )  # fmt: skip
    # The grammar is compiled in the child process that prepares it for PocketSphinx
    # (`decoder_grammar.prepare_in_child`): compiling leaves memory behind in the process that does it.
    return PocketSphinxRecognizer(grammar if mode == "grammar" else None, network=profile.recognizer.network)

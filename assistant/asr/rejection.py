"""What is not a command: a path of any phones beside the device grammar.

In grammar mode the decoder explains every sound as some sentence of the
grammar: kitchen noise came out as "enough" or "yup" (46 phantom turns in the
30-minute soak), and "hello" as "two alarm", which set an alarm for two
o'clock. So the network gets one more way from its start to its end: a loop of
single phones, any number of them, the phone loop that keyword spotters use as
a garbage model. Speech that is not a command, and noise, fit a free sequence
of phones better than any grammar sentence, and the decoder takes that path;
a command fits its sentence about as well as the phones that spell it, and the
grammar path wins because every phone on the loop costs `PHONE_PROBABILITY`.
A transcript through the loop is returned as no text: not a command.

Measured with `assistant bench asr` (PocketSphinx grammar mode on the five
benchmark devices: 300 espeak-ng commands, 200 stretches of two seconds of
kitchen noise, 200 CLINC150 out-of-scope sentences spoken by espeak-ng) and on
real voices (the coffee maker's grammar, the Speech Commands sample: 40
recordings of "yes", "no", "stop" and "right", which it takes as commands,
and 260 of words it does not, "bed" to "wow"); accepted = some grammar
sentence came out:

espeak-ng, five devices:

| phone probability | exact | rejected | noise accepted | out-of-scope sentences accepted |
|---|---|---|---|---|
| no loop | 91.0% | 0 | 176 of 200 | 186 of 200 |
| 1e-7 | 90.7% | 2 | 18 | 136 |
| 1e-6 | 90.3% | 3 | 17 | 124 |
| 1e-5 | 90.0% | 5 | 17 | 106 |

Real voices, coffee maker:

| phone probability | command words right (no text) | other words accepted |
|---|---|---|
| no loop | 30 of 40 (1) | 245 of 260 |
| 1e-9 | 30 (4) | 168 |
| 1e-8 | 29 (5) | 150 |
| 1e-7 | 29 (6) | 130 |
| 1e-6 | 27 (8) | 98 |

The coffee maker's 20 recordings of real people kept every slot right in each
row measured. 1e-7 is used: noise stops turning into commands (176 of 200 ->
18), a quarter of the out-of-scope sentences and half of the other words are
turned away, for 2 espeak-ng commands in 300 and one real one-word command in
40. Short commands are where the loop costs most: a word of two or three phones
pays little on the loop, and 1e-6 lost 3 of the 40 real ones. The loop costs 9%
more CPU (rtf 0.047 -> 0.051).
"""

from __future__ import annotations

from assistant.asr.fsg import DecoderNetwork, Transition

# The phones of the US English model and of CMUdict (ARPAbet, stress removed), silence aside.
PHONES = (
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH", "IH", "IY", "JH", "K",
    "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH",
)  # fmt: skip
PHONE_PROBABILITY = 1e-7  # of each phone on the loop: the price of explaining sound by phones (module docstring)
ENTRY_PROBABILITY = 1e-10  # of taking the loop at all: the grammar's words keep their probabilities
WORD_MARK = "+"  # a loop word is "+aa+": the grammar's words are written words, never marked so


def loop_word(phone: str) -> str:
    return f"{WORD_MARK}{phone.lower()}{WORD_MARK}"


def with_phone_loop(network: DecoderNetwork) -> DecoderNetwork:
    """`network` with the phone loop beside it, from its start to its final state."""
    loop = 1 + max((max(t[0], t[1]) for t in network.transitions), default=network.final)
    transitions = [_scaled(t, 1 - ENTRY_PROBABILITY) if t[0] == network.start else t for t in network.transitions]
    transitions.append((network.start, loop, ENTRY_PROBABILITY))
    transitions += [(loop, loop, PHONE_PROBABILITY / len(PHONES), loop_word(phone)) for phone in PHONES]
    transitions.append((loop, network.final, 1 - PHONE_PROBABILITY))
    pronunciations = {**network.pronunciations, **{loop_word(phone): (phone,) for phone in PHONES}}
    return DecoderNetwork(network.start, network.final, tuple(transitions), pronunciations)


def _scaled(transition: Transition, factor: float) -> Transition:
    if len(transition) == 3:
        return (transition[0], transition[1], transition[2] * factor)
    return (transition[0], transition[1], transition[2] * factor, transition[3])


def is_rejected(decoded: str) -> bool:
    """Whether a decoder transcript took the phone loop: not a command."""
    return any(word.startswith(WORD_MARK) for word in decoded.split())

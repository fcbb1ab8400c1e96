"""How examples become token sequences, the same way in training and at run time.

    parse:  <parse> transcript <sep>
    reply:  <reply> [intent] ([=name] value <eov>)* <sep> reply text <end>
    lm:     <lm> text <end>

Replies are modelled in lowercase; `sentence_case` restores capitals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from assistant.nlu.tokenizer import (
    END,
    END_VALUE,
    LM,
    PARSE,
    REPLY,
    SEP,
    Encoding,
    Tokenizer,
    intent_label,
    value_label,
)


def parse_prefix(tokenizer: Tokenizer, text: str) -> tuple[list[int], Encoding]:
    """The parse sequence and the transcript's encoding (token 1 is its first piece)."""
    encoding = tokenizer.encode(text)
    return [tokenizer.id(PARSE), *encoding.ids, tokenizer.id(SEP)], encoding


def reply_prefix(tokenizer: Tokenizer, intent: str, values: Mapping[str, str]) -> list[int]:
    """The frame a reply is written from: the intent, then each slot or result value as said."""
    ids = [tokenizer.id(REPLY), tokenizer.id(intent_label(intent))]
    for name, said in values.items():
        ids += [tokenizer.id(value_label(name)), *tokenizer.encode(said.lower()).ids, tokenizer.id(END_VALUE)]
    return [*ids, tokenizer.id(SEP)]


def reply_target(tokenizer: Tokenizer, reply: str) -> list[int]:
    return [*tokenizer.encode(reply.lower()).ids, tokenizer.id(END)]


def lm_sequence(tokenizer: Tokenizer, text: str) -> list[int]:
    return [tokenizer.id(LM), *tokenizer.encode(text).ids, tokenizer.id(END)]


def detokenize_reply(tokenizer: Tokenizer, ids: list[int]) -> str:
    text = tokenizer.decode(ids)
    text = re.sub(r"\s+([,.!?:;])", r"\1", text)  # pieces put spaces before punctuation
    return sentence_case(text)


def sentence_case(text: str) -> str:
    """Capital letters at the start of each sentence and for the pronoun "i"."""
    text = re.sub(r"\bi\b", "I", text)
    text = re.sub(r"\bi'(m|ll|ve|d)\b", lambda m: f"I'{m.group(1)}", text)
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)

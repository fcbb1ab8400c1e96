"""The indefinite article: "a" before a consonant sound, "an" before a vowel sound.

Templates write the article as the choice `[a|an]` wherever the word after it is
a slot or an alternative ("set [a|an] {duration} timer"), and every generator of
sentences drew that choice at random: 855 of the 109,589 clean training commands
(seed 0) said "an medium latte", "a eight ounce coffee" or "begin an new
countdown", which nobody says (399 of them coffee orders), and the recognizer's
grammar offered them too (the speech benchmark counted "run an bread timer",
heard as "run an two minutes timer", as the recognizer's mistake). So the
article is one rule, applied wherever sentences are made: `agreeing` corrects a
drawn sentence, `disagrees` tells the grammar automaton which pairs to leave out.

Whether a word starts with a vowel sound is read from its spelling, with the
exceptions a spelling rule gets wrong in this vocabulary ("an hour", "a one",
"a user", letter names: "an m", "a c") and digits as replies write numbers
("an 800 rpm spin", "an 11 minute timer"). "a m", the clock's a.m., is two
letters, not an article.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

ARTICLES = frozenset({"a", "an"})
# After an indefinite article, another determiner means the template drew two ("set a an hour timer")
DETERMINERS = frozenset({"a", "an", "the", "my", "this", "that"})
NOT_ARTICLE = frozenset({("a", "m")})  # the clock's "a m"
VOWEL_LETTERS = frozenset("aeiou")
# Letter names that start with a vowel sound: "an f", "an h", "an s"
VOWEL_SOUNDING_LETTERS = frozenset("aefhilmnorsx")
# Spelled with a vowel, said with a consonant: "a one", "a unit", "a euro", "a user"
CONSONANT_SOUND = re.compile(r"^(one|once|uni|use|usu|ura|ure|uro|eu|ewe|ufo|uk)")
# Spelled with a consonant, said with a vowel: "an hour", "an honest"
VOWEL_SOUND = re.compile(r"^(hour|honest|honou?r|heir)")
# Numbers written in digits whose name starts with a vowel sound: eight, eleven, eighteen, eighty...
VOWEL_NUMBER = re.compile(r"^(8|11(?!\d)|18(?!\d)|11,?\d{3}(?!\d)|18,?\d{3}(?!\d))")


def starts_with_vowel_sound(word: str) -> bool | None:
    """Whether `word` is said starting with a vowel sound; None when it cannot be told (no letter
    or digit to go by, as for a grammar's stand-in for a slot)."""
    word = word.lower().lstrip("\"'(")
    if not word:
        return None
    if word[0].isdigit():
        return VOWEL_NUMBER.match(word) is not None
    if not word[0].isalpha() or not word.isascii():
        return None
    if len(word) == 1:
        return word in VOWEL_SOUNDING_LETTERS
    if VOWEL_SOUND.match(word):
        return True
    if CONSONANT_SOUND.match(word):
        return False
    return word[0] in VOWEL_LETTERS


def article_for(word: str) -> str | None:
    """The article that goes before `word`, "a" or "an"; None when that cannot be told."""
    vowel = starts_with_vowel_sound(word)
    return None if vowel is None else ("an" if vowel else "a")


def disagrees(article: str, following: str) -> bool:
    """Whether the indefinite `article` ("a" or "an") cannot stand before `following`."""
    if (article, following) in NOT_ARTICLE:
        return False
    if following in DETERMINERS:
        return True
    wanted = article_for(following)
    return wanted is not None and wanted != article


def agreeing(words: Sequence[str]) -> list[str | None]:
    """`words` with every indefinite article made to agree with the word after it: changed
    to the other article, or None (to be left out) where another determiner follows."""
    said: list[str | None] = list(words)
    for index in range(len(words) - 1):
        article, following = words[index], words[index + 1]
        if article.lower() in ARTICLES and disagrees(article.lower(), following.lower()):
            if following.lower() in DETERMINERS:
                said[index] = None
            else:
                said[index] = _cased(article_for(following) or article, article)
    return said


def agree(sentence: str) -> str:
    """`sentence` with its indefinite articles made to agree (`agreeing`), its spacing kept."""
    parts = re.split(r"(\s+)", sentence)  # words at even places, the spaces between them at odd ones
    said = agreeing(parts[0::2])
    if said == parts[0::2]:
        return sentence
    spaces = [*parts[1::2], ""]  # the spaces after each word; none after the last
    return "".join(word + space for word, space in zip(said, spaces, strict=True) if word is not None)


def _cased(article: str, like: str) -> str:
    return article.capitalize() if like[:1].isupper() else article

"""Words that are always said one after the other, taken by PocketSphinx as one word.

A state of the grammar's automaton with one way in and one way on ("what" ->
"is" in "what is the time": only "what" leads there and only "is" follows)
costs PocketSphinx as much as any other state: its finite-state grammar keeps a
hash table of 101 entries (about 3.2 KB) for every state with arcs, and its
search builds a tree of HMMs for the words leaving each state, with both ends of
every word copied for each phone that can come before and after it. Joining
the two words into one decoder word ("what_is") removes the state; its
pronunciation is the two pronunciations one after the other, so what the
decoder listens for is the same sound, and `split` turns the transcript back
into the grammar's words.

Measured on the smartwatch grammar (pocketsphinx 5.0, 60 espeak-ng commands):
3,519 states -> 2,498, the recognizer's resident memory 4 MB lower, the same
commands right. What is lost is a pause inside a joined pair: PocketSphinx
puts optional silence and fillers at states, and the joined pair has no state
in between. Joining further, every state with one way in and up to six ways on
into the word before it, measured only 0.9 MB less on the watch (its FSG's
tables 7.2 -> 6.1 MB, its search 13.8 -> 14.1 MB), for more pauses lost: not
done.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

JOINER = "_"  # grammar words are written words and apostrophes; they never hold it
# Each pronunciation of a joined word is one path through the search: two words
# with two pronunciations each would give four, and a chain of three eight. The
# first pronunciations (the dictionary's most common first) are kept.
MAX_PRONUNCIATIONS = 4

Arcs = Sequence[Mapping[str, int]]


def join_chains(
    arcs: Arcs, start: int, finals: Collection[int], pronunciations: Mapping[str, Sequence[str]]
) -> tuple[list[dict[str, int]], dict[str, tuple[str, ...]]]:
    """`arcs` with every chain state (one way in, one way on, not accepting, not
    the start) removed by joining the words on either side (words without a
    pronunciation are never joined); the arcs keep their
    state numbers (a removed state is left with no arcs and nothing leading to
    it), and the pronunciations come back with those of the joined words added
    and those of words no arc uses any more left out."""
    joined = [dict(state_arcs) for state_arcs in arcs]
    spoken = {word: tuple(phones) for word, phones in pronunciations.items()}
    into: dict[int, list[tuple[int, str]]] = {}
    for state, state_arcs in enumerate(joined):
        for word, target in state_arcs.items():
            into.setdefault(target, []).append((state, word))
    for state in range(len(joined)):  # a chain of several states joins into the first word as it goes
        ways_in = into.get(state, [])
        if state == start or state in finals or len(joined[state]) != 1 or len(ways_in) != 1:
            continue
        (source, first), ((second, target),) = ways_in[0], joined[state].items()
        if first not in spoken or second not in spoken:  # a stand-in for a part of the network (`slot_network.py`)
            continue
        word = f"{first}{JOINER}{second}"
        if joined[source].get(word, target) != target:  # the joined word already leads elsewhere
            continue
        spoken[word] = tuple(f"{a} {b}" for a in spoken[first] for b in spoken[second])[:MAX_PRONUNCIATIONS]
        del joined[source][first]
        joined[source][word] = target
        joined[state] = {}
        into[target] = [(s, w) if (s, w) != (state, second) else (source, word) for s, w in into[target]]
    used = {word for state_arcs in joined for word in state_arcs}
    return joined, {word: phones for word, phones in spoken.items() if word in used}


def split(text: str) -> str:
    """A decoder transcript in the grammar's words."""
    return text.replace(JOINER, " ")

"""Correct small typos towards a fixed vocabulary ("sucidal" -> "suicidal").

Used by the safety detector, whose patterns must match anxious, hurried typing. Only words of
four letters or more are corrected, only to a word with the same first letter, and only within
one edit (two for long words), and never a word that is itself English (spaCy's lemma table),
which keeps ordinary words from being bent into alarms.

The corrector runs on every word of every visitor message, so its cost per word is bounded: the
candidates come from an index of the vocabulary's deletion variants (a word within k edits of a
vocabulary word shares a variant with it made by deleting at most k letters from each), not from
a scan of the whole vocabulary; words too long to be near any vocabulary word are skipped; and the
cache of corrections is bounded, so a flood of made-up words neither slows a message down nor
grows the server's memory.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable

MAX_EDITS = 2


def deletion_variants(word: str, depth: int) -> set[str]:
    """`word` and every string made from it by deleting up to `depth` letters."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count as one), stopping early past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = 0 if char_a == char_b else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


class TypoCorrector:
    """Maps each misspelt word to the closest vocabulary word, if one is close enough."""

    MIN_LENGTH = 4
    CACHE_SIZE = 10_000

    def __init__(self, vocabulary: Iterable[str], known_words: Container[str] = frozenset()) -> None:
        self._vocabulary: set[str] = {w for w in vocabulary if len(w) >= self.MIN_LENGTH}
        self._known_words = known_words  # real words ("slurring") are never "corrected"
        self._cache: dict[str, str] = {}
        self._longest = max((len(w) for w in self._vocabulary), default=0)
        self._variants: dict[str, set[str]] = {}
        for word in self._vocabulary:
            for variant in deletion_variants(word, MAX_EDITS):
                self._variants.setdefault(variant, set()).add(word)

    def use_known_words(self, known_words: Container[str]) -> None:
        self._known_words = known_words
        self._cache.clear()

    @classmethod
    def from_patterns(cls, patterns: Iterable[str], extra: Iterable[str] = ()) -> TypoCorrector:
        """The vocabulary is every plain word written in the patterns, plus `extra` words."""
        words: set[str] = set(extra)
        for pattern in patterns:
            words.update(re.findall(r"[a-z]+", re.sub(r"\\[a-z]", " ", pattern)))
        return cls(words)

    @staticmethod
    def _limit(word: str) -> int:
        return MAX_EDITS if len(word) >= 8 else 1

    def _candidates(self, word: str, limit: int) -> set[str]:
        """Vocabulary words that may be within `limit` edits of `word` (a superset)."""
        if len(word) > self._longest + limit:
            return set()
        found: set[str] = set()
        for variant in deletion_variants(word, limit):
            found |= self._variants.get(variant, set())
        return found

    def _closest(self, word: str) -> str | None:
        """Nearest word; on a tie, one with the same letters (a swap) wins, then the shortest."""
        limit = self._limit(word)
        scored = []
        for candidate in self._candidates(word, limit):
            if candidate[0] == word[0]:
                distance = edit_distance(word, candidate, limit)
                if distance <= limit:
                    same_letters = sorted(candidate) == sorted(word)
                    scored.append((distance, not same_letters, len(candidate), candidate))
        return min(scored)[3] if scored else None

    def correct_word(self, word: str) -> str:
        if len(word) < self.MIN_LENGTH or word in self._vocabulary or not word.isalpha():
            return word
        if word in self._known_words:
            return word
        if word not in self._cache:
            if len(self._cache) >= self.CACHE_SIZE:
                del self._cache[next(iter(self._cache))]  # the oldest entry
            self._cache[word] = self._closest(word) or word
        return self._cache[word]

    def correct(self, text: str) -> str:
        return " ".join(self.correct_word(w) for w in text.split())

"""Split a visitor's message into sentence-sized segments, and find the part that asks.

Real visitors write several sentences: age, history, worries, then the question. Danger is
checked in every segment (a crisis in the fourth sentence must not be averaged away by three calm
ones), and the answer is chosen on the segments that ask, not on the preamble. Without
punctuation, long runs are cut every `MAX_WORDS` words so a segment stays sentence-sized.

The number of segments is bounded, so the encoder's work per message is too (the channels'
1,000-character limit gives at most about 20 sentence-sized pieces; `MAX_SEGMENTS` keeps the
first three and the last three, where visitors put greetings, questions and, often, what matters most).
"""

from __future__ import annotations

import re

MAX_WORDS = 24
MAX_SEGMENTS = 6
_BOUNDARY = re.compile(r"(?<=[.!?;…])\s+|\n+|(?<=[.!?])(?=[A-Z])")
_QUESTION_START = re.compile(
    r"^\W*(what|whats|how|why|who|whom|which|when|where|is|are|was|were|do|does|did|can|could|"
    r"should|would|will|may|might|has|have|any|tell me|explain|i (want|need|would like) to know|"
    r"i wonder|wondering)\b",
    re.IGNORECASE,
)


def split_segments(text: str) -> list[str]:
    """Sentence-sized pieces of `text`, in order, at most MAX_SEGMENTS."""
    pieces: list[str] = []
    for sentence in _BOUNDARY.split(text):
        words = sentence.split()
        chunks = [words[i : i + MAX_WORDS] for i in range(0, len(words), MAX_WORDS)]
        if len(chunks) > 1 and len(chunks[-1]) < MAX_WORDS // 3:
            tail = chunks.pop()
            chunks[-1] += tail  # a few words on their own carry no meaning of their own
        pieces += [" ".join(chunk) for chunk in chunks if _has_word(chunk)]
    if len(pieces) <= MAX_SEGMENTS:
        return pieces
    head = MAX_SEGMENTS // 2
    return pieces[:head] + pieces[-(MAX_SEGMENTS - head) :]


def _has_word(words: list[str]) -> bool:
    """A piece with no letter at all (emoji, digits, punctuation) means nothing to the encoder,
    whose vocabulary reads it as unknown tokens: it is not encoded (the safety patterns and the
    n-gram features still see the whole message)."""
    return any(ch.isalpha() for word in words for ch in word)


def asks(segment: str) -> bool:
    """A question mark, or the words a question starts with."""
    return "?" in segment or bool(_QUESTION_START.match(segment))


def question_segments(segments: list[str]) -> list[str]:
    """The segments that ask; all of them when none does (a bare statement is its own question)."""
    asking = [s for s in segments if asks(s)]
    return asking or segments

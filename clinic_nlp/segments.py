"""Split a visitor's message into sentences, and find the question it asks.

Real visitors write several sentences: their age, their history, a worry, then the question. A
whole-message decision lets the preamble decide; here danger is checked sentence by sentence
and the answer is chosen on the question. A run-on message without punctuation is cut into
overlapping windows of words, so a danger phrase in the middle still stands in a short segment.
The number of segments is bounded, so the encoder's work per message stays within the NLU bound.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+|(?<=[.!?])(?=[A-Z])")
QUESTION_START = re.compile(
    r"^\s*(what|whats|how|why|when|where|which|who|whom|whose|is|are|am|was|were|can|could|"
    r"should|shall|would|will|do|does|did|have|has|any|anyone|tell me|explain|i (want|need|would like) to know|"
    r"im wondering|i wonder|wondering)\b",
    re.IGNORECASE,
)
WINDOW_WORDS = 12
WINDOW_STEP = 6
LONG_SENTENCE_WORDS = 16


@dataclass(frozen=True)
class Segments:
    """The message's sentences (or windows) and the text its answer is chosen on."""

    parts: tuple[str, ...]
    question: str


def _windows(words: list[str]) -> list[str]:
    """Overlapping windows of words, so no phrase is split across every window."""
    if len(words) <= LONG_SENTENCE_WORDS:
        return [" ".join(words)]
    starts = range(0, max(len(words) - WINDOW_STEP, 1), WINDOW_STEP)
    return [" ".join(words[s : s + WINDOW_WORDS]) for s in starts]


def sentences(text: str) -> list[str]:
    """Sentences by punctuation and line breaks; long ones cut into overlapping word windows."""
    parts: list[str] = []
    for sentence in SENTENCE_END.split(text):
        words = sentence.split()
        if words:
            parts.extend(_windows(words))
    return parts


def is_question(sentence: str) -> bool:
    return sentence.rstrip().endswith("?") or bool(QUESTION_START.match(sentence))


def segment(text: str, max_parts: int) -> Segments:
    """At most `max_parts` segments (the first ones, then the last: questions come last);
    the question is the message's question sentences, or the last sentence, or the whole text."""
    text = text.strip()
    parts = sentences(text)
    if len(parts) <= 1:
        return Segments((text,) if text else (), text)
    sentence_list = [s for s in SENTENCE_END.split(text) if s.strip()]
    questions = [s.strip() for s in sentence_list if is_question(s)]
    question = " ".join(questions) if questions else text
    if len(parts) > max_parts:
        head = max_parts // 2
        parts = parts[:head] + parts[len(parts) - (max_parts - head) :]
    return Segments(tuple(parts), question)

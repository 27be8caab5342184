"""When a source quote is not in the article: find the article text it was meant to be, and say
what differs (a curly apostrophe, a changed word), so the editor can copy the right words."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from clinic.content.article import ARTICLE_PATH, article_text

# Look-alike characters editors' keyboards and the article's web page disagree on.
LOOKALIKES = {"'": "’", "’": "'", '"': "“", "“": '"', "”": '"', "-": "–", "–": "-", "—": "-"}


def sentences(path: Path = ARTICLE_PATH) -> list[str]:
    """The article's sentences (white space normalised), in order."""
    text = article_text(path)
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


@dataclass(frozen=True)
class Suggestion:
    passage: str  # the article's words closest to the quote
    differences: list[str]  # e.g. ["Parkinson's → Parkinson’s"]
    curly_apostrophe: bool  # the article has ’ where the quote has '

    def describe(self) -> str:
        text = f"closest article text: “{self.passage}”"
        if self.differences:
            text += "; differences: " + ", ".join(self.differences[:4])
        return text


def _windows(sentence: str, size: int) -> list[str]:
    words = sentence.split()
    if len(words) <= size:
        return [sentence]
    spans = []
    for width in range(max(1, size - 2), size + 3):
        spans += [" ".join(words[i : i + width]) for i in range(0, len(words) - width + 1)]
    return spans


def _score(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.lower(), b.lower(), autojunk=False).ratio()


def closest_passage(quote: str, path: Path = ARTICLE_PATH) -> str:
    """The article sentence, or the part of a sentence, that looks most like the quote."""
    quote = " ".join(quote.split())
    size = len(quote.split())
    best, best_score = "", -1.0
    for sentence in sentences(path):
        candidates = [sentence] + (_windows(sentence, size) if size + 3 < len(sentence.split()) else [])
        for candidate in candidates:
            score = _score(quote, candidate)
            if score > best_score:
                best, best_score = candidate, score
    return best


def _changes(quote: str, passage: str) -> list[tuple[str, str]]:
    """Word-level (quote's words, article's words) pairs where the two differ."""
    a, b = quote.split(), passage.split()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return [
        (" ".join(a[i1:i2]), " ".join(b[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def _describe_change(old: str, new: str) -> str:
    if not new:
        return f"“{old}” is not in the article"
    if not old:
        return f"the article has “{new}” here"
    return f"“{old}” → “{new}”"


def suggest(quote: str, path: Path = ARTICLE_PATH) -> Suggestion:
    passage = closest_passage(quote, path)
    changes = _changes(quote, passage)
    curly = any(old and old.replace("'", "’") == new for old, new in changes)
    return Suggestion(passage, [_describe_change(o, n) for o, n in changes], curly)


LOOKALIKE_REASONS = {
    "'": "the article uses a curly apostrophe (’) where the quote has a straight one (')",
    "’": "the article uses a straight apostrophe (') where the quote has a curly one (’)",
    '"': "the article uses curly quotation marks (“ ”) where the quote has straight ones",
    "“": "the article uses straight quotation marks where the quote has curly ones",
    "”": "the article uses straight quotation marks where the quote has curly ones",
    "-": "the article uses a different dash (–) where the quote has a hyphen (-)",
    "–": "the article uses a hyphen (-) where the quote has a dash (–)",
    "—": "the article uses a hyphen (-) where the quote has a long dash (—)",
}


def lookalike_reason(quote: str, path: Path = ARTICLE_PATH) -> str | None:
    """Why the quote misses the article, if swapping one look-alike character makes it match."""
    text = article_text(path)
    for plain, fancy in LOOKALIKES.items():
        candidate = " ".join(quote.replace(plain, fancy).split())
        if plain in quote and candidate in text:
            return LOOKALIKE_REASONS[plain]
    return None

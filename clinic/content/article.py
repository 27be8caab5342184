"""The clinic's article: the source of truth every answer must quote word for word."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

ARTICLE_PATH = Path(__file__).resolve().parents[2] / "content" / "article.txt"


def normalise_space(text: str) -> str:
    """Collapse runs of white space, so a quote may wrap where the article wraps."""
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=4)
def article_text(path: Path = ARTICLE_PATH) -> str:
    """The article with white space normalised (quotes are compared against this)."""
    return normalise_space(path.read_text(encoding="utf-8"))


def quote_in_article(quote: str, path: Path = ARTICLE_PATH) -> bool:
    """True when the quote appears in the article exactly, apart from white space."""
    return normalise_space(quote) in article_text(path)

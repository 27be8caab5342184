"""Which parts of the article the answers quote, and which sentences no answer uses yet."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from clinic.content.article import normalise_space


@dataclass
class Segment:
    text: str
    topics: tuple[str, ...]  # topic ids quoting this stretch ('' = none)
    anchors: list[str] = field(default_factory=list)  # ids of quotes starting here


@dataclass
class Coverage:
    paragraphs: list[list[Segment]]
    unused_sentences: list[str]
    missing: list[tuple[str, str]]  # (topic id, quote) not found in the article


def paragraphs(article: Path) -> list[str]:
    raw = article.read_text(encoding="utf-8")
    return [p for p in (normalise_space(block) for block in re.split(r"\n\s*\n", raw)) if p]


def anchor_id(topic: str, index: int) -> str:
    return f"source-{topic}-{index}"


def coverage(article: Path, quotes: dict[str, list[str]]) -> Coverage:
    """Mark every occurrence of every topic's quotes in the article (white space normalised)."""
    paras = paragraphs(article)
    full = " ".join(paras)  # equals normalise_space(article), so offsets match quote_in_article
    owners: list[set[str]] = [set() for _ in full]
    anchors: dict[int, list[str]] = {}
    missing = []
    for topic, topic_quotes in quotes.items():
        for index, quote in enumerate(topic_quotes):
            needle = normalise_space(quote)
            start = full.find(needle) if needle else -1
            if start < 0:
                missing.append((topic, quote))
                continue
            anchors.setdefault(start, []).append(anchor_id(topic, index))
            while start >= 0:
                for i in range(start, start + len(needle)):
                    owners[i].add(topic)
                start = full.find(needle, start + 1)

    result, unused, offset = [], [], 0
    for para in paras:
        end = offset + len(para)
        cuts = sorted(
            {
                offset,
                end,
                *[a for a in anchors if offset <= a < end],
                *[i for i in range(offset + 1, end) if owners[i] != owners[i - 1]],
            }
        )
        segments = [
            Segment(full[a:b], tuple(sorted(owners[a])), anchors.get(a, [])) for a, b in pairwise(cuts)
        ]
        result.append(segments)
        for match in re.finditer(r"[^.!?]+(?:[.!?]+|$)", para):
            start, stop = offset + match.start(), offset + match.end()
            sentence = match.group().strip()
            if sentence and not any(owners[i] for i in range(start, stop)):
                unused.append(sentence)
        offset = end + 1  # the joining space
    return Coverage(result, unused, missing)

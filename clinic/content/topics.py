"""Load the topic files in content/topics: one answer, its sources and its example questions."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

TOPICS_DIR = Path(__file__).resolve().parents[2] / "content" / "topics"
RETRIEVAL_INTENT = "faq"


@dataclass(frozen=True)
class Topic:
    """A curated answer. `id` is the file name; Rasa knows it as `faq/<id>`."""

    id: str
    title: str
    answer: str
    sources: list[str]
    examples: list[str]
    personal: bool = False
    path: Path = field(default=Path(), compare=False)

    @property
    def intent_response_key(self) -> str:
        return f"{RETRIEVAL_INTENT}/{self.id}"

    @property
    def response_name(self) -> str:
        return f"utter_{self.intent_response_key}"


def load_topic(path: Path) -> Topic:
    """Parse one topic file (yaml errors propagate: `make check-content` reports them)."""
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    return Topic(
        id=path.stem,
        title=str(raw.get("title", "")).strip(),
        answer=" ".join(str(raw.get("answer", "")).split()),
        sources=[str(s) for s in raw.get("sources") or []],
        examples=[str(e).strip() for e in raw.get("examples") or []],
        personal=bool(raw.get("personal", False)),
        path=path,
    )


def load_topics(directory: Path = TOPICS_DIR) -> list[Topic]:
    """All topics, sorted by id so builds are reproducible."""
    return [load_topic(p) for p in sorted(directory.glob("*.yml"))]

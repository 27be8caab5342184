"""Show curated topics by their titles (content/topics/<id>.yml): the words the visitor saw."""
from __future__ import annotations

from functools import lru_cache

from clinic.content.topics import load_topics


@lru_cache(maxsize=1)
def _titles() -> dict[str, str]:
    return {topic.id: topic.title for topic in load_topics()}


def topic_title(topic_id: str) -> str:
    """'iv_risks' -> 'Risks of the IV (through a vein)'; an unknown id is shown readably."""
    return _titles().get(topic_id, topic_id.replace("_", " "))

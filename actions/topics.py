"""What the action server knows about curated topics: read from the domain Rasa sends along."""

from __future__ import annotations

from typing import Any

from clinic.faq import response_name, topic_of_response


def topic_title(domain: dict[str, Any], topic: str) -> str | None:
    """The topic's button title, carried in its response's source payload; None if unknown."""
    variations = domain.get("responses", {}).get(response_name(topic))
    if not variations:
        return None
    payload = variations[0].get("custom", {}).get("data", {})
    return payload.get("title") or topic.replace("_", " ").capitalize()


def personal_topics(domain: dict[str, Any]) -> list[str]:
    """Topics marked `personal: true` in content/topics (decisions that need a person)."""
    found = []
    for name, variations in domain.get("responses", {}).items():
        data = (variations[0].get("custom") or {}).get("data", {}) if variations else {}
        topic = topic_of_response(name)
        if topic is not None and data.get("personal"):
            found.append(topic)
    return found

"""The FAQ's names in Rasa, and which curated topic a message or a turn was answered with.

Each curated topic (content/topics/<id>.yml) is the retrieval intent `faq/<id>` in the training
data and the response `utter_faq/<id>` in the domain (clinic/content/compile.py writes both); a
rule answers the intent `faq` with the action `utter_faq`, and a "did you mean" button
(`/choose_topic{"topic": ...}`) with the answer of the topic picked. The content build, the
action server, the gaps report and the evaluation all take the names from here.
Plain dicts in, strings out: no Rasa.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

RETRIEVAL_INTENT = "faq"
ANSWER_ACTION = f"utter_{RETRIEVAL_INTENT}"  # the retrieval action the rule runs: `utter_faq`
CHOOSE_TOPIC_INTENT = "choose_topic"  # a "did you mean" button
_KEY_PREFIX = f"{RETRIEVAL_INTENT}/"  # faq/<topic>
_RESPONSE_PREFIX = f"{ANSWER_ACTION}/"  # utter_faq/<topic>


def intent_response_key(topic: str) -> str:
    """'iv_risks' -> 'faq/iv_risks': the retrieval intent NLU predicts."""
    return f"{_KEY_PREFIX}{topic}"


def response_name(topic: str) -> str:
    """'iv_risks' -> 'utter_faq/iv_risks': the topic's answer in the domain."""
    return f"{_RESPONSE_PREFIX}{topic}"


def topic_of_key(key: str | None) -> str | None:
    """'faq/iv_risks' -> 'iv_risks'; None for any other intent."""
    return key[len(_KEY_PREFIX) :] if key and key.startswith(_KEY_PREFIX) else None


def topic_of_response(name: str | None) -> str | None:
    """'utter_faq/iv_risks' -> 'iv_risks'; None for any other response."""
    return name[len(_RESPONSE_PREFIX) :] if name and name.startswith(_RESPONSE_PREFIX) else None


def is_answer(response: str) -> bool:
    """A curated answer was sent (the response of a topic, or the retrieval action's name)."""
    return response.startswith(ANSWER_ACTION)


def topic_of_message(parse: Mapping[str, Any]) -> str | None:
    """The topic NLU picked for a visitor's message (its parse data, as in a tracker's user
    event): the button's topic for a "did you mean" click, else the response selector's."""
    if (parse.get("intent") or {}).get("name") == CHOOSE_TOPIC_INTENT:
        topics = [e.get("value") for e in parse.get("entities") or [] if e.get("entity") == "topic"]
        return topics[0] if topics else None
    selected = (parse.get("response_selector") or {}).get(RETRIEVAL_INTENT, {}).get("response", {})
    return topic_of_key(selected.get("intent_response_key") or "")


def topic_of_turn(responses: Iterable[str], actions: Iterable[str], parse: Mapping[str, Any]) -> str | None:
    """The topic a turn was answered with: the answer the bot sent, else, when the retrieval
    action ran, the topic in the parse data (full retrieval intent, selector, top of the ranking)."""
    for response in responses:
        topic = topic_of_response(response)
        if topic is not None:
            return topic
    if ANSWER_ACTION not in actions:
        return None
    key = (parse.get("intent") or {}).get("full_retrieval_intent_name")
    selector = (parse.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {}
    key = key or (selector.get("response") or {}).get("intent_response_key")
    ranking = parse.get("intent_ranking") or [{}]
    key = key or ranking[0].get("intent_response_key")
    return topic_of_key(key)


def ranked_topics(ranking: Iterable[Mapping[str, Any]], min_confidence: float) -> list[str]:
    """The topics in NLU's intent ranking with at least `min_confidence`, best first."""
    topics = []
    for entry in ranking:
        topic = topic_of_key(entry.get("intent_response_key") or "")
        if topic is not None and entry.get("confidence", 0) >= min_confidence:
            topics.append(topic)
    return topics

"""The FAQ's names and the topic of a message or a turn, as clinic/faq.py gives them."""

from __future__ import annotations

from clinic import faq


def test_names_round_trip() -> None:
    assert faq.intent_response_key("iv_risks") == "faq/iv_risks"
    assert faq.response_name("iv_risks") == "utter_faq/iv_risks"
    assert faq.topic_of_key(faq.intent_response_key("iv_risks")) == "iv_risks"
    assert faq.topic_of_response(faq.response_name("iv_risks")) == "iv_risks"
    assert faq.topic_of_key("greet") is None and faq.topic_of_response("utter_greet") is None
    assert faq.is_answer("utter_faq/iv_risks") and not faq.is_answer("utter_default")


def test_topic_of_a_message_prefers_the_button_picked() -> None:
    button = {
        "intent": {"name": "choose_topic"},
        "entities": [{"entity": "topic", "value": "routes"}],
        "response_selector": {"faq": {"response": {"intent_response_key": "faq/iv_risks"}}},
    }
    typed = {
        "intent": {"name": "faq"},
        "response_selector": {"faq": {"response": {"intent_response_key": "faq/iv_risks"}}},
    }
    assert faq.topic_of_message(button) == "routes"
    assert faq.topic_of_message(typed) == "iv_risks"
    assert faq.topic_of_message({"intent": {"name": "greet"}}) is None


def test_topic_of_a_turn_is_the_answer_sent_else_the_parse_when_the_answer_action_ran() -> None:
    parse = {"intent": {"name": "faq", "full_retrieval_intent_name": "faq/routes"}}
    assert faq.topic_of_turn(["utter_faq/iv_risks"], ["action_answer_chosen_topic"], parse) == "iv_risks"
    assert faq.topic_of_turn([], ["utter_faq"], parse) == "routes"
    assert faq.topic_of_turn([], ["action_clarify"], parse) is None


def test_ranked_topics_keep_only_topics_above_the_bar() -> None:
    ranking = [
        {"intent_response_key": "faq/iv_risks", "confidence": 0.4},
        {"name": "greet", "confidence": 0.3},
        {"intent_response_key": "faq/routes", "confidence": 0.2},
        {"intent_response_key": "faq/alternatives", "confidence": 0.05},
    ]
    assert faq.ranked_topics(ranking, 0.12) == ["iv_risks", "routes"]

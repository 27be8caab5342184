"""The handoff record's transcript, topics and reason are read correctly from tracker events."""

from __future__ import annotations

from actions.conversation import (
    client_id,
    current_session,
    handoff_reason,
    submission_key,
    topics_discussed,
    transcript,
)


def user(text: str, intent: str, topic: str = "") -> dict:
    parse = {"intent": {"name": intent}}
    if topic:
        parse["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{topic}"}}}
    return {"event": "user", "text": text, "timestamp": 1_700_000_000, "parse_data": parse}


def bot(text: str, response: str) -> dict:
    return {"event": "bot", "text": text, "timestamp": 1_700_000_001, "metadata": {"utter_action": response}}


def test_transcript_keeps_visitor_and_bot_messages_in_order() -> None:
    events = [
        user("is it safe", "faq", "safety_overview"),
        bot("It depends.", "utter_faq/safety_overview"),
        {"event": "action", "name": "action_listen"},
    ]
    lines = transcript(events)
    assert [(line["role"], line["text"]) for line in lines] == [
        ("visitor", "is it safe"),
        ("bot", "It depends."),
    ]
    assert lines[0]["at"].startswith("2023-11-14T22:13:20")


def test_topics_come_from_answers_and_picked_buttons_once_each() -> None:
    picked = {
        "event": "user",
        "text": "/choose_topic",
        "parse_data": {
            "intent": {"name": "choose_topic"},
            "entities": [{"entity": "topic", "value": "routes"}],
        },
    }
    events = [user("iv risks?", "faq", "iv_risks"), picked, user("iv again", "faq", "iv_risks")]
    assert topics_discussed(events) == ["iv_risks", "routes"]


def test_reason_out_of_scope_low_confidence_personal_or_asked() -> None:
    ask = user("talk to someone", "request_human")
    assert (
        handoff_reason([user("cost?", "out_of_scope"), bot("Sorry", "utter_out_of_scope"), ask], [])
        == "out_of_scope"
    )
    assert (
        handoff_reason([user("xx", "nlu_fallback"), bot("Sorry", "utter_default"), ask], [])
        == "low_confidence"
    )
    personal = [
        user("right for me?", "faq", "right_for_me"),
        bot("I can't tell", "utter_faq/right_for_me"),
        ask,
    ]
    assert handoff_reason(personal, ["right_for_me"]) == "personal_question"
    assert handoff_reason([ask], ["right_for_me"]) == "visitor_asked"


def test_current_session_starts_at_the_last_session_start() -> None:
    events = [user("old", "greet"), {"event": "session_started"}, user("new", "greet")]
    assert [e.get("text") for e in current_session(events)] == [None, "new"]


def test_the_client_id_comes_from_the_latest_message_of_this_session_that_has_one() -> None:
    def said(text: str, metadata: object) -> dict:
        return {**user(text, "greet"), "metadata": metadata}

    old = said("hi", {"client_id": "old-session-hash"})
    events = [
        old,
        {"event": "session_started"},
        said("a", {"client_id": "hash-1"}),
        said("b", {}),
        said("c", ["not", "a", "mapping"]),
        said("d", {"client_id": 12345}),
    ]
    assert client_id(events) == "hash-1"
    assert client_id([old, {"event": "session_started"}, said("a", None)]) is None
    assert client_id([said("x", {"client_id": "h" * 500})]) is None, "nothing unreasonable"


def test_the_submission_key_names_the_conversation_and_the_form_run() -> None:
    started = {"event": "active_loop", "name": "handoff_form", "timestamp": 1_700_000_000.25}
    events = [user("talk to someone", "request_human"), started, {"event": "active_loop", "name": None}]
    key = submission_key("visitor-1", events)
    assert key == submission_key("visitor-1", events + [user("yes", "affirm")]), "a retry: the same key"
    assert key != submission_key("visitor-2", events)
    restarted = {**started, "timestamp": 1_700_000_900.5}
    assert key != submission_key("visitor-1", events + [restarted]), "asking again later: a new run"
    assert submission_key("visitor-1", [user("hi", "greet")]) is None

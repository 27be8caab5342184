"""Custom actions, run with rasa_sdk trackers and the real domain and handoff store."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import handoff_submit
from actions.answer_chosen_topic import ActionAnswerChosenTopic
from actions.clarify import ActionClarify
from actions.handoff_form import ActionAskHandoffTopicNote, ActionCorrectHandoff, ValidateHandoffForm
from actions.handoff_submit import ActionAbandonHandoff, ActionSubmitHandoff
from clinic.handoff.crypto import generate_key
from tests.support.handoffs import FILLED_SLOTS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> dict[str, Any]:
    """domain.yml plus the built FAQ responses, as Rasa sends them to the action server."""
    document = yaml.safe_load((ROOT / "domain.yml").read_text())
    document["responses"].update(yaml.safe_load((ROOT / "data/nlu/faq.yml").read_text())["responses"])
    return document


def tracker(
    slots: dict[str, Any] | None = None,
    latest: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
) -> Tracker:
    return Tracker(
        "visitor-1",
        slots or {},
        latest or {},
        events or [],
        False,
        None,
        {"name": "handoff_form"},
        "action_listen",
    )


def run(action, track: Tracker, domain: dict[str, Any]):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, track, domain))
    return dispatcher.messages, events


def test_clarify_offers_the_candidate_topics_as_buttons(domain) -> None:
    latest = {
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.5},
            {"name": "faq", "confidence": 0.31, "intent_response_key": "faq/iv_risks"},
            {"name": "faq", "confidence": 0.22, "intent_response_key": "faq/safety_overview"},
            {"name": "greet", "confidence": 0.2, "intent_response_key": "greet"},
            {"name": "faq", "confidence": 0.05, "intent_response_key": "faq/routes"},
        ]
    }
    messages, _ = run(ActionClarify(), tracker(latest=latest), domain)
    buttons = messages[0]["buttons"]
    assert messages[0]["response"] == "utter_clarify"
    assert [b["title"] for b in buttons] == [
        "Risks of the IV (through a vein)",
        "Which way is safer",
        "Something else",
    ]
    assert buttons[0]["payload"] == '/choose_topic{"topic": "iv_risks"}'


def test_clarify_says_so_honestly_when_there_is_nothing_to_offer(domain) -> None:
    latest = {
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.5},
            {"name": "greet", "confidence": 0.4, "intent_response_key": "greet"},
        ]
    }
    messages, _ = run(ActionClarify(), tracker(latest=latest), domain)
    assert messages[0]["response"] == "utter_default"


@pytest.mark.parametrize(
    "topic, response", [("routes", "utter_faq/routes"), ("not_a_topic", "utter_default")]
)
def test_a_picked_topic_gets_exactly_that_answer(domain, topic: str, response: str) -> None:
    latest = {"entities": [{"entity": "topic", "value": topic}]}
    messages, _ = run(ActionAnswerChosenTopic(), tracker(latest=latest), domain)
    assert messages[0]["response"] == response


def validate(slot: str, value: str, slots: dict[str, Any] | None = None) -> tuple:
    dispatcher = CollectingDispatcher()
    method = getattr(ValidateHandoffForm(), f"validate_{slot}")
    result = method(value, dispatcher, tracker(slots), {})
    return result, [m.get("text") for m in dispatcher.messages]


def test_form_validation_re_asks_with_a_clear_message() -> None:
    assert validate("handoff_name", "  Ann  ") == ({"handoff_name": "Ann"}, [])
    result, said = validate("handoff_contact", "ann@", {"handoff_contact_method": "email"})
    assert result == {"handoff_contact": None} and "name@example.com" in said[0]
    assert validate("handoff_contact", "212-555-0187", {"handoff_contact_method": "phone"})[0] == {
        "handoff_contact": "+12125550187"
    }
    assert validate("handoff_contact_method", "ann@example.org")[0] == {
        "handoff_contact_method": "email",
        "handoff_contact": "ann@example.org",
    }
    assert validate("handoff_contact_method", "pigeon")[0] == {"handoff_contact_method": None}
    assert validate("handoff_best_time", "skip")[0] == {"handoff_best_time": ""}


def test_topic_note_is_prefilled_from_the_conversation(domain) -> None:
    events = [
        {
            "event": "user",
            "text": "iv?",
            "parse_data": {
                "intent": {"name": "faq"},
                "response_selector": {"faq": {"response": {"intent_response_key": "faq/iv_risks"}}},
            },
        }
    ]
    messages, _ = run(ActionAskHandoffTopicNote(), tracker(events=events), domain)
    assert "Risks of the IV (through a vein)" in messages[0]["text"]
    assert messages[0]["buttons"][0]["payload"] == "/use_topics"


def test_correcting_the_contact_clears_it_and_the_consent() -> None:
    latest = {"entities": [{"entity": "handoff_field", "value": "handoff_contact"}]}
    _, events = run(ActionCorrectHandoff(), tracker(latest=latest), {})
    assert {(e["name"], e["value"]) for e in events} == {
        ("handoff_contact", None),
        ("handoff_consent", None),
        ("handoff_contact_method", None),
    }


@pytest.fixture
def store_at(monkeypatch, tmp_path):
    def configure(url: str) -> None:
        monkeypatch.setenv("HANDOFF_DATABASE_URL", url)
        monkeypatch.setenv("HANDOFF_ENCRYPTION_KEY", generate_key())
        monkeypatch.setenv("CLINIC_ENV", "test")
        handoff_submit.store.cache_clear()

    yield configure
    handoff_submit.store.cache_clear()


def test_submit_writes_the_record_before_confirming(domain, store_at, tmp_path) -> None:
    store_at(f"sqlite:///{tmp_path / 'h.db'}")
    messages, events = run(ActionSubmitHandoff(), tracker(FILLED_SLOTS), domain)
    reference = next(e["value"] for e in events if e["name"] == "handoff_reference")
    assert reference in messages[0]["text"]
    confirmed = messages[1]["custom"]["data"]
    assert confirmed["kind"] == "handoff_confirmed" and confirmed["reference"] == reference
    assert confirmed["expected_contact"] in messages[0]["text"]
    assert handoff_submit.store().get(reference).contact_value == "ann@example.org"
    assert SlotSet("handoff_contact", None) in events, "contact details do not linger in slots"


def test_submit_never_claims_a_handoff_that_did_not_happen(domain, store_at, tmp_path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    store_at(f"sqlite:///{blocker}/h.db")
    messages, events = run(ActionSubmitHandoff(), tracker(FILLED_SLOTS), domain)
    assert messages[0]["response"] == "utter_handoff_failed"
    assert messages[0]["clinic_phone"] and "@" in messages[0]["clinic_email"]
    assert not any(e["name"] == "handoff_reference" for e in events)


def test_no_consent_means_nothing_is_stored(domain, store_at, tmp_path) -> None:
    store_at(f"sqlite:///{tmp_path / 'h.db'}")
    messages, _ = run(ActionSubmitHandoff(), tracker({**FILLED_SLOTS, "handoff_consent": False}), domain)
    assert messages[0]["response"] == "utter_handoff_no_consent"
    assert handoff_submit.store().list() == []
    assert os.environ["CLINIC_ENV"] == "test"


STARTED = {"event": "active_loop", "name": "handoff_form", "timestamp": 1_700_000_000.5}


def visitor(sender: str, client: str | None = None, slots: dict[str, Any] | None = None) -> Tracker:
    """A tracker at the submit step: the form was started, the visitor consented."""
    metadata = {"client_id": client} if client else {}
    events = [
        {
            "event": "user",
            "text": "talk to someone",
            "timestamp": 1_700_000_000,
            "metadata": metadata,
            "parse_data": {"intent": {"name": "request_human"}},
        },
        STARTED,
    ]
    return Tracker(
        sender, {**FILLED_SLOTS, **(slots or {})}, events[0], events, False, None, {}, "action_listen"
    )


def test_consent_marks_the_request_pending_until_it_is_confirmed() -> None:
    assert validate("handoff_consent", True)[0] == {"handoff_consent": True, "handoff_pending": True}
    assert validate("handoff_consent", False)[0] == {"handoff_consent": False}


def test_a_retried_submit_gets_the_same_request_even_if_it_was_handled_meanwhile(
    domain, store_at, tmp_path
) -> None:
    """The action server died after committing: the visitor's retry must not make a second one."""
    store_at(f"sqlite:///{tmp_path / 'h.db'}")
    _, first = run(ActionSubmitHandoff(), visitor("visitor-r"), domain)
    reference = next(e["value"] for e in first if e["name"] == "handoff_reference")
    handoff_submit.store().claim(reference, "casey")
    handoff_submit.store().resolve(reference, "casey")
    messages, events = run(ActionSubmitHandoff(), visitor("visitor-r"), domain)
    assert reference in messages[0]["text"]
    assert [h.reference for h in handoff_submit.store().list()] == [reference]
    assert SlotSet("handoff_pending", None) in events


def test_too_many_requests_from_one_client_get_a_kind_answer(domain, store_at, tmp_path, monkeypatch) -> None:
    config = yaml.safe_load((ROOT / "content/clinic.yml").read_text())
    config["handoff"]["limits"] = {"window_minutes": 60, "per_conversation": 2, "per_client": 2}
    (tmp_path / "clinic.yml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("CLINIC_CONFIG", str(tmp_path / "clinic.yml"))
    store_at(f"sqlite:///{tmp_path / 'h.db'}")
    for number in range(2):
        messages, _ = run(
            ActionSubmitHandoff(), visitor(f"script-{number}", client="c0ffee-client-hash"), domain
        )
        assert "Your request is in" in messages[0]["text"]
    messages, events = run(ActionSubmitHandoff(), visitor("script-2", client="c0ffee-client-hash"), domain)
    assert messages[0]["response"] == "utter_handoff_rate_limited" and messages[0]["clinic_phone"]
    assert not any(e["name"] == "handoff_reference" for e in events)
    assert SlotSet("handoff_contact", None) in events, "nothing lingers"
    assert len(handoff_submit.store().list()) == 2
    messages, _ = run(ActionSubmitHandoff(), visitor("someone-else", client="other-client-hash"), domain)
    assert "Your request is in" in messages[0]["text"]


def test_declining_a_retry_says_honestly_whether_the_request_had_reached_us(
    domain, store_at, tmp_path
) -> None:
    store_at(f"sqlite:///{tmp_path / 'h.db'}")
    messages, events = run(ActionAbandonHandoff(), visitor("visitor-a"), domain)
    assert messages[0]["response"] == "utter_handoff_not_sent"
    assert SlotSet("handoff_name", None) in events and SlotSet("handoff_pending", None) in events
    assert handoff_submit.store().list() == []

    _, submitted = run(ActionSubmitHandoff(), visitor("visitor-b"), domain)  # committed, reply lost
    reference = next(e["value"] for e in submitted if e["name"] == "handoff_reference")
    messages, events = run(ActionAbandonHandoff(), visitor("visitor-b"), domain)
    assert "already reached us" in messages[0]["text"] and reference in messages[1]["text"]
    assert SlotSet("handoff_reference", reference) in events


def test_submit_keeps_the_titles_of_the_topics_the_visitor_saw(domain, store_at, tmp_path) -> None:
    """The record carries the titles from the domain the action got, so the inbox needs no content."""
    store_at(f"sqlite:///{tmp_path / 'h.db'}")
    asked = {
        "event": "user",
        "text": "is the drip risky?",
        "timestamp": 1_699_999_990,
        "parse_data": {
            "intent": {"name": "faq"},
            "response_selector": {"faq": {"response": {"intent_response_key": "faq/iv_risks"}}},
        },
    }
    events = [asked, *visitor("visitor-titles").events]
    track = Tracker("visitor-titles", FILLED_SLOTS, events[-2], events, False, None, {}, "action_listen")
    _, result = run(ActionSubmitHandoff(), track, domain)
    reference = next(e["value"] for e in result if e["name"] == "handoff_reference")
    record = handoff_submit.store().get(reference)
    assert record.topics == ["iv_risks"]
    assert record.topic_titles == {"iv_risks": "Risks of the IV (through a vein)"}

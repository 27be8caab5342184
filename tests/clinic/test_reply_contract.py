"""The bot's side of the reply contract (clinic/reply_contract.schema.json): every `custom` payload
it can send conforms, from the responses, the compiled FAQ, the actions and a live conversation.

The widget's side is tests/widget/test_widget_reply_contract.py.
"""

from __future__ import annotations

import ast
import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import yaml
from jsonschema import Draft7Validator
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import handoff_submit, live_chat
from actions.handoff_submit import ActionAbandonHandoff, ActionSubmitHandoff
from actions.live_chat import ActionLeaveLiveChatQueue, ActionLiveChatTimeout, ActionStartLiveChat
from clinic import reply_contract
from clinic.content.compile import training_data
from clinic.content.topics import load_topics
from clinic.devtools.evaluate import send
from clinic.reply_contract import custom_payloads, examples, kinds, problems, responses_in
from clinic.stack.local import rasa_stack
from tests.support.handoffs import FILLED_SLOTS, WHOLE_FORM, throwaway_store_settings

ROOT = Path(__file__).resolve().parents[2]


def nonconforming(found: list[tuple[str, Any]]) -> dict[str, list[str]]:
    """{where: problems} for the payloads that do not conform."""
    return {where: issues for where, custom in found if (issues := problems(custom))}


def kind_of(custom: dict[str, Any]) -> str:
    """'source', or 'alert/crisis' for an alert: what the widget renders differently."""
    data = custom["data"]
    return f"{data['kind']}/{data['level']}" if data["kind"] == "alert" else data["kind"]


# ------------------------------------------------------------------ the schema itself


def test_the_schema_is_draft_07_and_each_kind_is_defined_once_by_its_name() -> None:
    document = reply_contract.schema()
    Draft7Validator.check_schema(document)
    assert document["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert sorted(kinds()) == [
        "alert",
        "coordinator",
        "handoff_confirmed",
        "live_chat",
        "no_answer",
        "notice",
        "source",
    ]
    for kind in kinds():
        definition = document["definitions"][kind]
        assert definition["properties"]["kind"] == {"const": kind}
        assert "kind" in definition["required"] and definition["additionalProperties"] is False
        assert len(definition["description"]) > 40, f"{kind}: say what the widget does with it"


def test_every_kind_has_examples_and_they_conform() -> None:
    assert set(examples()) == set(kinds())
    for kind, items in examples().items():
        assert items, f"{kind} has no example"
        assert nonconforming([(kind, {"data": item}) for item in items]) == {}
    assert {item["level"] for item in examples()["alert"]} == {"emergency", "crisis"}


def source(**fields: Any) -> dict[str, Any]:
    """A conforming source payload, with `fields` changed."""
    return {"data": {"kind": "source", "topic": "routes", "title": "Routes", "quotes": ["x"], **fields}}


def confirmed(**fields: Any) -> dict[str, Any]:
    """A conforming handoff confirmation, with `fields` changed."""
    return {
        "data": {"kind": "handoff_confirmed", "reference": "HX7-K3P9", "expected_contact": "today", **fields}
    }


MISREAD = {  # what the widget would get wrong -> the problem that names it
    "no-quotes": (source(quotes=[]), "data/quotes"),
    "quotes-misspelt": ({"data": {**source()["data"], "quote": ["x"]}}, "'quote' was unexpected"),
    "empty-title": (source(title=""), "data/title"),
    "unknown-level": ({"data": {"kind": "alert", "level": "emergncy"}}, "data/level"),
    "alert-without-level": ({"data": {"kind": "alert"}}, "'level' is a required"),
    "stray-field": ({"data": {"kind": "notice", "level": "crisis"}}, "'level' was unexpected"),
    "lowercase-reference": (confirmed(reference="hx7-k3p9"), "data/reference"),
    "empty-expected-contact": (confirmed(expected_contact=""), "data/expected_contact"),
    "unknown-live-state": ({"data": {"kind": "live_chat", "state": "paused"}}, "data/state"),
    "position-not-a-number": (
        {"data": {"kind": "live_chat", "state": "waiting", "position": "2"}},
        "data/position",
    ),
    "coordinator-without-name": ({"data": {"kind": "coordinator"}}, "'name' is a required"),
    "empty-coordinator-name": ({"data": {"kind": "coordinator", "name": ""}}, "data/name"),
    "unknown-kind": ({"data": {"kind": "answer"}}, "'answer' is not one of the kinds"),
    "data-not-an-object": ({"data": "notice"}, "data: must be an object"),
    "no-data-wrapper": ({"kind": "notice"}, "'data' is a required property"),
    "extra-emit-argument": ({"data": {"kind": "notice"}, "room": "someone-else"}, "'room' was unexpected"),
}


@pytest.mark.parametrize("custom, problem", list(MISREAD.values()), ids=list(MISREAD))
def test_a_payload_the_widget_would_misread_is_refused_with_a_reason(custom: Any, problem: str) -> None:
    found = problems(custom)
    assert any(problem in line for line in found), found
    with pytest.raises(reply_contract.ReplyContractError, match="."):
        reply_contract.check(custom)


# ------------------------------------------------------------------ responses


def test_every_custom_payload_in_the_domain_responses_conforms() -> None:
    found = list(custom_payloads(responses_in(ROOT / "domain.yml")))
    assert nonconforming(found) == {}
    kinds_found = {kind_of(custom) for _, custom in found}
    assert kinds_found == {"notice", "no_answer", "alert/emergency", "alert/crisis"}


def test_every_compiled_faq_answer_carries_a_conforming_source() -> None:
    topics = load_topics()
    responses = training_data(topics)["responses"]
    found = list(custom_payloads(responses))
    assert nonconforming(found) == {}
    answers = sorted(topic.response_name for topic in topics)
    assert sorted(name for name, _ in found) == answers, "one source per answer"
    assert {custom["data"]["kind"] for _, custom in found} == {"source"}
    assert any(custom["data"].get("personal") for _, custom in found), "the personal flag is covered too"


def test_the_debug_check_passes_on_the_project_and_names_a_broken_payload(tmp_path: Path, capsys) -> None:
    """`python -m clinic.reply_contract`: domain.yml and the built data/nlu/faq.yml (`make data`)."""
    assert reply_contract.main(list(reply_contract.RESPONSE_FILES)) == 0
    broken = tmp_path / "domain.yml"
    emergency = {"text": "Call 911.", "custom": {"data": {"kind": "alert", "level": "urgent"}}}
    broken.write_text(yaml.safe_dump({"responses": {"utter_emergency": [emergency]}}))
    capsys.readouterr()
    assert reply_contract.main([broken]) == 1
    assert "utter_emergency: data/level: 'urgent' is not one of" in capsys.readouterr().out


# ------------------------------------------------------------------ actions

# Every function in actions/ that sends a custom payload itself, driven by the test below. A new
# one fails `test_no_action_sends_a_custom_payload_the_tests_do_not_drive` until it is driven too.
CUSTOM_SENDERS = {"actions/handoff_submit.py:confirm", "actions/live_chat.py:run"}


def custom_senders() -> set[str]:
    """'file:function' for each `utter_message(custom=...)` or `json_message=` in actions/."""
    found = set()
    for path in sorted((ROOT / "actions").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for call in ast.walk(function):
                keywords = {k.arg for k in call.keywords} if isinstance(call, ast.Call) else set()
                if keywords & {"custom", "json_message"}:
                    found.add(f"actions/{path.name}:{function.name}")
    return found


def test_no_action_sends_a_custom_payload_the_tests_do_not_drive() -> None:
    assert custom_senders() == CUSTOM_SENDERS


@pytest.fixture
def domain() -> dict[str, Any]:
    """domain.yml plus the FAQ responses, as Rasa sends them to the action server."""
    document = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    document["responses"].update(training_data(load_topics())["responses"])
    return document


@pytest.fixture
def handoff_store(tmp_path: Path) -> Iterator[None]:
    handoff_submit.store.cache_clear()
    with patch.dict(os.environ, throwaway_store_settings(tmp_path)):
        yield
    handoff_submit.store.cache_clear()


def run(
    action: Any, sender: str, domain: dict[str, Any], slots: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The messages the action sends for a visitor at the submit step who has consented."""
    events = [
        {
            "event": "user",
            "text": "talk to someone",
            "timestamp": 1_700_000_000,
            "metadata": {},
            "parse_data": {"intent": {"name": "request_human"}},
        },
        {"event": "active_loop", "name": "handoff_form", "timestamp": 1_700_000_000.5},
    ]
    tracker = Tracker(
        sender, {**FILLED_SLOTS, **(slots or {})}, events[0], events, False, None, {}, "action_listen"
    )
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, tracker, domain))
    return dispatcher.messages


def test_the_handoff_actions_confirm_with_a_conforming_payload(domain, handoff_store) -> None:
    submitted = run(ActionSubmitHandoff(), "visitor-contract", domain)
    # The visitor declines a retry of a submit whose reply was lost: the request stands, confirmed again.
    abandoned = run(ActionAbandonHandoff(), "visitor-contract", domain)
    found = [(f"message {n}", m["custom"]) for n, m in enumerate(submitted + abandoned) if m.get("custom")]
    assert nonconforming(found) == {}
    assert [kind_of(custom) for _, custom in found] == ["handoff_confirmed", "handoff_confirmed"]
    reference = found[0][1]["data"]["reference"]
    assert reference in submitted[0]["text"] and handoff_submit.store().get(reference)


def test_the_live_chat_actions_send_conforming_payloads(domain, handoff_store) -> None:
    live_chat.store.cache_clear()
    waiting = run(ActionStartLiveChat(), "visitor-live", domain)
    left = run(ActionLeaveLiveChatQueue(), "visitor-live", domain, {"live_chat": "waiting"})
    timed_out = run(ActionLiveChatTimeout(), "visitor-live", domain)
    found = [
        (f"message {n}", m["custom"]) for n, m in enumerate(waiting + left + timed_out) if m.get("custom")
    ]
    assert nonconforming(found) == {}
    assert [custom["data"].get("state") for _, custom in found] == ["waiting", "ended", "ended"]
    assert found[0][1]["data"]["position"] == 1 and "next in line" in waiting[0]["text"]
    live_chat.store.cache_clear()


# ------------------------------------------------------------------ a live conversation

# (journey, the visitor's messages, what the widget must have been sent). Each journey is a new
# conversation, so each begins with the education notice.
# A live chat's kinds are not in these journeys: `coordinator` and most `live_chat` status lines are
# appended by the inbox through Rasa's HTTP API (clinic/live_chat/rasa_api.py), and the `waiting`
# one needs a coordinator available (docs/live-chat.md); the live-chat tests drive those.
LIVE_CHAT_KINDS = {"coordinator", "live_chat"}
JOURNEYS = [
    ("faq answer", ["what are the risks of the iv drip"], {"notice", "source"}),
    ("emergency", ["i have chest pain right now"], {"notice", "alert/emergency"}),
    ("crisis", ["i want to kill myself"], {"notice", "alert/crisis"}),
    ("out of scope", ["how much does the treatment cost"], {"notice", "no_answer"}),
    (
        "handoff",
        WHOLE_FORM,
        {"notice", "handoff_confirmed"},
    ),
]


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    workdir = tmp_path_factory.mktemp("contract")
    values = throwaway_store_settings(workdir)
    with patch.dict(os.environ, values), rasa_stack() as stack:
        yield stack


@pytest.mark.slow
def test_a_live_conversation_sends_only_conforming_payloads_and_every_kind(bot) -> None:
    seen: set[str] = set()
    for journey, messages, expected in JOURNEYS:
        sender = f"contract-{uuid.uuid4().hex}"
        replies = [reply for message in messages for reply in send(bot.rest_webhook, message, sender)]
        found = [(f"{journey}: reply {n}", r["custom"]) for n, r in enumerate(replies) if "custom" in r]
        assert nonconforming(found) == {}
        kinds_sent = {kind_of(custom) for _, custom in found}
        assert kinds_sent == expected, f"{journey}: {[r.get('text', r.get('custom')) for r in replies]}"
        seen |= kinds_sent
    assert {kind.split("/")[0] for kind in seen} == set(kinds()) - LIVE_CHAT_KINDS, "every other kind"

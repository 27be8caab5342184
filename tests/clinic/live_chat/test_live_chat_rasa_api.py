"""The inbox's client of Rasa's API sends exactly docs/live-chat.md's events, with the token."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinic.live_chat.rasa_api import RasaApi, RasaApiError, transcript_from_events
from tests.clinic.live_chat.conftest import TOKEN, FakeRasa

CONV = "conv/with?odd chars"


def _api(fake: FakeRasa) -> RasaApi:
    return RasaApi(fake.url, TOKEN, timeout=5)


def test_join_say_leave_lost_and_trigger_send_the_documented_events(fake_rasa: FakeRasa) -> None:
    api = _api(fake_rasa)
    api.join(CONV, "Casey")
    api.say(CONV, "casey", "Casey", "Hello <b>there</b>")
    api.leave(CONV, "Casey")
    api.lost(CONV, "Casey", 2)
    api.trigger(CONV, "live_chat_closed")

    events_path = "/conversations/conv%2Fwith%3Fodd%20chars/tracker/events"
    appended = [r for r in fake_rasa.requests if r.path == events_path]
    assert len(appended) == 4
    for request in appended:
        stamped = [event for event in request.body if event["event"] == "bot"]
        for event in stamped:  # the time a reconnecting widget asks from (clinic/live_chat/replay.py)
            assert event.pop("timestamp") == event["data"]["custom"]["data"].pop("at") > 1.7e9
        assert request.query == {
            "output_channel": ["latest"],
            "execute_side_effects": ["true"],
            "token": [TOKEN],
        }
    assert appended[0].body == [
        {"event": "pause"},
        {"event": "slot", "name": "live_chat", "value": "joined"},
        {
            "event": "bot",
            "text": "Casey (care coordinator) joined the chat.",
            "data": {"custom": {"data": {"kind": "live_chat", "state": "joined", "coordinator": "Casey"}}},
        },
    ]
    assert appended[1].body == [
        {
            "event": "bot",
            "text": "Hello <b>there</b>",
            "data": {"custom": {"data": {"kind": "coordinator", "name": "Casey"}}},
            "metadata": {"live_chat": {"role": "coordinator", "username": "casey", "name": "Casey"}},
        }
    ]
    assert appended[2].body == [
        {"event": "resume"},
        {"event": "action", "name": "action_listen"},
        {"event": "slot", "name": "live_chat", "value": None},
        {
            "event": "bot",
            "text": "Casey left the chat. You're talking to the clinic assistant again.",
            "data": {"custom": {"data": {"kind": "live_chat", "state": "ended"}}},
        },
    ]
    assert appended[3].body == [
        {"event": "resume"},
        {"event": "action", "name": "action_listen"},
        {"event": "slot", "name": "live_chat", "value": "waiting"},
        {
            "event": "bot",
            "text": "Casey lost the connection. You're back in line; I can answer questions meanwhile.",
            "data": {"custom": {"data": {"kind": "live_chat", "state": "waiting", "position": 2}}},
        },
    ]
    (trigger,) = fake_rasa.posted("/trigger_intent")
    assert trigger.path == "/conversations/conv%2Fwith%3Fodd%20chars/trigger_intent"
    assert trigger.query == {"output_channel": ["latest"], "token": [TOKEN]}
    assert trigger.body == {"name": "live_chat_closed"}


def test_transcript_names_who_wrote_each_message(fake_rasa: FakeRasa) -> None:
    fake_rasa.tracker_events = [
        {"event": "action", "name": "action_listen", "timestamp": 1709564400.0},
        {"event": "user", "text": "Is the drip safe?", "timestamp": 1709564400.0},
        {"event": "bot", "text": "Here is what the article says.", "timestamp": 1709564401.0, "metadata": {}},
        {
            "event": "bot",
            "text": None,
            "data": {"custom": {"data": {"kind": "live_chat"}}},
            "timestamp": 1709564402.0,
        },
        {
            "event": "bot",
            "text": "Casey (care coordinator) joined the chat.",
            "data": {"custom": {"data": {"kind": "live_chat", "state": "joined"}}},
            "timestamp": 1709564403.0,
        },
        {
            "event": "bot",
            "text": "Hi, I'm Casey.",
            "metadata": {"live_chat": {"role": "coordinator", "username": "casey", "name": "Casey"}},
            "timestamp": 1709564404.0,
        },
    ]
    lines = _api(fake_rasa).transcript("conv-1")
    assert fake_rasa.requests[-1].path == "/conversations/conv-1/tracker"
    assert fake_rasa.requests[-1].query == {"token": [TOKEN]}
    assert lines == [
        {"role": "visitor", "text": "Is the drip safe?", "at": "2024-03-04T15:00:00+00:00"},
        {"role": "bot", "text": "Here is what the article says.", "at": "2024-03-04T15:00:01+00:00"},
        {
            "role": "notice",
            "text": "Casey (care coordinator) joined the chat.",
            "at": "2024-03-04T15:00:03+00:00",
        },
        {"role": "coordinator", "text": "Hi, I'm Casey.", "at": "2024-03-04T15:00:04+00:00", "name": "Casey"},
    ]
    assert transcript_from_events([]) == []


def test_errors_are_clear_and_carry_no_message_text(fake_rasa: FakeRasa) -> None:
    fake_rasa.status = 401
    with pytest.raises(RasaApiError, match="refused the API token") as refused:
        _api(fake_rasa).say("conv-secret-id", "casey", "Casey", "my private words")
    fake_rasa.status = 500
    with pytest.raises(RasaApiError, match="HTTP 500") as failed:
        _api(fake_rasa).say("conv-secret-id", "casey", "Casey", "my private words")
    for error in (refused.value, failed.value):
        assert "my private words" not in str(error) and "conv-secret-id" not in str(error)
    with pytest.raises(RasaApiError, match="cannot reach"):
        RasaApi("http://127.0.0.1:9", TOKEN, timeout=2).join("c", "Casey")
    with pytest.raises(RasaApiError, match="RASA_API_TOKEN"):
        RasaApi(fake_rasa.url, "").join("c", "Casey")


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n", encoding="utf-8")
    api = RasaApi.from_env({"RASA_URL": "http://rasa.test:5005/", "RASA_API_TOKEN_FILE": str(token_file)})
    assert (api.url, api.token) == ("http://rasa.test:5005", "from-file")
    api = RasaApi.from_env({"RASA_API_TOKEN": "direct", "RASA_API_TOKEN_FILE": str(token_file)})
    assert (api.url, api.token) == ("http://127.0.0.1:5005", "direct")

"""The watchdog times out waiting chats and returns abandoned ones to the line, telling Rasa once."""

from __future__ import annotations

from clinic.handoff.requests import HandoffStore
from clinic.live_chat.hub import Hub
from clinic.live_chat.rasa_api import RasaApi
from clinic.live_chat.store import LiveChatStore
from clinic.live_chat.watchdog import Watchdog
from tests.clinic.handoff.conftest import FakeClock
from tests.clinic.live_chat.conftest import CASEY, PASSWORD, TOKEN, FakeRasa


def test_time_out_and_lost_coordinator_are_told_to_rasa(
    live_store: LiveChatStore, handoff_store: HandoffStore, clock: FakeClock, fake_rasa: FakeRasa
) -> None:
    handoff_store.create_coordinator(CASEY, PASSWORD)
    hub = Hub()
    watchdog = Watchdog(live_store, RasaApi(fake_rasa.url, TOKEN, timeout=5), hub)
    joined = live_store.request("conv-joined", "visitor_asked", [], {}).reference
    live_store.join(joined, CASEY)
    clock.advance(seconds=30)
    live_store.request("conv-waiting", "visitor_asked", [], {})
    with hub.subscribe() as subscription:
        assert watchdog.run_once() == (0, 0)
        clock.advance(seconds=31)  # the joined chat's page: 61 s silent
        assert watchdog.run_once() == (0, 1)
        assert subscription.get(timeout=1) == {"type": "queue"}
    (lost,) = fake_rasa.posted("/conversations/conv-joined/tracker/events")
    assert lost.body[0] == {"event": "resume"}
    payload = dict(lost.body[-1]["data"]["custom"]["data"])
    assert payload.pop("at") == lost.body[-1]["timestamp"]
    assert payload == {"kind": "live_chat", "state": "waiting", "position": 1}
    assert lost.body[-1]["text"].startswith("Casey lost the connection.")

    clock.advance(minutes=3)
    assert watchdog.run_once() == (2, 0)
    assert watchdog.run_once() == (0, 0)  # once only
    triggers = fake_rasa.posted("/trigger_intent")
    assert sorted(r.path for r in triggers) == [
        "/conversations/conv-joined/trigger_intent",
        "/conversations/conv-waiting/trigger_intent",
    ]
    assert all(r.body == {"name": "live_chat_timeout"} for r in triggers)


def test_a_failed_call_to_rasa_is_retried(
    live_store: LiveChatStore, clock: FakeClock, fake_rasa: FakeRasa
) -> None:
    watchdog = Watchdog(live_store, RasaApi(fake_rasa.url, TOKEN, timeout=5))
    live_store.request("conv-w", "visitor_asked", [], {})
    clock.advance(minutes=4)
    fake_rasa.status = 503
    assert watchdog.run_once() == (1, 0)
    fake_rasa.status = 200
    watchdog.run_once()
    statuses = [r.path for r in fake_rasa.posted("/trigger_intent")]
    assert statuses == ["/conversations/conv-w/trigger_intent"] * 2  # failed, then retried
    watchdog.run_once()
    assert len(fake_rasa.posted("/trigger_intent")) == 2  # not again after it worked

"""The inbox's live chat through Flask's test client: sign-in, CSRF, who may write, escaping,
the record a close leaves, and the event stream."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import pytest

from clinic.handoff.crypto import build_cipher
from clinic.handoff.requests import HandoffStore
from clinic.live_chat.feed import Feed
from clinic.live_chat.hub import Hub
from clinic.live_chat.sealed_events import seal
from clinic.live_chat.store import LiveChatStore
from tests.clinic.live_chat.conftest import CASEY, PASSWORD, ROBIN, FakeRasa

TOKEN_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
Inbox = tuple[Any, HandoffStore, LiveChatStore, Hub]
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _token(html: str) -> str:
    match = TOKEN_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def _signed_in(app: Any, user: str) -> tuple[Any, str]:
    client = app.test_client()
    page = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={"username": user, "password": PASSWORD, "csrf_token": _token(page.get_data(as_text=True))},
    )
    assert response.status_code == 302
    return client, _token(client.get("/live").get_data(as_text=True))


def _ask(live: LiveChatStore, conversation: str = "conv-1") -> str:
    return live.request(conversation, "personal_question", ["knee"], {"knee": "Knee injections"}).reference


def test_live_pages_need_sign_in_and_change_nothing_without_it(inbox_app: Inbox, fake_rasa: FakeRasa) -> None:
    app, _, live, _ = inbox_app
    reference = _ask(live)
    client = app.test_client()
    for path in ("/live", f"/live/chats/{reference}", "/live/stream", f"/live/chats/{reference}/stream"):
        response = client.get(path)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"], path
    assert client.get("/api/live/queue").status_code == 401
    for action in ("join", "say", "hand-back", "close"):
        assert client.post(f"/live/chats/{reference}/{action}", data={"text": "hi"}).status_code in (302, 400)
    assert client.post("/live/availability", data={"available": "1"}).status_code in (302, 400)
    assert live.get(reference).status == "waiting"
    assert fake_rasa.requests == []


def test_every_post_needs_the_csrf_token(inbox_app: Inbox, fake_rasa: FakeRasa) -> None:
    app, _, live, _ = inbox_app
    reference = _ask(live)
    client, token = _signed_in(app, CASEY)
    posts = [
        ("/live/availability", {"available": "1"}),
        ("/live/name", {"name": "Case"}),
        (f"/live/chats/{reference}/join", {}),
        (f"/live/chats/{reference}/say", {"text": "hello"}),
        (f"/live/chats/{reference}/hand-back", {}),
        (f"/live/chats/{reference}/close", {"note": "n"}),
    ]
    for path, data in posts:
        assert client.post(path, data=data).status_code == 400, path
        assert client.post(path, data={**data, "csrf_token": "forged"}).status_code == 400, path
    assert live.get(reference).status == "waiting"
    assert live.presence(CASEY).available is False and live.presence(CASEY).name == "Casey"
    assert fake_rasa.requests == []
    # The header works as well as the form field (what live.js's fetch sends).
    response = client.post("/live/availability", data={"available": "1"}, headers={"X-CSRFToken": token})
    assert response.status_code == 302 and live.presence(CASEY).available is True


def test_availability_and_name_make_live_chat_available(inbox_app: Inbox) -> None:
    app, _, live, _ = inbox_app
    client, token = _signed_in(app, CASEY)
    client.post("/live/name", data={"name": "  Casey   R. ", "csrf_token": token})
    client.post("/live/availability", data={"available": "1", "csrf_token": token})
    presence = live.presence(CASEY)
    assert presence.available is True and presence.name == "Casey R."
    page = client.get("/live")
    html = page.get_data(as_text=True)
    assert "You are <span" in html and "available</span>" in html
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "script-src" not in client.get("/handoffs").headers["Content-Security-Policy"]
    assert "<script>" not in html and 'src="/static/live.js"' in html


def test_join_say_and_a_second_coordinator_cannot_post(inbox_app: Inbox, fake_rasa: FakeRasa) -> None:
    app, _, live, _ = inbox_app
    reference = _ask(live)
    casey, casey_token = _signed_in(app, CASEY)
    robin, robin_token = _signed_in(app, ROBIN)

    # Robin cannot write into a chat nobody joined either.
    refused = robin.post(f"/live/chats/{reference}/say", data={"text": "hi", "csrf_token": robin_token})
    assert refused.status_code == 302
    assert casey.post(f"/live/chats/{reference}/join", data={"csrf_token": casey_token}).status_code == 302
    (join,) = fake_rasa.posted("/conversations/conv-1/tracker/events")
    assert (
        join.body[0] == {"event": "pause"}
        and join.body[2]["text"] == "Casey (care coordinator) joined the chat."
    )

    taken = robin.post(
        f"/live/chats/{reference}/join",
        data={"csrf_token": robin_token},
        headers={"Accept": "application/json"},
    )
    assert taken.status_code == 409 and taken.get_json() == {"error": "Casey has already joined this chat."}
    page = robin.get(f"/live/chats/{reference}").get_data(as_text=True)
    assert "Casey has this chat" in page and "data-reply-form" not in page
    for action, data in (("say", {"text": "I am Robin"}), ("hand-back", {}), ("close", {})):
        response = robin.post(
            f"/live/chats/{reference}/{action}",
            data={**data, "csrf_token": robin_token},
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 403, action
        assert "Casey is in this chat" in response.get_json()["error"]
    assert len([r for r in fake_rasa.requests if r.method == "POST"]) == 1  # nothing of Robin's reached Rasa
    assert live.get(reference).status == "joined"

    sent = casey.post(
        f"/live/chats/{reference}/say",
        data={"text": "  Hello, how can I help?  ", "csrf_token": casey_token},
        headers={"Accept": "application/json", "X-CSRFToken": casey_token},
    )
    assert sent.status_code == 200 and sent.get_json() == {"message": "Sent."}
    message = fake_rasa.requests[-1].body[0]
    assert message["text"] == "Hello, how can I help?"
    assert message["metadata"] == {"live_chat": {"role": "coordinator", "username": CASEY, "name": "Casey"}}
    empty = casey.post(f"/live/chats/{reference}/say", data={"text": "   ", "csrf_token": casey_token})
    assert empty.status_code == 302 and len([r for r in fake_rasa.requests if r.method == "POST"]) == 2


def test_messages_are_rendered_as_text(inbox_app: Inbox, fake_rasa: FakeRasa) -> None:
    app, _, live, _ = inbox_app
    reference = _ask(live)
    fake_rasa.tracker_events = [{"event": "user", "text": HOSTILE, "timestamp": 1709564400.0}]
    client, _ = _signed_in(app, CASEY)
    html = client.get(f"/live/chats/{reference}").get_data(as_text=True)
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'data-stream="/live/chats/' in html


def test_rasa_down_is_a_kind_message_and_the_join_is_undone(inbox_app: Inbox, fake_rasa: FakeRasa) -> None:
    app, _, live, _ = inbox_app
    reference = _ask(live)
    client, token = _signed_in(app, CASEY)
    fake_rasa.status = 500
    response = client.post(f"/live/chats/{reference}/join", data={"csrf_token": token}, follow_redirects=True)
    assert "The assistant could not be reached just now" in response.get_data(as_text=True)
    assert live.get(reference).status == "waiting"


def test_hand_back_then_close_leaves_a_record_with_the_transcript(
    inbox_app: Inbox, fake_rasa: FakeRasa
) -> None:
    app, store, live, _ = inbox_app
    reference = _ask(live, "conv-close")
    client, token = _signed_in(app, CASEY)
    client.post(f"/live/chats/{reference}/join", data={"csrf_token": token})
    client.post(f"/live/chats/{reference}/hand-back", data={"csrf_token": token})
    assert live.get(reference).status == "handed_back"
    assert fake_rasa.requests[-1].body[0] == {"event": "resume"}
    fake_rasa.tracker_events = [
        {"event": "user", "text": "Thanks <b>so</b> much", "timestamp": 1709564400.0},
        {
            "event": "bot",
            "text": "Glad to help.",
            "metadata": {"live_chat": {"role": "coordinator", "username": CASEY, "name": "Casey"}},
            "timestamp": 1709564401.0,
        },
    ]
    closed = client.post(
        f"/live/chats/{reference}/close", data={"note": "Sent the brochure.", "csrf_token": token}
    )
    assert closed.status_code == 302
    record_reference = live.get(reference).handoff_reference
    assert closed.headers["Location"] == f"/handoffs/{record_reference}"
    assert fake_rasa.posted("/trigger_intent")[-1].body == {"name": "live_chat_closed"}
    # A handed-back chat was resumed already: no second "left the chat".
    left = [r for r in fake_rasa.posted("/tracker/events") if r.body[0] == {"event": "resume"}]
    assert len(left) == 1

    live.rate("conv-close", 5, "Very clear")
    page = client.get(f"/handoffs/{record_reference}").get_data(as_text=True)
    assert "Live chat" in page and "Casey" in page and "5 of 5" in page and "Very clear" in page
    assert "Thanks &lt;b&gt;so&lt;/b&gt; much" in page and "Sent the brochure." in page
    assert "Contact details" not in page
    assert "5.0 of 5" in client.get("/handoffs?status=all").get_data(as_text=True)
    record = store.get(record_reference)
    assert record.kind == "live_chat" and record.transcript[1]["role"] == "coordinator"


def _read_events(response: Any, wanted: str, timeout: float = 10) -> dict[str, Any]:
    """Read the stream until an event named ``wanted`` arrives; return its data."""
    deadline = time.monotonic() + timeout
    buffer = ""
    for chunk in response.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            if lines.get("event") == wanted:
                return json.loads(lines["data"])
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"no {wanted} event in the stream")


def test_the_chat_stream_sends_new_messages_and_alerts_from_the_feed(inbox_app: Inbox, key: str) -> None:
    app, _, live, hub = inbox_app
    reference = _ask(live, "conv-stream")
    client, token = _signed_in(app, CASEY)
    feed = Feed(live, hub, build_cipher(key))
    response = client.get(f"/live/chats/{reference}/stream", buffered=False)
    assert response.mimetype == "text/event-stream"
    assert _read_events(response, "state")["status"] == "waiting"

    def publish() -> None:
        while hub.subscribers == 0:
            time.sleep(0.05)
        event = {
            "sender_id": "conv-stream",
            "event": "user",
            "timestamp": 1709564400.0,
            "text": HOSTILE,
            "intent": "emergency",
        }
        feed.handle(seal(event, build_cipher(key)))

    threading.Thread(target=publish, daemon=True).start()
    message = _read_events(response, "message")
    assert message == {"role": "visitor", "text": HOSTILE, "at": "2024-03-04T15:00:00+00:00"}
    assert _read_events(response, "alert")
    response.close()
    assert live.get(reference).alert_at is not None


def test_the_queue_stream_lists_waiting_chats_and_keeps_the_coordinator_present(inbox_app: Inbox) -> None:
    app, _, live, hub = inbox_app
    client, token = _signed_in(app, CASEY)
    client.post("/live/availability", data={"available": "1", "csrf_token": token})
    response = client.get("/live/stream", buffered=False)
    assert _read_events(response, "queue") == []
    reference = _ask(live, "conv-q")
    hub.publish({"type": "queue"})
    (chat,) = _read_events(response, "queue")
    assert chat["reference"] == reference and chat["status"] == "waiting" and chat["position"] == 1
    assert chat["reason"] == "The visitor asked a question about their own situation."
    assert chat["topics"] == ["Knee injections"] and chat["url"] == f"/live/chats/{reference}"
    response.close()
    assert live.available_now() in (True, False)  # office hours decide; presence was refreshed:
    with live.engine.connect() as connection:
        from sqlalchemy import text

        seen = connection.execute(text("SELECT seen_at FROM coordinators WHERE username = 'casey'")).scalar()
    assert seen is not None


@pytest.mark.parametrize("path", ["/live/chats/ZZZ-ZZZZ", "/live/chats/ZZZ-ZZZZ/stream"])
def test_unknown_chat_is_not_found(inbox_app: Inbox, path: str) -> None:
    app, *_ = inbox_app
    client, _ = _signed_in(app, CASEY)
    assert client.get(path).status_code == 404

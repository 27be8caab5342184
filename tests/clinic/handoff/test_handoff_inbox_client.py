"""Inbox behaviour through Flask's test client: sign-in, CSRF, access control, headers."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from clinic.handoff.cli import main as cli_main
from clinic.handoff.inbox import create_app
from clinic.handoff.requests import HandoffStore
from tests.clinic.handoff.conftest import (
    COORDINATOR,
    COORDINATOR_PASSWORD,
    VISITOR_EMAIL,
    VISITOR_NAME,
    make_new_handoff,
)

TOKEN_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def _token(html: str) -> str:
    match = TOKEN_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


def _sign_in(
    client: Any, password: str = COORDINATOR_PASSWORD, username: str = COORDINATOR, **query: str
) -> Any:
    page = client.get("/sign-in")
    return client.post(
        "/sign-in",
        query_string=query,
        data={"username": username, "password": password, "csrf_token": _token(page.get_data(as_text=True))},
    )


def test_not_signed_in_sees_nothing(inbox: tuple[Any, HandoffStore]) -> None:
    app, store = inbox
    reference = store.create(make_new_handoff()).reference
    client = app.test_client()

    for path in ("/", "/handoffs", "/handoffs?status=all", "/no-such-page"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/sign-in" in response.headers["Location"]
        body = response.get_data(as_text=True)
        assert reference not in body and VISITOR_NAME not in body

    # A real and a made-up reference get the same answer: no way to probe for requests.
    real = client.get(f"/handoffs/{reference}")
    fake = client.get("/handoffs/ZZZ-ZZZZ")
    assert real.status_code == fake.status_code == 302
    assert real.headers["Location"] == f"/sign-in?next=/handoffs/{reference}"
    assert fake.headers["Location"] == "/sign-in?next=/handoffs/ZZZ-ZZZZ"
    assert VISITOR_NAME not in real.get_data(as_text=True) and VISITOR_EMAIL not in real.get_data(
        as_text=True
    )

    api = client.get("/api/handoffs?status=all")
    assert api.status_code == 401
    assert api.get_json() == {"error": "sign-in required"}

    json_client = client.get(f"/handoffs/{reference}", headers={"Accept": "application/json"})
    assert json_client.status_code == 401
    assert reference not in json_client.get_data(as_text=True)

    # POSTs do nothing either (and are refused before any data is touched).
    assert client.post(f"/handoffs/{reference}/claim").status_code in (302, 400)
    assert store.get(reference).status == "new"


def test_wrong_password_is_refused(inbox: tuple[Any, HandoffStore]) -> None:
    app, _ = inbox
    client = app.test_client()
    response = _sign_in(client, password="not the password")
    assert response.status_code == 401
    assert "Incorrect username or password." in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "user" not in session
    assert client.get("/handoffs").status_code == 302

    unknown = _sign_in(client, username="mallory")
    assert unknown.status_code == 401
    assert "Incorrect username or password." in unknown.get_data(as_text=True)


def test_repeated_failures_are_throttled(inbox: tuple[Any, HandoffStore]) -> None:
    app, _ = inbox
    client = app.test_client()
    for _ in range(5):
        assert _sign_in(client, password="guess guess guess").status_code == 401
    blocked = _sign_in(client)  # even the right password, for now
    assert blocked.status_code == 429
    assert client.get("/handoffs").status_code == 302


def test_sign_in_sets_a_safe_cookie_and_redirects_locally(inbox: tuple[Any, HandoffStore]) -> None:
    app, store = inbox
    reference = store.create(make_new_handoff()).reference
    client = app.test_client()
    response = _sign_in(client, next="//evil.example/steal")
    assert response.status_code == 302
    assert response.headers["Location"] == "/handoffs"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie

    page = client.get("/handoffs")
    assert page.status_code == 200
    assert reference in page.get_data(as_text=True)
    assert VISITOR_EMAIL not in page.get_data(as_text=True)  # the queue shows no contact details
    assert "script-src" not in page.headers["Content-Security-Policy"]  # no scripts at all
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"

    next_client = app.test_client()
    response = _sign_in(next_client, next=f"/handoffs/{reference}")
    assert response.headers["Location"] == f"/handoffs/{reference}"


def test_post_without_csrf_token_is_rejected(inbox: tuple[Any, HandoffStore]) -> None:
    app, store = inbox
    reference = store.create(make_new_handoff()).reference
    client = app.test_client()

    assert (
        client.post("/sign-in", data={"username": COORDINATOR, "password": COORDINATOR_PASSWORD}).status_code
        == 400
    )
    with client.session_transaction() as session:
        assert "user" not in session

    assert _sign_in(client).status_code == 302
    for path, data in (
        (f"/handoffs/{reference}/claim", {}),
        (f"/handoffs/{reference}/notes", {"text": "sneaky"}),
        ("/sign-out", {}),
    ):
        response = client.post(path, data=data)
        assert response.status_code == 400, path
        bad_token = client.post(path, data={**data, "csrf_token": "forged"})
        assert bad_token.status_code == 400, path
    detail = store.get(reference)
    assert detail.status == "new" and detail.notes == []
    assert client.get("/handoffs").status_code == 200  # still signed in: sign-out was refused

    page = client.get(f"/handoffs/{reference}")
    claim = client.post(
        f"/handoffs/{reference}/claim", data={"csrf_token": _token(page.get_data(as_text=True))}
    )
    assert claim.status_code == 302
    assert store.get(reference).claimed_by == COORDINATOR


def test_deactivated_account_loses_access(inbox: tuple[Any, HandoffStore]) -> None:
    app, store = inbox
    client = app.test_client()
    assert _sign_in(client).status_code == 302
    assert client.get("/handoffs").status_code == 200
    store.set_active(COORDINATOR, False)
    assert client.get("/handoffs").status_code == 302


def test_api_lists_queue_without_contact_details(inbox: tuple[Any, HandoffStore]) -> None:
    app, store = inbox
    reference = store.create(make_new_handoff()).reference
    client = app.test_client()
    _sign_in(client)
    data = client.get("/api/handoffs?status=new").get_json()
    assert [item["reference"] for item in data] == [reference]
    assert set(data[0]) == {"reference", "created_at", "status", "reason", "claimed_by"}
    assert client.get("/handoffs?status=bogus").status_code == 400
    assert client.get("/handoffs/ZZZ-ZZZZ").status_code == 404


# ---------------------------------------------------------------- sign-in throttle (issue 9, finding 6)


@pytest.fixture
def served(inbox: tuple[Any, HandoffStore]) -> Iterator[tuple[str, Any, HandoffStore]]:
    """The inbox on a real threaded HTTP server, as `python -m clinic.handoff.inbox` runs it."""
    app, store = inbox
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app, store
    server.shutdown()
    thread.join(10)


@pytest.mark.slow
def test_simultaneous_wrong_passwords_get_at_most_five_checks(served: tuple[str, Any, HandoffStore]) -> None:
    base, app, store = served
    barrier = threading.Barrier(40)
    statuses: list[int] = []

    def guess() -> None:
        with requests.Session() as browser:
            token = _token(browser.get(f"{base}/sign-in", timeout=30).text)
            barrier.wait()
            answer = browser.post(
                f"{base}/sign-in",
                timeout=60,
                allow_redirects=False,
                data={"username": COORDINATOR, "password": "wrong guess", "csrf_token": token},
            )
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(statuses) == 40 and set(statuses) <= {401, 429}
    assert statuses.count(401) <= 5, f"{statuses.count(401)} passwords were checked"

    # The counts live in the database: a restarted (or second) inbox process still blocks...
    again = create_app(app.extensions["handoff_settings"], store=store).test_client()
    assert _sign_in(again).status_code == 429, "even the right password, for now"
    # ...but only this username at this address: nobody else behind the same proxy is locked out.
    store.create_coordinator("robin", COORDINATOR_PASSWORD)
    assert _sign_in(again, username="robin").status_code == 302
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert _sign_in(elsewhere).status_code == 302


@pytest.mark.slow
def test_a_username_guessed_from_many_addresses_is_throttled_too(inbox: tuple[Any, HandoffStore]) -> None:
    app, _ = inbox
    for number in range(4):  # 4 addresses x 5 failures = the per-username cap of 20
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{number}"
        assert {_sign_in(client, password="wrong guess").status_code for _ in range(5)} == {401}
    fresh = app.test_client()
    fresh.environ_base["REMOTE_ADDR"] = "198.51.100.99"
    assert _sign_in(fresh, password="wrong guess").status_code == 429


@pytest.mark.slow
def test_a_successful_sign_in_gives_its_attempt_back(inbox: tuple[Any, HandoffStore]) -> None:
    app, _ = inbox
    client = app.test_client()
    for _ in range(4):
        assert _sign_in(client, password="wrong guess").status_code == 401
    for _ in range(10):  # signing in often is not guessing
        assert _sign_in(client).status_code == 302
        _sign_out(client)
    for _ in range(5):
        assert _sign_in(client, password="wrong guess").status_code == 401
    assert _sign_in(client, password="wrong guess").status_code == 429


# ---------------------------------------------------------------- revoking sessions (finding 7)


def _sign_out(client: Any) -> None:
    page = client.get("/handoffs")
    assert (
        client.post("/sign-out", data={"csrf_token": _token(page.get_data(as_text=True))}).status_code == 302
    )


def _captured(app: Any, client: Any) -> Any:
    """Someone else's browser holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("clinic_inbox_session", client.get_cookie("clinic_inbox_session").value)
    assert thief.get("/handoffs").status_code == 200
    return thief


def _cli(store: HandoffStore, key: str, *argv: str, stdin: str = "") -> None:
    """`python -m clinic.handoff.cli ...` as an administrator runs it, on the inbox's database."""
    env = {"CLINIC_ENV": "test", "HANDOFF_DATABASE_URL": str(store.engine.url), "HANDOFF_ENCRYPTION_KEY": key}
    assert cli_main(list(argv), environ=env, stdin=io.StringIO(stdin), stdout=io.StringIO()) == 0


@pytest.mark.slow
def test_sign_out_password_change_and_deactivation_end_every_session(
    inbox: tuple[Any, HandoffStore], key: str
) -> None:
    app, store = inbox
    second_device = app.test_client()
    assert _sign_in(second_device).status_code == 302

    client = app.test_client()
    assert _sign_in(client).status_code == 302
    thief = _captured(app, client)
    _sign_out(client)
    assert thief.get("/handoffs").status_code == 302, "signing out ends the copied session"
    assert second_device.get("/handoffs").status_code == 302, "and the one on the other device"

    assert _sign_in(client).status_code == 302
    thief = _captured(app, client)
    _cli(store, key, "set-password", COORDINATOR, "--password-stdin", stdin="a brand new passphrase\n")
    assert thief.get("/handoffs").status_code == 302, "a new password ends the session"
    assert client.get("/handoffs").status_code == 302

    assert _sign_in(client, password="a brand new passphrase").status_code == 302
    thief = _captured(app, client)
    _cli(store, key, "deactivate-user", COORDINATOR)
    assert thief.get("/handoffs").status_code == 302, "deactivation ends the session"
    assert _sign_in(client, password="a brand new passphrase").status_code == 401


# ---------------------------------------------------------------- resolving (finding 9)


def test_only_the_claimer_can_resolve(inbox: tuple[Any, HandoffStore]) -> None:
    app, store = inbox
    reference = store.create(make_new_handoff()).reference
    store.create_coordinator("robin", COORDINATOR_PASSWORD)
    casey, robin = app.test_client(), app.test_client()
    assert _sign_in(casey).status_code == _sign_in(robin, username="robin").status_code == 302

    page = casey.get(f"/handoffs/{reference}").get_data(as_text=True)
    casey.post(f"/handoffs/{reference}/claim", data={"csrf_token": _token(page)})
    page = robin.get(f"/handoffs/{reference}").get_data(as_text=True)
    assert "Mark as resolved" not in page and "only they can mark it as resolved" in page
    answer = robin.post(
        f"/handoffs/{reference}/resolve", data={"csrf_token": _token(page)}, follow_redirects=True
    )
    assert f"claimed by {COORDINATOR}: only {COORDINATOR} can mark it as resolved" in answer.get_data(
        as_text=True
    )
    assert store.get(reference).status == "claimed"

    page = casey.get(f"/handoffs/{reference}").get_data(as_text=True)
    casey.post(f"/handoffs/{reference}/resolve", data={"csrf_token": _token(page)})
    detail = store.get(reference)
    assert (detail.status, detail.resolved_by) == ("resolved", COORDINATOR)
    assert [a.action for a in detail.audit if a.action in ("claimed", "resolved")] == ["claimed", "resolved"]


def test_the_handoff_page_shows_the_topic_titles_kept_in_the_record(inbox: tuple[Any, HandoffStore]) -> None:
    """Titles come from the record (what the visitor saw), not from the content files: "prp" is
    not a topic in content/topics, and its title is still shown."""
    app, store = inbox
    reference = store.create(make_new_handoff(topic_titles={"prp": "Platelet-rich plasma (PRP)"})).reference
    client = app.test_client()
    _sign_in(client)
    page = client.get(f"/handoffs/{reference}").get_data(as_text=True)
    topics = re.search(r'<ul class="topics">(.*?)</ul>', page, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", topics) == ["Platelet-rich plasma (PRP)", "knee"]

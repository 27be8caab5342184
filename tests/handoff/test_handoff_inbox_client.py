"""Inbox behaviour through Flask's test client: sign-in, CSRF, access control, headers."""

from __future__ import annotations

import re
from typing import Any

from conftest import (
    COORDINATOR,
    COORDINATOR_PASSWORD,
    VISITOR_EMAIL,
    VISITOR_NAME,
    make_new_handoff,
)

from handoff.store import HandoffStore

TOKEN_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def _token(html: str) -> str:
    match = TOKEN_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


def _sign_in(client: Any, password: str = COORDINATOR_PASSWORD, username: str = COORDINATOR, **query: str) -> Any:
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
    assert VISITOR_NAME not in real.get_data(as_text=True) and VISITOR_EMAIL not in real.get_data(as_text=True)

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

    assert client.post("/sign-in", data={"username": COORDINATOR, "password": COORDINATOR_PASSWORD}).status_code == 400
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
    claim = client.post(f"/handoffs/{reference}/claim", data={"csrf_token": _token(page.get_data(as_text=True))})
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

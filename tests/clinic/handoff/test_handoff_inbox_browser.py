"""The coordinators' inbox end to end in real headless Chromium (Playwright, sync API)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from clinic.handoff.requests import HandoffStore
from tests.clinic.handoff.conftest import (
    COORDINATOR,
    COORDINATOR_PASSWORD,
    VISITOR_EMAIL,
    VISITOR_NAME,
    make_new_handoff,
)
from tests.support.inbox import served

pytestmark = pytest.mark.slow  # a browser

SCRIPT_TEXT = "<script>window.__pwned = 1</script>"


@pytest.fixture
def server(inbox: tuple[Any, HandoffStore]) -> Iterator[tuple[str, HandoffStore]]:
    app, store = inbox
    with served(app) as url:
        yield url, store


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_not_signed_in_is_sent_to_sign_in(server: tuple[str, HandoffStore], page: Page) -> None:
    base, store = server
    reference = store.create(make_new_handoff()).reference

    page.goto(f"{base}/handoffs/{reference}")
    assert "/sign-in" in page.url
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    content = page.content()
    assert VISITOR_NAME not in content and VISITOR_EMAIL not in content

    page.goto(f"{base}/handoffs?status=all")
    assert "/sign-in" in page.url
    assert reference not in page.content()

    api = page.request.get(f"{base}/api/handoffs?status=all")
    assert api.status == 401
    assert reference not in api.text()


def test_coordinator_works_a_request_from_queue_to_resolved(
    server: tuple[str, HandoffStore], page: Page
) -> None:
    base, store = server
    transcript = [
        {"role": "visitor", "text": f"Hello {SCRIPT_TEXT} <b>bold?</b>", "at": "2024-03-04T14:58:00Z"},
        {"role": "bot", "text": "A care coordinator can help with that.", "at": "2024-03-04T14:58:02Z"},
    ]
    reference = store.create(
        make_new_handoff(transcript=transcript, topic_note="<img src=x onerror=alert(1)>")
    ).reference
    page.on("dialog", lambda dialog: pytest.fail(f"a script ran: {dialog.message}"))

    # Sign in and land on the queue of new requests.
    page.goto(f"{base}/")
    page.get_by_label("Username").fill(COORDINATOR)
    page.get_by_label("Password").fill(COORDINATOR_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Contact requests")).to_be_visible()
    expect(page.get_by_text(f"Signed in as {COORDINATOR}")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("new")
    expect(row).to_contain_text("The visitor asked to talk to a person.")
    assert VISITOR_EMAIL not in page.content()  # the queue lists no contact details

    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    session_cookie = cookies["clinic_inbox_session"]
    assert session_cookie["httpOnly"] is True and session_cookie["sameSite"] == "Lax"

    # Open it: contact details and the transcript, visitor text shown as text.
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=f"Request {reference}")).to_be_visible()
    expect(page.get_by_text(VISITOR_NAME)).to_be_visible()
    expect(page.get_by_role("link", name=VISITOR_EMAIL)).to_have_attribute("href", f"mailto:{VISITOR_EMAIL}")
    expect(page.get_by_text(f"Hello {SCRIPT_TEXT} <b>bold?</b>")).to_be_visible()
    expect(page.get_by_text("<img src=x onerror=alert(1)>")).to_be_visible()
    assert page.evaluate("window.__pwned") is None
    assert page.locator("main script, main b, main img").count() == 0

    # Claim.
    page.get_by_role("button", name="Claim this request").click()
    expect(page.get_by_role("status")).to_have_text("You claimed this request.")
    expect(page.locator(".summary")).to_contain_text(f"claimed by {COORDINATOR}")

    # Add a note (also escaped).
    page.get_by_label("Add a note").fill("Left a voicemail <i>at 10:15</i>")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("status")).to_have_text("Note added.")
    expect(page.locator(".notes")).to_contain_text("Left a voicemail <i>at 10:15</i>")

    # Resolve.
    page.get_by_role("button", name="Mark as resolved").click()
    expect(page.get_by_role("status")).to_have_text("Marked as resolved.")
    expect(page.get_by_role("button", name="Claim this request")).to_have_count(0)
    expect(page.get_by_role("button", name="Mark as resolved")).to_have_count(0)

    # The audit log shows who did what.
    audit = page.get_by_role("table").filter(has_text="Request received")
    for action in ("Request received", "Claimed", "Note added", "Resolved", "Opened"):
        expect(audit.get_by_role("cell", name=action, exact=True).first).to_be_visible()
    expect(audit.get_by_role("row").filter(has_text="Resolved")).to_contain_text(COORDINATOR)

    # The store agrees with the page.
    detail = store.get(reference)
    assert (detail.status, detail.claimed_by, detail.resolved_by) == ("resolved", COORDINATOR, COORDINATOR)
    assert [note.text for note in detail.notes] == ["Left a voicemail <i>at 10:15</i>"]

    # The queue filters follow the status.
    page.get_by_role("link", name="Back to the queue").click()
    expect(page.get_by_text("No new requests.")).to_be_visible()
    page.get_by_role("link", name="Resolved").click()
    expect(page.get_by_role("row").filter(has_text=reference)).to_contain_text("resolved")

    # Sign out: the queue is gone again.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"{base}/handoffs?status=all")
    assert "/sign-in" in page.url
    assert reference not in page.content()

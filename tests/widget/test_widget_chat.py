"""A visitor's conversation through the widget: answers, sources, buttons, history, safety."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.widget.conftest import REPLY_TIMEOUT, Chat, faq_response, normalise

pytestmark = pytest.mark.slow  # a browser and a Rasa server

IV_QUESTION = "what are the risks of the iv drip"


def test_answer_comes_with_its_source(chat: Chat) -> None:
    expected = faq_response("iv_risks")
    assert expected["text"].startswith("Giving stem cells from bone marrow through a vein (IV)")

    chat.goto().open()
    expect(chat.input).to_be_focused()
    answer = chat.ask_and_wait(IV_QUESTION, expected["text"][:60])

    assert normalise(answer.locator(".bubble").inner_text()).endswith(expected["text"])
    # The first reply of a conversation also carries the education-only notice.
    expect(chat.log.locator(".msg.notice")).to_have_count(1)
    expect(chat.log.locator(".msg.notice")).to_contain_text("can't give medical advice")

    source = answer.locator("details.source")
    expect(source).to_have_count(1)
    summary = source.locator("summary")
    expect(summary).to_contain_text("Source")
    expect(summary).to_contain_text(expected["title"])
    quotes = source.locator("blockquote")
    expect(quotes.first).to_be_hidden()  # collapsed until the visitor asks
    summary.click()
    expect(quotes).to_have_count(len(expected["quotes"]))
    for quote, text in zip(quotes.all(), expected["quotes"], strict=True):
        expect(quote).to_be_visible()
        assert normalise(text) in normalise(quote.inner_text())
    expect(source).to_have_attribute("open", "")


def test_quick_reply_sends_payload_and_shows_title(chat: Chat) -> None:
    routes = faq_response("routes")
    chat.goto().open()
    chat.ask_and_wait("hello", "What would you like to know")
    button = chat.reply_button("How is it given?")
    expect(button).to_be_visible()

    button.click()
    # The visitor's bubble shows the title, not the /choose_topic{...} payload...
    expect(chat.user_messages.last).to_have_text("You: How is it given?")
    expect(chat.log).not_to_contain_text("/choose_topic")
    # ...the bot answers the chosen topic, and answered buttons go away.
    expect(chat.bot_message(routes["text"][:50])).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(chat.reply_button("How is it given?")).to_have_count(0)
    expect(chat.input).to_be_focused()


def test_history_survives_reload_and_other_pages_and_start_over_clears_it(chat: Chat) -> None:
    expected = faq_response("iv_risks")
    chat.goto().open()
    chat.ask_and_wait(IV_QUESTION, expected["text"][:60])
    chat.ask_and_wait("hello", "What would you like to know")
    session = chat.session_id()
    assert session, "the session id is kept in localStorage"
    transcript = normalise(chat.log.inner_text())

    chat.page.reload()
    chat.open()
    expect(chat.bot_message(expected["text"][:60])).to_be_visible()
    assert normalise(chat.log.inner_text()) == transcript
    assert chat.log.locator("details.source").count() == 1, (chat.storage(), transcript)
    expect(chat.reply_button("How is it given?")).to_be_visible()  # not answered yet: still offered

    chat.goto("about.html").open()
    assert normalise(chat.log.inner_text()) == transcript
    assert chat.session_id() == session
    # ...and the conversation goes on, in the same Rasa conversation, from the other page.
    chat.reply_button("Other options").click()
    expect(chat.bot_message(faq_response("alternatives")["text"][:50])).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(chat.log.locator(".msg.notice")).to_have_count(1)  # no new session was started

    chat.panel.get_by_role("button", name="Start over").click()
    expect(chat.user_messages).to_have_count(0)
    expect(chat.log).not_to_contain_text(expected["text"][:60])
    # A new conversation: new session id, and Rasa greets it with the notice (once).
    expect(chat.log.locator(".msg.notice")).to_have_count(1, timeout=REPLY_TIMEOUT)
    new_session = chat.session_id()
    assert new_session and new_session != session
    assert not any(session in key for key in chat.storage()), "the old history is deleted"
    chat.page.reload()
    chat.open()
    expect(chat.log).not_to_contain_text(expected["text"][:60])


def test_visitor_html_is_shown_as_text(chat: Chat) -> None:
    payload = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    chat.goto().open()
    before = chat.bot_messages.count()
    chat.ask(payload)
    expect(chat.user_messages.last).to_have_text("You: " + payload)
    expect(chat.bot_messages).not_to_have_count(before, timeout=REPLY_TIMEOUT)
    chat.page.wait_for_timeout(500)
    widget = chat.page.locator("#clinic-chat-widget")
    expect(widget.locator(".log img")).to_have_count(0)
    expect(widget.locator(".log script")).to_have_count(0)
    assert (
        chat.page.evaluate("() => document.querySelectorAll('img[src=x], body > script:not([src])').length")
        == 0
    )
    # And after a reload (history restored from localStorage) it is still just text.
    chat.page.reload()
    chat.open()
    expect(chat.user_messages.last).to_have_text("You: " + payload)
    expect(widget.locator(".log img")).to_have_count(0)
    assert chat.dialogs == []


def test_emergency_message_is_an_alert_with_tel_link(chat: Chat) -> None:
    chat.goto().open()
    chat.ask("i have chest pain right now")
    alert = chat.log.locator(".msg.alert.emergency")
    expect(alert).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text("911")
    link = alert.get_by_role("link", name="911")
    expect(link).to_have_attribute("href", "tel:911")
    # Distinct from an ordinary answer.
    colours = alert.locator(".bubble").evaluate(
        "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).borderLeftColor]"
    )
    plain = chat.log.locator(".msg.greeting .bubble").evaluate("el => getComputedStyle(el).backgroundColor")
    assert colours[0] != plain
    assert colours[1] == "rgb(180, 35, 24)"


def test_crisis_message_links_988(chat: Chat) -> None:
    chat.goto().open()
    chat.ask("i want to kill myself")
    alert = chat.log.locator(".msg.alert.crisis")
    expect(alert).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(alert.get_by_role("link", name="988").first).to_have_attribute("href", "tel:988")
    expect(alert.get_by_role("link", name="911").first).to_have_attribute("href", "tel:911")


def test_links_only_to_allowed_hosts(chat: Chat) -> None:
    chat.goto().open()
    own = chat.stack.page("about.html")
    # Bot events straight into the widget's handler, as if Rasa had sent them.
    chat.page.evaluate(
        """(own) => window.__clinicChatWidget.onBotEvent({
             text: `Read ${own} or https://evil.example/phish, see /privacy. Call 911.`,
           })""",
        own,
    )
    message = chat.bot_message("evil.example")
    expect(message).to_be_visible()
    links = message.get_by_role("link")
    expect(links).to_have_count(3)
    expect(message.get_by_role("link", name=own)).to_have_attribute("href", own)
    expect(message.get_by_role("link", name="/privacy")).to_have_attribute("href", chat.stack.page("privacy"))
    expect(message.get_by_role("link", name="911")).to_have_attribute("href", "tel:911")
    expect(message.locator("a[href*='evil']")).to_have_count(0)
    expect(message).to_contain_text("https://evil.example/phish")


def test_source_attaches_to_its_answer_even_if_the_visitor_was_quick(chat: Chat) -> None:
    chat.goto().open()
    widget = "window.__clinicChatWidget"
    chat.page.evaluate(
        f"() => {{ {widget}.onBotEvent({{ text: 'Answer with a source' }}); {widget}.flushBurst(); }}"
    )
    # The visitor sends before the source arrives. One JavaScript turn, so the real bot's reply to
    # "and another thing" cannot land in between (it would rightly take the source).
    chat.page.evaluate(
        f"""() => {{ {widget}.send('and another thing');
                    {widget}.onBotEvent({{ kind: 'source', topic: 't', title: 'A title', quotes: ['Quoted.'] }});
                    {widget}.flushBurst(); }}"""
    )
    expect(chat.bot_message("Answer with a source").locator("details.source")).to_contain_text("A title")
    expect(chat.user_messages.last.locator("details")).to_have_count(0)


def test_two_tabs_share_one_conversation_without_duplicates(chat: Chat) -> None:
    chat.goto().open()
    other = Chat(chat.page.context.new_page(), chat.stack).goto().open()
    iv = faq_response("iv_risks")["text"][:60]

    chat.ask_and_wait(IV_QUESTION, iv)
    expect(other.bot_message(iv)).to_have_count(1, timeout=REPLY_TIMEOUT)

    other.ask_and_wait("hello", "What would you like to know")
    expect(chat.bot_message("What would you like to know")).to_have_count(1, timeout=REPLY_TIMEOUT)
    chat.page.wait_for_timeout(500)
    for tab in (chat, other):
        expect(tab.bot_message(iv)).to_have_count(1)
        expect(tab.bot_message("What would you like to know")).to_have_count(1)
        expect(tab.user_messages).to_have_count(2)
    assert other.errors == []

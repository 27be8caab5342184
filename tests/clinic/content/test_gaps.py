"""`make gaps` on a tracker store filled by real conversations with a running bot.

A Rasa stack writes its conversations to a temporary SQLite tracker store; visitors' messages
are sent over REST. What each message got (an answer, "I'm not sure", "Did you mean", "I don't
have that information", the English-only reply) is read from the bot's actual replies, compared
with the responses the server's own domain defines, and the report must agree. The same events
copied into PostgreSQL must give the same report.
"""

from __future__ import annotations

import csv
import json
import secrets
import sqlite3
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg2
import pytest
import sqlalchemy as sa

from clinic.contact import mask_contact_details as mask
from clinic.content.gaps import build_report, format_report, topic_titles
from clinic.content.gaps.groups import Message, group_messages, normalise, similar
from clinic.content.project import Project
from clinic.stack.api import send
from clinic.stack.local import TRACKER_STORE_TYPE, rasa_stack
from tests.clinic.content.helpers import run_module

UTC = timezone.utc  # noqa: UP017
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
EMAIL, PHONE = "ann.quixote@example.org", "(212) 555-0187"

COST = ["how much does it cost", "How much does it cost?", "how much does the treatment cost"]
CONVERSATIONS = {
    "cost-1": [COST[0], "is the iv dangerous"],
    "cost-2": [COST[1], "what are the alternatives"],
    "cost-3": [COST[2], '/choose_topic{"topic": "routes"}'],
    "spanish": ["hola necesito ayuda"],
    "vague": ["stem cells", "/out_of_scope", "bone marrow", "iv"],
    "terse": ["cells", "knee", "what is it"],
    # Personal details inside questions the article does not answer (separate conversations: a
    # message read as a request for a person starts the handoff form instead).
    "contact-1": [f"how much does it cost? asking for {EMAIL}"],
    "contact-2": [f"does insurance cover this, {EMAIL} {PHONE}"],
    "contact-3": [f"what is your address? write to {EMAIL} or call {PHONE}"],
    "again": ["is the iv dangerous"],
    "emergency": ["i have chest pain and can't breathe"],
}
KINDS = {
    "utter_default": "fallback",
    "utter_clarify": "clarification",
    "utter_out_of_scope": "out of scope",
    "utter_non_english": "not English",
}


def _norm(text: str) -> str:
    return " ".join(str(text).split())


@pytest.fixture(scope="module")
def tracker(tmp_path_factory) -> dict:
    """Real conversations in a fresh SQLite tracker store; what the bot replied to each message."""
    db = tmp_path_factory.mktemp("gaps") / "tracker.db"
    token = secrets.token_hex(8)
    run = uuid.uuid4().hex[:6]
    replies: dict[tuple[str, str], list[dict]] = {}
    tracker_store = {"type": TRACKER_STORE_TYPE, "dialect": "sqlite", "db": str(db)}
    with rasa_stack(api_token=token, tracker_store=tracker_store) as stack:
        request = urllib.request.Request(
            f"{stack.url}/domain?token={token}", headers={"Accept": "application/json"}
        )
        with urllib.request.urlopen(request) as response:
            domain = json.loads(response.read())
        for sender, messages in CONVERSATIONS.items():
            for message in messages:
                replies[(sender, message)] = send(stack, f"{sender}-{run}", message)
    texts = {_norm(domain["responses"][name][0]["text"]): kind for name, kind in KINDS.items()}
    expected = {}
    for (sender, message), answer in replies.items():
        said = [_norm(r["text"]) for r in answer if r.get("text")]
        kinds = [texts[t] for t in said if t in texts]
        topics = [
            r["custom"]["data"]["topic"]
            for r in answer
            if (r.get("custom") or {}).get("data", {}).get("kind") == "source"
        ]
        expected[(sender, message)] = {
            "kind": kinds[-1] if kinds else None,
            "topic": topics[-1] if topics else None,
        }
    return {"db": db, "url": f"sqlite:///{db}", "expected": expected}


def typed_gaps(expected: dict) -> dict[tuple[str, str], str]:
    return {k: v["kind"] for k, v in expected.items() if v["kind"] and not k[1].startswith("/")}


@pytest.mark.slow
def test_report_matches_what_the_bot_replied(tracker: dict) -> None:
    expected = tracker["expected"]
    gaps = typed_gaps(expected)
    kinds = set(gaps.values())
    assert {"out of scope", "not English"} <= kinds, expected
    assert kinds & {"fallback", "clarification"}, expected
    assert expected[("emergency", CONVERSATIONS["emergency"][0])]["kind"] is None

    report = build_report(tracker["url"], topic_titles=topic_titles(Project.at()))
    assert report.unanswered == len(gaps)
    assert report.messages == sum(1 for s, m in expected if not m.startswith("/"))
    assert report.conversations == len({s for s, _ in gaps})
    # Similar wordings are grouped: the cost questions that got "no information" form one group.
    cost = [m for (s, m), kind in gaps.items() if m in COST and kind == "out of scope"]
    assert len(cost) >= 2, gaps
    group = next(g for g in report.groups if g.wording in cost)
    members = [group.wording, *group.other_wordings]
    assert set(cost) <= set(members)
    assert all("cost" in m for m in members)  # "how much does it cost? asking for [email]" may join
    assert group.count == len(members) and len(group.senders) == len(members)
    assert report.groups[0].count >= group.count  # most frequent first
    # Every unanswered message appears exactly once, with the reply the bot gave it.
    shown = {}
    for g in report.groups:
        for wording in [g.wording, *g.other_wordings]:
            shown[wording] = g
    for (_, message), kind in gaps.items():
        if EMAIL in message:
            continue
        assert kind in shown[_norm(message)].replies
    assert sum(g.count for g in report.groups) == len(gaps)
    assert not any("chest pain" in w for g in report.groups for w in [g.wording, *g.other_wordings])
    # Topics asked most, from the answers given (typed questions and "did you mean" buttons).
    topics = {t.topic: t for t in report.topics}
    answered = [v["topic"] for v in expected.values() if v["topic"]]
    assert {t: topics[t].answered for t in topics} == {t: answered.count(t) for t in set(answered)}
    assert topics["iv_risks"].typed >= 2 and topics["routes"].buttons == 1
    assert topics["iv_risks"].title == "Risks of the IV (through a vein)"
    assert report.topics[0].answered == max(answered.count(t) for t in answered)


@pytest.mark.slow
def test_cli_masks_emails_and_phone_numbers_and_writes_csv(tracker: dict, tmp_path: Path) -> None:
    contact = {m: v["kind"] for (s, m), v in tracker["expected"].items() if s.startswith("contact")}
    gaps = [m for m, kind in contact.items() if kind]
    assert gaps, f"none of the questions with personal details got a no-answer reply: {contact}"
    out = tmp_path / "gaps.csv"
    result = run_module("clinic.content.gaps", "--db", tracker["url"], "--csv", str(out))
    assert result.returncode == 0, result.stderr
    assert "Questions the bot could not answer, all time" in result.stdout
    assert "Topics answered most" in result.stdout
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    unanswered = [r for r in rows if r["section"] == "unanswered"]
    wordings = [w for r in unanswered for w in [r["visitors_wrote"], *r["also_worded_as"].split(" | ")]]
    for message in gaps:
        masked = message.replace(EMAIL, "[email]").replace(PHONE, "[phone]")
        assert masked in wordings
        assert masked in result.stdout.replace("\n" + " " * 47, " ").replace("also: ", "")
    everything = result.stdout + out.read_text(encoding="utf-8")
    for secret in (EMAIL, "555-0187", "5550187", "quixote"):
        assert secret not in everything
    assert [int(r["rank"]) for r in unanswered] == list(range(1, len(unanswered) + 1))
    assert sum(int(r["count"]) for r in unanswered) == len(typed_gaps(tracker["expected"]))
    assert {r["topic"] for r in rows if r["section"] == "topic"} >= {"iv_risks", "routes"}


@pytest.mark.slow
def test_since_and_until_select_days(tracker: dict) -> None:
    with sqlite3.connect(tracker["db"]) as connection:
        first, last = connection.execute("select min(timestamp), max(timestamp) from events").fetchone()
    day, last_day = datetime.fromtimestamp(first, UTC).date(), datetime.fromtimestamp(last, UTC).date()
    everything = build_report(tracker["url"]).unanswered
    assert build_report(tracker["url"], since=day, until=last_day).unanswered == everything
    assert build_report(tracker["url"], since=last_day + timedelta(days=1)).messages == 0
    assert build_report(tracker["url"], until=day - timedelta(days=1)).messages == 0
    result = run_module(
        "clinic.content.gaps", "--db", str(tracker["db"]), "--since", str(day), "--until", str(last_day)
    )
    assert result.returncode == 0 and f"{day} to {last_day} (UTC)" in result.stdout
    bad = run_module("clinic.content.gaps", "--db", str(tracker["db"]), "--since", "31/12/2024")
    assert bad.returncode == 2 and "not a date like 2024-03-31" in bad.stderr


def test_missing_store_is_explained(tmp_path: Path) -> None:
    result = run_module("clinic.content.gaps", "--db", str(tmp_path / "nothing.db"))
    assert result.returncode == 2
    assert "No conversation store at" in result.stderr
    assert not (tmp_path / "nothing.db").exists()


@pytest.mark.slow
def test_postgresql_gives_the_same_report(tracker: dict) -> None:
    name = f"gaps_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(dbname="postgres", **PG)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{name}"
    try:
        engine = sa.create_engine(url)
        metadata = sa.MetaData()
        events = sa.Table(  # the columns Rasa's SQLTrackerStore creates
            "events",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("sender_id", sa.String(255), index=True),
            sa.Column("type_name", sa.String(255)),
            sa.Column("timestamp", sa.Float),
            sa.Column("intent_name", sa.String(255)),
            sa.Column("action_name", sa.String(255)),
            sa.Column("data", sa.Text),
        )
        metadata.create_all(engine)
        source = sa.create_engine(tracker["url"])
        with source.connect() as read, engine.begin() as write:
            rows = [dict(r._mapping) for r in read.execute(sa.text("select * from events order by id"))]
            write.execute(events.insert(), rows)
        source.dispose()
        engine.dispose()
        titles = topic_titles(Project.at())
        on_postgres = build_report(url, topic_titles=titles)
        on_sqlite = build_report(tracker["url"], topic_titles=titles)
        assert on_postgres.unanswered == on_sqlite.unanswered > 0
        assert format_report(on_postgres) == format_report(on_sqlite)
        result = run_module("clinic.content.gaps", "--db", url)
        assert result.returncode == 0 and format_report(on_sqlite) in result.stdout
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_grouping_and_masking_rules() -> None:
    assert (
        mask("call me at 212-555-0187 or mail a.b+c@mail.example.co.uk")
        == "call me at [phone] or mail [email]"
    )
    assert mask("my number is +1 (212) 555 0187, thanks") == "my number is [phone], thanks"
    assert mask("my temperature is 102 after 2 days") == "my temperature is 102 after 2 days"
    same = [
        ("can it cure diabetes", "Can it cure my diabetis?"),
        ("is it fda approved", "is it FDA aproved"),
        ("how much does it cost", "how much does the treatment cost"),
    ]
    different = [
        ("does it help my back", "does it help my neck"),
        ("what is the price", "do you take medicare"),
    ]
    for a, b in same:
        assert similar(normalise(a), normalise(b)), (a, b)
    for a, b in different:
        assert not similar(normalise(a), normalise(b)), (a, b)
    groups = group_messages(
        [
            Message("s1", 1.0, "how much does it cost", "out of scope"),
            Message("s2", 2.0, "How much does it cost?", "out of scope"),
            Message("s2", 3.0, "does it help my back", "fallback"),
            Message("s3", 4.0, "how much does the treatment cost", "clarification"),
        ]
    )
    assert [(g.count, len(g.senders), g.wording) for g in groups] == [
        (3, 3, "how much does it cost"),
        (1, 1, "does it help my back"),
    ]
    assert groups[0].reply == "out of scope, clarification"

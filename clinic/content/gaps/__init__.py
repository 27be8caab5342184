"""What visitors ask that the bot cannot answer yet: `make gaps`.

Reads the conversations Rasa keeps in its SQL tracker store and lists the messages that got
"I'm not sure I understood" (fallback), "Did you mean ...?" (clarification), "I don't have that
information" (out of scope) or the English-only reply, grouped by similar wording, most frequent
first; then the topics visitors were answered most. Emails and phone numbers are masked.

Usage: python -m clinic.content.gaps [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--db URL]
                                     [--csv out.csv] [--top N] [--root DIR]
Dates are UTC days and both are included. --db is an SQLAlchemy URL
(sqlite:///var/tracker.db, postgresql://user:password@host:5432/rasa) or a path to an SQLite file;
the default is the bot's own store, var/tracker.db.
"""

from __future__ import annotations

import argparse
import csv
import sys
import textwrap
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from clinic.contact import mask_contact_details
from clinic.content.gaps.groups import Group, Message, group_messages
from clinic.content.gaps.messages import read_turns
from clinic.content.project import Project
from clinic.content.topics import read_topic

UTC = timezone.utc  # noqa: UP017 - Python 3.10


@dataclass
class TopicCount:
    topic: str
    title: str
    answered: int
    typed: int
    buttons: int


@dataclass
class GapReport:
    groups: list[Group]
    topics: list[TopicCount]
    messages: int  # visitor messages read (typed, not button clicks)
    unanswered: int  # of which got a fallback, clarification or out-of-scope reply
    conversations: int  # conversations with an unanswered message
    since: date | None
    until: date | None


def day_start(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def database_url(value: str | None, project: Project) -> str:
    if not value:
        return f"sqlite:///{project.tracker_db}"
    return value if "://" in value else f"sqlite:///{Path(value).resolve()}"


def build_report(
    db_url: str,
    since: date | None = None,
    until: date | None = None,
    topic_titles: dict[str, str] | None = None,
) -> GapReport:
    engine = sa.create_engine(db_url)
    try:
        start = day_start(since) if since else None
        end = day_start(until + timedelta(days=1)) if until else None
        unanswered: list[Message] = []
        answered: Counter = Counter()
        typed: Counter = Counter()
        clicked: Counter = Counter()
        messages = 0
        for turn in read_turns(engine, start, end):
            topic = turn.topic
            if topic:
                answered[topic] += 1
                (clicked if turn.is_button else typed)[topic] += 1
            if turn.is_button or not turn.text.strip():
                continue
            messages += 1
            kind = turn.reply_kind
            if kind:
                unanswered.append(Message(turn.sender, turn.timestamp, mask_contact_details(turn.text), kind))
    finally:
        engine.dispose()
    titles = topic_titles or {}
    topics = [
        TopicCount(t, titles.get(t, ""), n, typed[t], clicked[t])
        for t, n in sorted(answered.items(), key=lambda item: (-item[1], item[0]))
    ]
    return GapReport(
        group_messages(unanswered),
        topics,
        messages,
        len(unanswered),
        len({m.sender for m in unanswered}),
        since,
        until,
    )


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M")


def _period(report: GapReport) -> str:
    if report.since and report.until:
        return f"{report.since} to {report.until} (UTC)"
    if report.since:
        return f"since {report.since} (UTC)"
    if report.until:
        return f"up to {report.until} (UTC)"
    return "all time"


WORDING_WIDTH = 60
SIMILAR_SHOWN = 3


def _group_lines(rank: int, group: Group) -> list[str]:
    """The group's row, its wording wrapped (never cut), then up to three other wordings."""
    indent = " " * 47  # under "Visitors wrote"
    wrapped = textwrap.wrap(group.wording, WORDING_WIDTH) or [""]
    reply = textwrap.shorten(group.reply, 26, placeholder="…")
    lines = [f"{rank:>3}  {group.count:>5}  {len(group.senders):>5}  {reply:<26}  {wrapped[0]}"]
    lines += [indent + more for more in wrapped[1:]]
    others = group.other_wordings
    for other in others[:SIMILAR_SHOWN]:
        lines += [
            indent + ("also: " if i == 0 else "      ") + part
            for i, part in enumerate(textwrap.wrap(other, WORDING_WIDTH - 6))
        ]
    if len(others) > SIMILAR_SHOWN:
        lines.append(f"{indent}(and {len(others) - SIMILAR_SHOWN} more wordings: see --csv)")
    return lines


def format_report(report: GapReport, top: int = 30) -> str:
    lines = [
        f"Questions the bot could not answer, {_period(report)}",
        f"{report.unanswered} of {report.messages} visitor messages in {report.conversations} conversations, "
        f"{len(report.groups)} groups of similar wording (emails and phone numbers masked)",
        "",
    ]
    if report.groups:
        lines.append(f"{'#':>3}  {'Times':>5}  {'Chats':>5}  {'Bot replied':<26}  Visitors wrote")
        for rank, group in enumerate(report.groups[:top], 1):
            lines += _group_lines(rank, group)
        if len(report.groups) > top:
            lines.append(f"     ... and {len(report.groups) - top} more groups (see --csv, or --top)")
    else:
        lines.append("No unanswered questions in this period.")
    lines += ["", "Topics answered most"]
    if report.topics:
        lines.append(f"{'#':>3}  {'Times':>5}  {'Typed':>5}  {'Button':>6}  {'Topic':<20}  Title")
        for rank, topic in enumerate(report.topics[:top], 1):
            lines.append(
                f"{rank:>3}  {topic.answered:>5}  {topic.typed:>5}  {topic.buttons:>6}  "
                f"{topic.topic:<20}  {topic.title}"
            )
    else:
        lines.append("No curated answers were given in this period.")
    return "\n".join(lines)


CSV_COLUMNS = [
    "section",
    "rank",
    "count",
    "conversations",
    "bot_replied",
    "visitors_wrote",
    "also_worded_as",
    "topic",
    "title",
    "typed",
    "buttons",
    "first_seen",
    "last_seen",
]


def write_csv(report: GapReport, path: Path) -> None:
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for rank, group in enumerate(report.groups, 1):
            writer.writerow(
                {
                    "section": "unanswered",
                    "rank": rank,
                    "count": group.count,
                    "conversations": len(group.senders),
                    "bot_replied": group.reply,
                    "visitors_wrote": group.wording,
                    "also_worded_as": " | ".join(group.other_wordings),
                    "first_seen": _when(group.first_seen),
                    "last_seen": _when(group.last_seen),
                }
            )
        for rank, topic in enumerate(report.topics, 1):
            writer.writerow(
                {
                    "section": "topic",
                    "rank": rank,
                    "count": topic.answered,
                    "topic": topic.topic,
                    "title": topic.title,
                    "typed": topic.typed,
                    "buttons": topic.buttons,
                }
            )


def topic_titles(project: Project) -> dict[str, str]:
    return {doc.id: doc.title for doc in map(read_topic, project.topic_files()) if not doc.syntax}


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2024-03-31") from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--since", type=_date, help="first day, YYYY-MM-DD (UTC)")
    parser.add_argument("--until", type=_date, help="last day, YYYY-MM-DD (UTC), included")
    parser.add_argument("--db", help="tracker store: SQLAlchemy URL or SQLite file (default var/tracker.db)")
    parser.add_argument("--csv", type=Path, help="also write the report to this CSV file")
    parser.add_argument("--top", type=int, default=30, help="rows shown per table (default 30)")
    parser.add_argument("--root", type=Path, default=None, help="project folder (default: this repository)")
    args = parser.parse_args(argv)
    project = Project.at(args.root)
    url = database_url(args.db, project)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
        print(
            f"No conversation store at {url[len('sqlite:///') :]}: the bot creates it when it first runs "
            "(`make run`). If the bot keeps conversations elsewhere, pass that store with --db "
            "(see tracker_store in endpoints.yml; for example postgresql://user:password@host:5432/rasa).",
            file=sys.stderr,
        )
        return 2
    try:
        report = build_report(url, args.since, args.until, topic_titles(project))
    except sa.exc.SQLAlchemyError as exc:
        print(
            f"Could not read conversations from {sa.engine.make_url(url).render_as_string(hide_password=True)}: "
            f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}",
            file=sys.stderr,
        )
        return 2
    print(format_report(report, args.top))
    if args.csv:
        write_csv(report, args.csv)
        print(f"\nCSV written to {args.csv}")
    return 0

"""With conversations in PostgreSQL, which refuses NUL characters, no visitor value can make the
tracker store exit the Rasa process (issue 9, finding 1): a throwaway database on this machine's
PostgreSQL, a real Rasa server. Never skipped: CI has PostgreSQL."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest

from clinic.stack.local import TRACKER_STORE_TYPE, RasaStack, rasa_stack
from tests.support.postgres import PG, throwaway_database

pytestmark = pytest.mark.slow  # a Rasa server with the trained model

ROUTES_ANSWER = "two main ways to give bone-marrow stem cells"


@pytest.fixture(scope="module")
def tracker_db() -> Iterator[str]:
    with throwaway_database("clinic_channels") as name:
        yield name


@pytest.fixture(scope="module")
def bot(tracker_db: str) -> Iterator[RasaStack]:
    tracker_store = {
        "type": TRACKER_STORE_TYPE,
        "dialect": "postgresql",
        "url": "127.0.0.1",
        "port": 5432,
        "db": tracker_db,
        "username": "postgres",
    }
    with rasa_stack(tracker_store=tracker_store) as stack:
        yield stack


def post(bot: RasaStack, payload: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        bot.rest_webhook, json.dumps(payload).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def assert_alive_and_answering(bot: RasaStack) -> None:
    assert bot.processes[1].poll() is None, "the Rasa server is still running"
    status, replies = post(bot, {"sender": f"ok-{uuid.uuid4().hex}", "message": "how is the therapy given?"})
    assert status == 200 and any(ROUTES_ANSWER in r.get("text", "") for r in replies)


@pytest.mark.parametrize("sender", ["abc\u0000", "\u0000", "\ud800"])
def test_a_sender_postgresql_cannot_store_gets_a_400_and_rasa_keeps_running(
    bot: RasaStack, sender: str
) -> None:
    status, body = post(bot, {"sender": sender, "message": "hi"})
    assert status == 400 and '"sender"' in body["error"]
    assert_alive_and_answering(bot)


@pytest.mark.parametrize(
    "message", ["how is the therapy given?\u0000", "/greet\u0000", "/\u0000", "\u0000/greet"]
)
def test_nul_characters_in_the_text_are_dropped_and_the_message_answered(
    bot: RasaStack, tracker_db: str, message: str
) -> None:
    sender = f"nul-{uuid.uuid4().hex}"
    status, replies = post(bot, {"sender": sender, "message": message, "metadata": {"note": "a\u0000b"}})
    assert status == 200 and any(r.get("text") for r in replies)
    assert_alive_and_answering(bot)
    with psycopg2.connect(dbname=tracker_db, **PG) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT data FROM events WHERE sender_id = %s AND type_name = 'user'", (sender,))
        (stored,) = [json.loads(data) for (data,) in cursor.fetchall()]
    assert stored["text"] == message.replace("\u0000", "").strip()
    assert stored["metadata"]["note"] == "ab"

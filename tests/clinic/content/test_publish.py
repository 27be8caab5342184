"""`make publish`: check, build, train, then swap the model into the RUNNING bot over its API.

The live test starts a real Rasa stack with --enable-api/--auth-token, keeps visitors' messages
flowing over REST while publishing an edited answer from a working copy, and checks that no
message failed and that the new answer is served afterwards. The failure tests use a small fake
of Rasa's API to prove that a failed check or a failed training never calls PUT /model.
"""

from __future__ import annotations

import filecmp
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from clinic.content import build
from clinic.content.project import REPO_ROOT, Project
from clinic.content.topics import read_topic
from clinic.content.workcopy import copy_project
from clinic.devtools.editing import set_answer
from clinic.stack.api import send, status
from clinic.stack.local import TRACKER_STORE_TYPE, free_port, rasa_stack
from tests.clinic.content.helpers import run_module

QUESTION = "is the iv dangerous"  # an example of content/topics/iv_risks.yml
NEW_SENTENCE = "Ask your own doctor what this means for you."


class FakeRasa:
    """Answers GET /status like Rasa and records every request, so a PUT /model would show."""

    def __init__(self, status_code: int = 200) -> None:
        self.requests: list[tuple[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, code: int, body: dict | None) -> None:
                fake.requests.append((self.command, self.path))
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                self._reply(status_code, {"model_file": "clinic.tar.gz", "model_id": "old"})

            def do_PUT(self) -> None:  # noqa: N802
                self._reply(204, None)

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def puts(self) -> list[str]:
        return [path for method, path in self.requests if method == "PUT"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_rasa():
    fake = FakeRasa()
    yield fake
    fake.close()


def publish_env(token: str | None) -> dict:
    return {"RASA_API_TOKEN": token or ""}


def publish(work_copy: Project, url: str, token: str | None = "t0k") -> subprocess.CompletedProcess:
    """`make publish` on the work copy, against the bot at `url`, as the editor would run it."""
    return run_module(
        "clinic.content.publish", "--root", str(work_copy.root), "--url", url, env=publish_env(token)
    )


def test_publish_refuses_without_a_token(work_copy: Project) -> None:
    before = sorted(p.name for p in work_copy.models_dir.iterdir())
    result = publish(work_copy, "http://127.0.0.1:9", None)
    assert result.returncode == 2
    assert "RASA_API_TOKEN is not set" in result.stdout
    assert "make run" in result.stdout
    assert sorted(p.name for p in work_copy.models_dir.iterdir()) == before


def test_publish_refuses_when_the_bot_is_not_running(work_copy: Project) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = publish(work_copy, url)
    assert result.returncode == 2
    assert f"cannot reach the bot at {url}" in result.stdout
    assert not list(work_copy.models_dir.glob("clinic-*.tar.gz"))


def test_publish_explains_a_bot_started_without_the_api(work_copy: Project) -> None:
    fake = FakeRasa(status_code=404)
    try:
        result = publish(work_copy, fake.url)
    finally:
        fake.close()
    assert result.returncode == 2
    assert (
        "started without the API enabled" in result.stdout
        and "RASA_API_TOKEN=<token> make run" in result.stdout
    )
    assert fake.puts == []


@pytest.mark.slow
def test_a_terms_change_rebuilds_the_spacy_pipeline(work_copy: Project) -> None:
    assert not build.spacy_is_stale(work_copy)
    patterns = work_copy.spacy_dir / "entity_ruler" / "patterns.jsonl"
    assert "iv line" not in patterns.read_text()
    terms = work_copy.terms
    terms.write_text(terms.read_text().replace("      - drip\n", "      - drip\n      - iv line\n", 1))
    assert build.spacy_is_stale(work_copy)
    build.build_spacy(work_copy)
    assert not build.spacy_is_stale(work_copy)
    assert {"label": "route", "pattern": "iv line", "id": "intravenous"} in [
        json.loads(line) for line in patterns.read_text().splitlines()
    ]


def test_failed_check_never_touches_the_live_model(work_copy: Project, fake_rasa: FakeRasa) -> None:
    topic = work_copy.topics_dir / "iv_risks.yml"
    set_answer(topic, read_topic(topic).answer + " This treatment is guaranteed to work.")
    faq_before = work_copy.faq_data.read_bytes() if work_copy.faq_data.exists() else b""
    result = publish(work_copy, fake_rasa.url)
    assert result.returncode == 1, result.stdout
    assert "content/topics/iv_risks.yml:" in result.stdout and '"guaranteed"' in result.stdout
    assert "The live bot is unchanged" in result.stdout
    assert fake_rasa.puts == []
    assert not list(work_copy.models_dir.glob("clinic-*.tar.gz"))
    assert (work_copy.faq_data.read_bytes() if work_copy.faq_data.exists() else b"") == faq_before


@pytest.mark.slow
def test_failed_training_never_touches_the_live_model(work_copy: Project, fake_rasa: FakeRasa) -> None:
    shutil.copy2(REPO_ROOT / "models" / "clinic.tar.gz", work_copy.live_model)
    live_before = work_copy.live_model.read_bytes()
    config = work_copy.root / "config.yml"
    config.write_text(config.read_text().replace("- name: SpacyTokenizer", "- name: NoSuchTokenizer"))
    result = publish(work_copy, fake_rasa.url)
    assert result.returncode == 1, result.stdout
    assert "Not published: Training failed" in result.stdout
    assert "NoSuchTokenizer" in result.stdout  # Rasa's own explanation is shown
    assert fake_rasa.puts == []
    assert not list(work_copy.models_dir.glob("clinic-*.tar.gz"))
    assert work_copy.live_model.read_bytes() == live_before


class Visitors:
    """Visitors chatting over REST in background threads; every failure is recorded."""

    def __init__(self, stack, threads: int = 2) -> None:
        self.stack = stack
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.done: list[tuple[float, float]] = []  # (start, end) of each successful request
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._chat, args=(n,), daemon=True) for n in range(threads)]

    def _chat(self, number: int) -> None:
        sender = f"visitor-{number}-{uuid.uuid4().hex[:6]}"
        while not self.stop.is_set():
            start = time.monotonic()
            try:
                replies = send(self.stack, sender, QUESTION, timeout=120)
                if not any(r.get("text") for r in replies):
                    raise RuntimeError(f"no text in the reply: {replies}")
                with self.lock:
                    self.done.append((start, time.monotonic()))
            except Exception as exc:  # noqa: BLE001 - every kind of failure counts
                with self.lock:
                    self.failures.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.1)

    def __enter__(self) -> Visitors:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=150)


def answer_text(replies: list[dict]) -> str:
    return " ".join(r.get("text", "") for r in replies)


@pytest.mark.slow
def test_publish_swaps_the_model_while_visitors_chat(tmp_path: Path) -> None:
    copy = copy_project(tmp_path / "project", with_live_model=True)
    token = secrets.token_hex(16)
    topic = copy.topics_dir / "iv_risks.yml"
    new_answer = f"{read_topic(topic).answer} {NEW_SENTENCE}"
    tracker = {"type": TRACKER_STORE_TYPE, "dialect": "sqlite", "db": str(tmp_path / "tracker.db")}
    with rasa_stack(model=copy.live_model, tracker_store=tracker, api_token=token) as stack:
        old_model = status(stack, token)["model_file"]
        ongoing = f"ongoing-{uuid.uuid4().hex[:6]}"
        assert NEW_SENTENCE not in answer_text(send(stack, ongoing, QUESTION))

        set_answer(topic, new_answer)  # the editor saves the file
        env = dict(os.environ, RASA_API_TOKEN=token, RASA_TELEMETRY_ENABLED="false")
        command = [
            sys.executable,
            "-m",
            "clinic.content.publish",
            "--root",
            str(copy.root),
            "--url",
            stack.url,
        ]
        with Visitors(stack) as visitors:
            time.sleep(1)
            process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            output, marks = [], {}
            for line in process.stdout:
                output.append(line)
                if line.startswith("4/4"):
                    marks["swap_start"] = time.monotonic()
                if line.startswith("Published"):
                    marks["swap_end"] = time.monotonic()
            process.wait(timeout=300)
            time.sleep(1)
        log = "".join(output)
        assert process.returncode == 0, log
        assert visitors.failures == []
        swap = (marks["swap_start"], marks["swap_end"])
        in_flight = [d for d in visitors.done if d[0] <= swap[1] and d[1] >= swap[0]]
        assert in_flight, f"no request overlapped the swap {swap}; {len(visitors.done)} requests in all"
        assert len(visitors.done) > 20

        # The new answer is live, and the conversation that started before the swap goes on.
        replies = send(stack, ongoing, QUESTION)
        assert NEW_SENTENCE in answer_text(replies)
        with urllib.request.urlopen(f"{stack.url}/conversations/{ongoing}/tracker?token={token}") as response:
            events = json.loads(response.read())["events"]
        assert [e["text"] for e in events if e["event"] == "user"] == [QUESTION, QUESTION]

        now_live = status(stack, token)["model_file"]
        assert now_live != old_model and now_live.startswith("clinic-")
    published = copy.models_dir / now_live
    assert published.exists() and filecmp.cmp(published, copy.live_model, shallow=False)
    for step in ("check", "train", "swap"):
        assert f"{step} " in log.split("Timings:")[1]
    assert "The live bot is unchanged" not in log


def test_publish_finds_the_development_token_that_make_run_keeps(tmp_path: Path) -> None:
    from clinic.content.publish import development_token

    assert development_token(tmp_path) == ""
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "rasa-api-token").write_text("s3cret\n")
    assert development_token(tmp_path) == "s3cret"

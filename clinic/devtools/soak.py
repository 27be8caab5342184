"""`make soak`: the whole assistant under load for minutes, with crashes, and honest counts.

Starts every service as `make run` does (supervisord, clinic/stack/supervised.py) in a
temporary directory, with a local webhook receiver standing in for the coordinators' chat tool.
Visitors chat over REST (questions from tests/evaluation/heldout.yml); some ask for a
coordinator and go through the whole handoff form. Meanwhile Rasa and the action server are
killed with SIGKILL at random moments. At the end it prints what was sent and answered, and
follows every handoff from request to confirmation, storage and notification.

Not part of `make test`. Usage:
  python -m clinic.devtools.soak [--seconds 300] [--visitors 10] [--handoff-share 0.3]
                            [--kill-every 40] [--seed 1]
  make soak [SOAK_SECONDS=600]
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import random
import re
import secrets
import signal
import threading
import time
import urllib.error
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from clinic.devtools.evaluate import load_cases
from clinic.devtools.load import LoadResult
from clinic.handoff.requests import HandoffStore
from clinic.handoff.senders import verify_signature
from clinic.settings import load_settings
from clinic.stack.local import ROOT, free_port
from clinic.stack.supervised import SupervisedStack, supervised_stack

HANDOFF = [
    "I'd like to talk to someone",
    "Sam Soak",
    "email",
    "sam.soak@example.org",
    "skip",
    "skip",
    "/affirm",
]
REFERENCE = re.compile(r"reference is ([A-Z0-9]{3}-[A-Z0-9]{4})")
KILLED = ("rasa", "actions")
WORKER_INTERVAL = 5  # seconds between the notification worker's rounds during the soak


@dataclass
class Counts:
    """Everything the visitors saw. One lock: the visitors are threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0
    replies: int = 0
    empty: int = 0
    errors: collections.Counter = field(default_factory=collections.Counter)
    latencies_ms: list[float] = field(default_factory=list)
    handoffs_requested: int = 0
    confirmed: dict[str, str] = field(default_factory=dict)  # reference -> conversation
    unconfirmed_endings: collections.Counter = field(default_factory=collections.Counter)

    def message(self, started: float, replies: list[dict] | None, error: str | None) -> None:
        with self.lock:
            self.sent += 1
            if error:
                self.errors[error] += 1
            elif replies:
                self.replies += 1
                self.latencies_ms.append((time.perf_counter() - started) * 1000)
            else:
                self.empty += 1


class WebhookReceiver:
    """The coordinators' chat tool: counts signed handoff notifications, by reference."""

    def __init__(self, secret: str) -> None:
        self.received: collections.Counter = collections.Counter()
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if verify_signature(body, secret, self.headers.get("X-Clinic-Signature")):
                    receiver.received[json.loads(body).get("reference")] += 1
                else:
                    receiver.bad_signatures += 1
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


APOLOGY = "something went wrong on our side"


def post(webhook: str, text: str, sender: str, source: str) -> list[dict]:
    """One REST message from the visitor's own address: each soak visitor connects from its own
    loopback address (127.0.0.2, 127.0.0.3, ...), as real visitors come from their own networks,
    so the per-address handoff limit sees many visitors, not one."""
    url = urllib.parse.urlsplit(webhook)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60, source_address=(source, 0))
    try:
        body = json.dumps({"sender": sender, "message": text})
        connection.request("POST", url.path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        data = response.read()
        if response.status >= 400:
            raise urllib.error.HTTPError(webhook, response.status, response.reason, response.headers, None)
        return json.loads(data)
    finally:
        connection.close()


def say(
    stack: SupervisedStack, counts: Counts, sender: str, text: str, source: str = "127.0.0.1"
) -> list[dict] | None:
    started = time.perf_counter()
    try:
        replies = post(stack.rest_webhook, text, sender, source)
    except urllib.error.HTTPError as error:
        counts.message(started, None, f"HTTP {error.code}")
        return None
    except (OSError, ValueError) as error:  # refused while restarting, reset, timeout, bad JSON
        counts.message(started, None, type(error).__name__)
        time.sleep(1)  # a visitor waits a moment before typing again
        return None
    counts.message(started, replies, None)
    return replies


def failed(replies: list[dict] | None) -> bool:
    """No answer (a server was down) or the channel's honest apology: the visitor tries again."""
    return not replies or any(APOLOGY in (r.get("text") or "") for r in replies)


def handoff(stack: SupervisedStack, counts: Counts, think: Callable[[], None], source: str) -> None:
    """One visitor through the whole form; the last reply should carry the reference. Like a
    real visitor, they send an answer again (up to 3 tries) when the bot said something went
    wrong or nothing came back."""
    sender = f"soak-handoff-{uuid.uuid4().hex[:10]}"
    with counts.lock:
        counts.handoffs_requested += 1
    last: list[dict] | None = None
    for text in HANDOFF:
        for _ in range(3):
            last = say(stack, counts, sender, text, source)
            think()
            if not failed(last):
                break
    ending = " ".join(r.get("text") or "" for r in last or [])
    found = REFERENCE.search(ending)
    with counts.lock:
        if found:
            counts.confirmed[found.group(1)] = sender
        else:
            counts.unconfirmed_endings[ending[:70] or "(no reply)"] += 1


def chat(
    stack: SupervisedStack,
    counts: Counts,
    questions: list[str],
    rng: random.Random,
    think: Callable[[], None],
) -> None:
    sender = f"soak-chat-{uuid.uuid4().hex[:10]}"
    for text in rng.sample(questions, k=min(5, len(questions))):
        say(stack, counts, sender, text)
        think()


def visitor(
    stack: SupervisedStack, counts: Counts, questions: list[str], deadline: float, share: float, seed: int
) -> None:
    rng = random.Random(seed)

    def think() -> None:
        time.sleep(rng.uniform(0.2, 1.0))

    while time.monotonic() < deadline:
        if rng.random() < share:
            handoff(stack, counts, think, f"127.0.0.{rng.randint(2, 250)}")
        else:
            chat(stack, counts, questions, rng, think)


def killer(
    stack: SupervisedStack, deadline: float, every: float, rng: random.Random, kills: collections.Counter
) -> None:
    """SIGKILL Rasa or the action server at random moments (mean interval `every` seconds)."""
    while True:
        time.sleep(rng.uniform(every / 2, every * 1.5))
        if time.monotonic() >= deadline:
            return
        name = rng.choice(KILLED)
        try:
            os.kill(stack.pid(name), signal.SIGKILL)
            kills[name] += 1
        except (OSError, ValueError):
            kills[f"{name} (not running)"] += 1


def monitor(stack: SupervisedStack, stop: threading.Event, restarts: collections.Counter) -> None:
    """Count the new processes supervisord starts, per service."""
    last: dict[str, int] = {}
    while not stop.is_set():
        try:
            for info in stack.all_info():
                pid = info["pid"]
                if pid and last.get(info["name"]) not in (None, pid):
                    restarts[info["name"]] += 1
                if pid:
                    last[info["name"]] = pid
        except OSError:
            pass
        stop.wait(0.25)


def settle(stack: SupervisedStack, receiver: WebhookReceiver, store: HandoffStore, timeout: float) -> None:
    """After the load: wait until every stored handoff was notified, or `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = {h.reference for h in store.list()}
        if stored and stored <= set(receiver.received):
            return
        time.sleep(1)


def report(
    args: argparse.Namespace,
    counts: Counts,
    seconds: float,
    kills: collections.Counter,
    restarts: collections.Counter,
    stored: dict[str, str],
    receiver: WebhookReceiver,
    states: dict[str, str],
) -> str:
    """The counts; `stored` maps each stored reference to its conversation."""
    load = LoadResult(counts.replies, sum(counts.errors.values()), seconds, counts.latencies_ms or [0.0])
    confirmed, stored_set = set(counts.confirmed), set(stored)
    notified = {ref for ref in receiver.received if ref in stored_set}
    duplicates = sum(n - 1 for n in receiver.received.values() if n > 1)
    stored_per_conversation = collections.Counter(stored.values())
    lines = [
        f"Soak: {seconds:.0f} s, {args.visitors} visitors, {args.handoff_share:.0%} of conversations are handoffs, "
        f"a kill every ~{args.kill_every:g} s (seed {args.seed})",
        "",
        f"messages sent            {counts.sent}",
        f"replies (non-empty)      {counts.replies}",
        f"empty replies (200 [])   {counts.empty}",
        f"errors                   {sum(counts.errors.values())}  {dict(counts.errors)}",
        f"throughput / p50 / p95   {load.throughput:.1f} msg/s / {load.p50:.0f} ms / {load.p95:.0f} ms",
        "",
        f"handoffs requested       {counts.handoffs_requested}",
        f"  confirmed to visitor   {len(confirmed)}",
        f"  stored                 {len(stored_set)}",
        f"  confirmed, not stored  {len(confirmed - stored_set)}  (the bot claimed a request it did not keep)",
        f"  stored, not confirmed  {len(stored_set - confirmed)}  (the visitor never got the reference)",
        f"  stored twice or more   {sum(1 for n in stored_per_conversation.values() if n > 1)}  conversations",
        f"  notified (webhook)     {len(notified)}  (+{duplicates} repeats, {receiver.bad_signatures} bad signatures)",
        f"  stored, not notified   {len(stored_set - notified)}",
        "",
        f"kills (SIGKILL)          {dict(kills)}",
        f"restarts observed        {dict(restarts)}",
        f"services at the end      {states}",
    ]
    if counts.unconfirmed_endings:
        lines += ["", "handoffs that ended without a reference, by the bot's last words:"]
        lines += [f"  {n:4d}  {text!r}" for text, n in counts.unconfirmed_endings.most_common(5)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300, help="how long visitors chat (default 300)")
    parser.add_argument("--visitors", type=int, default=10)
    parser.add_argument(
        "--handoff-share", type=float, default=0.3, help="share of conversations that hand off"
    )
    parser.add_argument("--kill-every", type=float, default=40, help="mean seconds between kills (0: none)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    questions = [
        m for group, _, m in load_cases(ROOT / "tests/evaluation/heldout.yml") if group == "in_scope"
    ]
    secret = secrets.token_urlsafe(24)
    receiver = WebhookReceiver(secret)
    env = {
        "HANDOFF_WEBHOOK_URL": receiver.url,
        "HANDOFF_WEBHOOK_SECRET": secret,
        "HANDOFF_WORKER_INTERVAL": str(WORKER_INTERVAL),
    }
    counts, kills, restarts = Counts(), collections.Counter(), collections.Counter()
    rng = random.Random(args.seed)
    with supervised_stack(extra_env=env) as stack:
        print(f"Stack up (logs: {stack.settings.log_dir}); soaking for {args.seconds:.0f} s...", flush=True)
        stop = threading.Event()
        watcher = threading.Thread(target=monitor, args=(stack, stop, restarts), daemon=True)
        watcher.start()
        started = time.monotonic()
        deadline = started + args.seconds
        threads = [
            threading.Thread(
                target=visitor,
                args=(stack, counts, questions, deadline, args.handoff_share, args.seed * 1000 + i),
            )
            for i in range(args.visitors)
        ]
        if args.kill_every > 0:
            threads.append(
                threading.Thread(target=killer, args=(stack, deadline, args.kill_every, rng, kills))
            )
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.monotonic() - started
        store = HandoffStore.from_settings(load_settings(stack.env))
        settle(stack, receiver, store, timeout=4 * WORKER_INTERVAL + 10)
        stop.set()
        watcher.join()
        stored = {h.reference: store.get(h.reference).conversation_id for h in store.list()}
        states = {p["name"]: p["statename"] for p in stack.all_info()}
    receiver.close()
    print(report(args, counts, seconds, kills, restarts, stored, receiver, states))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Send messages to a Rasa server as N concurrent visitors and measure latency and throughput."""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from dataclasses import dataclass

from clinic.devtools.evaluate import send


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p95(self) -> float:
        return self.percentile(0.95)


def visitor(webhook: str, messages: list[str], latencies: list[float], errors: list[int]) -> None:
    """One visitor: its own conversation, messages back to back (next one as soon as answered)."""
    sender = f"bench-{uuid.uuid4().hex}"
    for message in messages:
        started = time.perf_counter()
        try:
            send(webhook, message, sender)
            latencies.append((time.perf_counter() - started) * 1000)
        except Exception:  # a failed request is counted, not fatal
            errors.append(1)


def run_load(webhook: str, messages: list[str], visitors: int = 20, per_visitor: int = 25) -> LoadResult:
    """`visitors` threads, each sending `per_visitor` messages drawn from `messages` in turn."""
    latencies: list[float] = []
    errors: list[int] = []
    plans = [[messages[(v * 7 + i) % len(messages)] for i in range(per_visitor)] for v in range(visitors)]
    threads = [threading.Thread(target=visitor, args=(webhook, plan, latencies, errors)) for plan in plans]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LoadResult(len(latencies), len(errors), time.perf_counter() - started, latencies)

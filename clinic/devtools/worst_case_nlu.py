"""The NLU pipeline's time for the worst messages we could construct, at the channels' length limit.

The channels accept messages up to `clinic.channels.visitor_input.MAX_MESSAGE_CHARS` characters; each
must be processed within 50 ms of NLU time (the pipeline's own parse, one thread), so one
visitor cannot stall the others. Each family below attacks one part of the pipeline: spaCy's
tokenizer (long runs of emoji or punctuation, many tiny tokens), the typo corrector (many
different made-up words), the safety patterns (their trigger words packed together, near
misses), the classifier's features, odd Unicode. Every sample is different (seeded), so no
cache helps; the time is `processor.parse_message` on the loaded model, in this process.

The budget is checked on CPU time (`time.process_time`): the work a message costs, which other
processes on a shared machine cannot inflate. Wall time is printed beside it.
Prints p50 and max CPU milliseconds per family and the max wall milliseconds, and exits 1 when
a CPU max is over the budget.

Usage: python -m clinic.devtools.worst_case_nlu [--model models/clinic.tar.gz] [--length N]
       [--samples 7] [--budget-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import string
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from clinic.channels.visitor_input import MAX_MESSAGE_CHARS

BUDGET_MS = 50.0
ROOT = Path(__file__).resolve().parents[2]
EMOJI = [chr(c) for c in range(0x1F300, 0x1F64F)] + ["👩‍👩‍👧‍👦", "👍🏽", "🏳️‍🌈", "❤️"]
PUNCTUATION = "!?.,;:'\"()[]{}-_*&^%$#@~`<>/\\|…«»“”‘’¿¡"
SAFETY_WORDS = [
    "want",
    "need",
    "wish",
    "crash",
    "cut",
    "rope",
    "gun",
    "trapped",
    "numb",
    "sudden",
    "chest",
    "weight",
    "half",
    "one side",
    "throat",
    "how many pills",
    "fever",
    "hurt",
    "on purpose",
    "kill",
    "end",
    "my",
    "life",
    "breathe",
    "cant",
    "face",
    "drooping",
]
QUESTIONS = [
    "Is it safe?",
    "How is the therapy given?",
    "Does it hurt?",
    "What does it cost?",
    "Can I drive home after?",
    "How long does it take?",
    "Who can I talk to?",
]
CJK = [chr(c) for c in range(0x4E00, 0x4E00 + 2000)]
SPACES = [" ", "\n", "\t", "\u00a0", "\u2003", "\u3000", "\r\n"]

Family = Callable[[random.Random, int], str]


def _fill(rng: random.Random, length: int, piece: Callable[[random.Random], str], sep: str = "") -> str:
    """Pieces joined by `sep` until `length` characters (code points), cut to exactly `length`."""
    parts: list[str] = []
    size = 0
    while size < length:
        parts.append(piece(rng))
        size += len(parts[-1]) + len(sep)
    return sep.join(parts)[:length]


def _word(rng: random.Random, low: int, high: int, first: str = string.ascii_lowercase) -> str:
    return rng.choice(first) + "".join(
        rng.choice(string.ascii_lowercase) for _ in range(rng.randint(low, high) - 1)
    )


FAMILIES: dict[str, Family] = {
    "emoji flood": lambda rng, n: _fill(rng, n, lambda r: r.choice(EMOJI)),
    "one emoji repeated": lambda rng, n: rng.choice(EMOJI[:-4]) * n,
    "emoji, spaced": lambda rng, n: _fill(rng, n, lambda r: r.choice(EMOJI), " "),
    "one long word": lambda rng, n: _word(rng, n, n),
    "repeated punctuation": lambda rng, n: _fill(rng, n, lambda r: r.choice(PUNCTUATION)),
    "one punctuation mark repeated": lambda rng, n: rng.choice(PUNCTUATION) * n,
    "32-char punctuation runs": lambda rng, n: _fill(
        rng, n, lambda r: "".join(r.choice(PUNCTUATION) for _ in range(32)), " "
    ),
    "many sentences": lambda rng, n: _fill(rng, n, lambda r: r.choice(QUESTIONS), " "),
    "made-up words": lambda rng, n: _fill(rng, n, lambda r: _word(r, 8, 13, "stwdpbc"), " "),
    "single letters": lambda rng, n: _fill(rng, n, lambda r: r.choice(string.ascii_letters), " "),
    "hyphen chains": lambda rng, n: _fill(
        rng, n, lambda r: "-".join(r.choice(string.ascii_lowercase) for _ in range(16)), " "
    ),
    "safety trigger words": lambda rng, n: _fill(rng, n, lambda r: r.choice(SAFETY_WORDS), " "),
    "html and script": lambda rng, n: _fill(
        rng, n, lambda r: f"<script>alert({r.randint(0, 999)})</script><b onclick=x>{_word(r, 2, 6)}</b>"
    ),
    "digits and phone-like": lambda rng, n: _fill(
        rng, n, lambda r: "".join(r.choice("0123456789-+() ./") for _ in range(12))
    ),
    "CJK, no spaces": lambda rng, n: _fill(rng, n, lambda r: r.choice(CJK)),
    "combining marks": lambda rng, n: _fill(rng, n, lambda r: r.choice("aeiou") + "\u0301\u0308\u0323" * 3),
    "odd whitespace": lambda rng, n: _fill(rng, n, lambda r: _word(r, 2, 7) + r.choice(SPACES)),
    "intent shortcut": lambda rng, n: ("/greet" + _fill(rng, n, lambda r: _word(r, 2, 9), " "))[:n],
}


def load_processor(model: Path):  # noqa: ANN201 (Rasa's MessageProcessor; imported lazily)
    from rasa.core.agent import load_agent

    agent = asyncio.run(load_agent(model_path=str(model)))
    if agent.processor is None:
        raise RuntimeError(f"could not load the model {model}")
    return agent.processor


def nlu_ms(processor, loop: asyncio.AbstractEventLoop, text: str) -> tuple[float, float]:  # noqa: ANN001
    """(CPU, wall) milliseconds of NLU for one message: the pipeline's parse, nothing else."""
    from rasa.core.channels.channel import UserMessage

    message = UserMessage(text)
    cpu, wall = time.process_time(), time.perf_counter()
    loop.run_until_complete(processor.parse_message(message))
    return (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000


def measure(
    processor, length: int, samples: int, seed: int = 20240901
) -> dict[str, list[tuple[float, float]]]:  # noqa: ANN001
    """(CPU, wall) times per family, each sample a different text of `length` characters."""
    loop = asyncio.new_event_loop()
    try:
        for _ in range(5):  # warm up caches that every message shares (not the per-text ones)
            nlu_ms(processor, loop, "how is the therapy given?")
        timings: dict[str, list[tuple[float, float]]] = {}
        for name, family in FAMILIES.items():
            rng = random.Random(f"{seed}-{name}")
            timings[name] = [nlu_ms(processor, loop, family(rng, length)) for _ in range(samples)]
        return timings
    finally:
        loop.close()


def report(timings: dict[str, list[tuple[float, float]]], length: int, budget_ms: float) -> bool:
    """Prints the table; True when every family's CPU max is within the budget."""
    print(f"NLU time per message of {length:,} characters (budget {budget_ms:.0f} ms of CPU, one thread)")
    print(f"{'family':30} {'p50 ms':>8} {'max ms':>8} {'max wall ms':>12}")
    worst = 0.0
    for name, values in timings.items():
        cpu = [c for c, _ in values]
        worst = max(worst, max(cpu))
        print(f"{name:30} {statistics.median(cpu):>8.1f} {max(cpu):>8.1f} {max(w for _, w in values):>12.1f}")
    print(f"{'worst case':30} {'':>8} {worst:>8.1f}  {'OK' if worst <= budget_ms else 'OVER BUDGET'}")
    return worst <= budget_ms


def quiet_logs() -> None:
    """Rasa logs every parse at debug level, and warns about the intent-shortcut family quoting
    the whole text: neither is wanted in a benchmark."""
    import structlog

    warnings.filterwarnings("ignore", message="Failed to parse arguments in line")
    logging.disable(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "clinic.tar.gz")
    parser.add_argument("--length", type=int, default=MAX_MESSAGE_CHARS)
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument("--budget-ms", type=float, default=BUDGET_MS)
    args = parser.parse_args()
    quiet_logs()
    processor = load_processor(args.model)
    timings = measure(processor, args.length, args.samples)
    sys.exit(0 if report(timings, args.length, args.budget_ms) else 1)


if __name__ == "__main__":
    main()

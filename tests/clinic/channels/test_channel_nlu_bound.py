"""Any message the channels accept is processed in bounded time, even the worst ones we could
construct (issue 9, finding 3): floods of emoji or punctuation, one long word, made-up words for
the typo corrector, the safety patterns' trigger words, odd Unicode.

The 50 ms figure itself is measured by a benchmark command, not here (timed unit tests fail on a
busy machine and pass on a fast one): `python -m clinic.devtools.worst_case_nlu` prints p50 and
max per family and exits 1 over the budget; `make bench` runs it. These tests pin what keeps the
cost linear: the tokenizer does not peel a long run one character at a time (it did: 1,000 emoji
became 1,000 tokens, quadratic work), every family at the length limit is understood without an
error, and the typo corrector's cache stays bounded."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator

import pytest
import spacy
from rasa.core.channels.channel import UserMessage

from clinic.channels.visitor_input import MAX_MESSAGE_CHARS
from clinic.devtools.worst_case_nlu import FAMILIES, ROOT, load_processor
from clinic.nlp.build_spacy import LONG_RUN
from clinic.nlp.typos import TypoCorrector

# The intent-shortcut family makes Rasa warn, quoting the whole (long) text: not needed here.
pytestmark = pytest.mark.filterwarnings("ignore:Failed to parse arguments in line")
RUNS = [
    "one emoji repeated",
    "one punctuation mark repeated",
    "one long word",
    "emoji flood",
    "repeated punctuation",
]


@pytest.fixture(scope="module")
def tokenizer() -> spacy.tokenizer.Tokenizer:
    return spacy.load(ROOT / "build" / "spacy_en_clinic").tokenizer


@pytest.mark.parametrize("family", RUNS)
def test_a_long_run_without_spaces_is_not_peeled_into_one_token_per_character(tokenizer, family: str) -> None:
    text = FAMILIES[family](random.Random(7), MAX_MESSAGE_CHARS)
    assert len(tokenizer(text)) <= MAX_MESSAGE_CHARS // LONG_RUN + 1


def test_short_words_and_emoji_are_still_separate_tokens(tokenizer) -> None:
    assert [t.text for t in tokenizer("is the IV safe?👍 really")] == [
        "is",
        "the",
        "IV",
        "safe",
        "?",
        "👍",
        "really",
    ]


@pytest.fixture(scope="module")
def processor() -> Iterator[object]:
    yield load_processor(ROOT / "models" / "clinic.tar.gz")


@pytest.mark.slow
@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_worst_case_family_at_the_length_limit_is_understood(processor, family: str) -> None:
    text = FAMILIES[family](random.Random(11), MAX_MESSAGE_CHARS)
    parsed = asyncio.run(processor.parse_message(UserMessage(text)))
    assert parsed["text"] == text.strip() and parsed["intent"]["name"], parsed["intent"]


def letters(number: int) -> str:
    return "".join("abcdefghijklmnopqrstuvwxyz"[int(digit)] for digit in f"{number:05d}")


def test_a_flood_of_made_up_words_does_not_grow_the_typo_cache_without_bound() -> None:
    corrector = TypoCorrector(["suicidal", "breathe"])
    words = [f"su{letters(number)}icidal" for number in range(TypoCorrector.CACHE_SIZE + 500)]
    assert [corrector.correct_word(word) for word in words] == words
    assert len(corrector._cache) == TypoCorrector.CACHE_SIZE
    assert corrector.correct("sucidal brethe") == "suicidal breathe", "still correcting"

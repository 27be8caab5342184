"""The trained pipeline's three decisions on the kinds of message issue 11 found mishandled:
danger now vs information vs someone else vs a figure of speech; about the article or not; and
the answer. (The rates are measured by `make evaluate` on sets never trained on; these pin the
behaviour the issue quoted.)"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from rasa.core.channels.channel import UserMessage

from clinic.devtools.worst_case_nlu import ROOT, load_processor

pytestmark = pytest.mark.slow  # the trained model


@pytest.fixture(scope="module")
def intent_of() -> Iterator:
    processor = load_processor(ROOT / "models" / "clinic.tar.gz")
    loop = asyncio.new_event_loop()

    def parse(text: str) -> tuple[str, str | None]:
        parsed = loop.run_until_complete(processor.parse_message(UserMessage(text)))
        top_answer = next(
            (r.get("intent_response_key") for r in parsed["intent_ranking"] if r["name"] == "faq"), None
        )
        return parsed["intent"]["name"], top_answer

    yield parse
    loop.close()


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I've been saving my pills", "crisis"),  # first-person danger
        ("i want someone to kill me", "crisis"),
        ("my dad is slurring his words and his face is drooping", "emergency"),  # someone else, now
        ("i took all my pills an hour ago", "emergency_and_crisis"),  # both: 911 and 988
        ("this traffic is killing me", "out_of_scope"),  # figures of speech: no alarm
        ("I'm dying to know if you have parking", "out_of_scope"),
        ("which stocks have lost the least today", "out_of_scope"),  # ordinary requests
        ("i want to install new tiles in my kitchen", "out_of_scope"),
        ("is there an internet outage in my area", "out_of_scope"),
        ("who invented the internet", "out_of_scope"),  # no curated answer either
    ],
)
def test_safety_and_scope(intent_of, text: str, intent: str) -> None:
    assert intent_of(text)[0] == intent


def test_an_informational_question_with_alarming_words_is_answered(intent_of) -> None:
    assert intent_of("can IV stem cells kill you?") == ("faq", "faq/iv_risks")


def test_a_long_calm_message_is_answered_on_its_question(intent_of) -> None:
    text = (
        "Hello, I am 71 and had my right hip replaced in 2019, which went well. My left knee has "
        "been getting worse for two years and my daughter found your clinic online. I walk with a "
        "cane now. What are the risks of getting the stem cells through an IV?"
    )
    intent, answer = intent_of(text)
    assert intent in {"faq", "nlu_fallback"} and answer == "faq/iv_risks"  # answered, or "did you mean"

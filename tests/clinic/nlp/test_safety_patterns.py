"""The safety net: emergencies and crises are caught by pattern, typos included, and ordinary
questions about risks are not mistaken for emergencies."""

from __future__ import annotations

import pytest

from clinic.nlp.safety_patterns import CRISIS, EMERGENCY, load_rules, normalise
from clinic.nlp.typos import TypoCorrector, edit_distance

RULES = load_rules("content/safety.yml")


@pytest.mark.parametrize(
    "text",
    [
        "I want to kill myself",
        "i feel sucidal",
        "thinking about ending it all",
        "i dont want to be here anymore",
        "no reason to keep going",
        "i have pills saved up",
        "i wrote goodbye letters",
        "nobody would miss me if i was gone",
        "I've been cutting myself",
    ],
)
def test_crisis_wording_is_caught(text: str) -> None:
    assert RULES.classify(text) == CRISIS


@pytest.mark.parametrize(
    "text",
    [
        "I have a fever after my knee injection",
        "my knee is red hot and swollen since the shot",
        "pus coming out of the injection site",
        "chest pian",
        "cant breth",
        "i think im having a strok",
        "my mom's face is drooping and she's slurring",
        "half my body went numb all of a sudden",
        "blood is soaking through the bandage",
        "my throat is closing up",
        "temp 103 after the drip",
        "i passed out",
        "my husband collapsed",
    ],
)
def test_emergency_wording_is_caught(text: str) -> None:
    assert RULES.classify(text) == EMERGENCY


@pytest.mark.parametrize(
    "text",
    [
        "can the iv cause infections",
        "what are the risks of the drip",
        "can stem cells help after a stroke",
        "my husband had a stroke last year, can stem cells help",
        "is the knee shot safe",
        "the shaking in my hands, can stem cells help parkinsons",
        "im lying down with knee pain",
        "my plan is to get the knee shot",
        "how much does it cost",
        "",
    ],
)
def test_questions_are_not_emergencies(text: str) -> None:
    assert RULES.classify(text) is None


def test_normalise_drops_apostrophes_and_punctuation() -> None:
    assert normalise("Can't BREATHE!!!") == "cant breathe"


def test_typos_are_corrected_only_towards_close_words_with_the_same_first_letter() -> None:
    corrector = TypoCorrector(["suicidal", "breathe", "dying"])
    assert corrector.correct("sucidal") == "suicidal"
    assert corrector.correct("breath") == "breathe"
    assert corrector.correct("lying") == "lying"  # different first letter: left alone
    assert edit_distance("pian", "pain", 1) == 1  # a swap counts as one edit

"""Every curated answer rests on passages quoted word for word from the article, and reads at
US grade 8 or below (Flesch-Kincaid, clinic/content/readability.py)."""

from __future__ import annotations

import pytest

from clinic.content.article import quote_in_article
from clinic.content.readability import MAX_GRADE, grade, syllables
from clinic.content.topics import load_topics

TOPICS = load_topics()


def test_there_are_topics_for_everything_the_article_covers() -> None:
    assert {t.id for t in TOPICS} >= {
        "stem_cells_basics",
        "routes",
        "iv_risks",
        "joint_safety",
        "risk_factors",
        "osteoarthritis",
        "alternatives",
        "right_for_me",
    }


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.id)
def test_every_source_is_quoted_word_for_word(topic) -> None:
    assert topic.sources, f"{topic.id} has no source"
    for quote in topic.sources:
        assert quote_in_article(quote), f"{topic.id}: not in the article: {quote!r}"


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.id)
def test_every_answer_is_plain_language(topic) -> None:
    assert grade(topic.answer) <= MAX_GRADE, f"{topic.id} reads at grade {grade(topic.answer)}"


def test_a_changed_quote_is_caught() -> None:
    assert not quote_in_article("Bacterial infections are rare.")
    assert quote_in_article("Bacterial   infections are common,\nwhile viral")


def test_the_grade_formula_separates_easy_from_hard_text() -> None:
    assert grade("The cat sat on the mat. It was fun.") < 2
    hard = (
        "Hematopoietic transplantation necessitates comprehensive immunological evaluation "
        "considering multifactorial contraindications."
    )
    assert grade(hard) > 12
    assert syllables("osteoarthritis") >= 4 and syllables("the") == 1

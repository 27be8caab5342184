"""The reviewed emergency and crisis patterns of content/safety.yml: the safety net.

A model decides on meaning (clinic/nlp/safety_model.py); the patterns, written and reviewed with
clinical staff, make sure the explicit wording is never missed when the model is unsure. A
pattern match alone does not raise an alarm when the model is confident the message is not a
danger (an informational question about overdoses, "a suicide mission"): see SafetyDetector.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from re import Pattern

import yaml

from clinic.nlp.typos import TypoCorrector

CRISIS = "crisis"
EMERGENCY = "emergency"


def normalise(text: str) -> str:
    """Lowercase, drop apostrophes, turn other punctuation into spaces."""
    text = text.lower().replace("’", "").replace("'", "")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _compile(patterns: list[str]) -> list[Pattern[str]]:
    return [re.compile(p) for p in patterns]


@dataclass
class SafetyRules:
    """The compiled patterns of content/safety.yml."""

    crisis: list[Pattern[str]]
    emergency: list[Pattern[str]]
    symptoms: list[Pattern[str]]
    context: list[Pattern[str]]
    corrector: TypoCorrector

    @classmethod
    def from_file(cls, path: Path) -> SafetyRules:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))["safety"]
        emergency = raw["emergency"]
        all_patterns = raw["crisis"] + emergency["always"] + emergency["symptoms"]
        return cls(
            crisis=_compile(raw["crisis"]),
            emergency=_compile(emergency["always"]),
            symptoms=_compile(emergency["symptoms"]),
            context=_compile(emergency["context"]),
            corrector=TypoCorrector.from_patterns(all_patterns, raw.get("words", [])),
        )

    def cleaned(self, text: str) -> str:
        """The text the patterns read: normalised, small typos corrected ("sucidal" -> "suicidal")."""
        return self.corrector.correct(normalise(text))

    def matches(self, text: str) -> frozenset[str]:
        """The kinds whose patterns match: {"emergency"}, {"crisis"}, both, or none."""
        cleaned = self.cleaned(text)
        kinds = set()
        if any(p.search(cleaned) for p in self.emergency) or (
            any(p.search(cleaned) for p in self.symptoms) and any(p.search(cleaned) for p in self.context)
        ):
            kinds.add(EMERGENCY)
        if any(p.search(cleaned) for p in self.crisis):
            kinds.add(CRISIS)
        return frozenset(kinds)

    def classify(self, text: str) -> str | None:
        """`emergency` (911 first, even when it is also a crisis), `crisis` or None."""
        kinds = self.matches(text)
        return EMERGENCY if EMERGENCY in kinds else (CRISIS if kinds else None)


@lru_cache(maxsize=1)
def english_words() -> Container[str]:
    """spaCy's English lemma lookup table (installed with spacy-lookups-data, not downloaded)."""
    from spacy.lookups import load_lookups

    return load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")


@lru_cache(maxsize=4)
def load_rules(path: str) -> SafetyRules:
    rules = SafetyRules.from_file(Path(path))
    rules.corrector.use_known_words(english_words())
    return rules

"""Catch emergencies and crises before anything else, whatever the classifier thought.

The last step of the NLU pipeline. The calibrated danger decision (clinic_nlp/calibrated_decisions.py,
on the sentence encoder's vectors, sentence by sentence) decides on meaning; the reviewed patterns
in data/safety.yml (after fixing small typos) stay as a safety net: either one is enough. The
intent becomes `emergency` (911), `crisis` (988) or, when both, `emergency_and_crisis` (both
replies), with full confidence. The answer classifier's own emergency/crisis probability no
longer triggers anything: far from its training data it had no meaning, and it sent ordinary
and long messages to the crisis line.
"""
from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from re import Pattern
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from clinic_nlp.typos import TypoCorrector

CRISIS = "crisis"
EMERGENCY = "emergency"
BOTH = "emergency_and_crisis"  # answered with 911 and 988 (data/rules.yml)
DANGER_KEY = "clinic_danger"  # set by clinic_nlp.calibrated_decisions: the model's decision


def intent_for(kinds: set[str]) -> str | None:
    """The intent that answers these kinds of danger."""
    if kinds == {EMERGENCY, CRISIS}:
        return BOTH
    return next(iter(kinds), None)


def normalise(text: str) -> str:
    """Lowercase, drop apostrophes, turn other punctuation into spaces."""
    text = text.lower().replace("’", "").replace("'", "")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _compile(patterns: list[str]) -> list[Pattern[str]]:
    return [re.compile(p) for p in patterns]


@dataclass
class SafetyRules:
    """The compiled patterns of data/safety.yml."""

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

    def kinds(self, text: str) -> set[str]:
        """The kinds of danger the patterns see: {`emergency`, `crisis`}, one of them, or none."""
        cleaned = self.corrector.correct(normalise(text))
        found = set()
        if any(p.search(cleaned) for p in self.emergency) or (
            any(p.search(cleaned) for p in self.symptoms) and any(p.search(cleaned) for p in self.context)
        ):
            found.add(EMERGENCY)
        if any(p.search(cleaned) for p in self.crisis):
            found.add(CRISIS)
        return found

    def classify(self, text: str) -> str | None:
        """`emergency`, `crisis`, `emergency_and_crisis` or None."""
        return intent_for(self.kinds(text))


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


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SafetyDetector(GraphComponent, IntentClassifier):
    """Overrides the intent with `emergency` / `crisis` when the safety patterns match."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"patterns": "data/safety.yml"}

    def __init__(self, rules: SafetyRules) -> None:
        self._rules = rules

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyDetector:
        config = {**cls.get_default_config(), **config}
        return cls(load_rules(config["patterns"]))

    def _kind(self, message: Message) -> str | None:
        """The patterns' kinds joined with the calibrated model's (clinic_nlp/calibrated_decisions)."""
        kinds = self._rules.kinds(message.get(TEXT) or "")
        danger = message.get(DANGER_KEY) or {}
        kinds |= {kind for kind in (EMERGENCY, CRISIS) if danger.get(kind)}
        return intent_for(kinds)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            kind = self._kind(message)
            if kind is None:
                continue
            top = {"name": kind, "confidence": 1.0}
            ranking = [top] + [r for r in message.get("intent_ranking", []) if r["name"] != kind]
            message.set(INTENT, top, add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
            message.set("response_selector", {}, add_to_output=True)
        return messages

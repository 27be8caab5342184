"""Catch emergencies and crises before anything else, whatever the classifier thought.

A statistical classifier can miss a rare phrasing; a visitor in danger must never get an FAQ
answer. So the last step of the NLU pipeline checks every message against the reviewed
patterns in content/safety.yml (after fixing small typos) and, on a match, sets the intent to
`crisis` or `emergency` with full confidence. The classifier is also trained on such messages,
so either one catching it is enough.
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

    def classify(self, text: str) -> str | None:
        """`emergency`, `crisis` or None."""
        cleaned = self.corrector.correct(normalise(text))
        if any(p.search(cleaned) for p in self.emergency):
            return EMERGENCY  # life-threatening now: 911 first, even when it is also a crisis
        if any(p.search(cleaned) for p in self.crisis):
            return CRISIS
        if any(p.search(cleaned) for p in self.symptoms) and any(p.search(cleaned) for p in self.context):
            return EMERGENCY
        return None


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
        # The classifier's own emergency/crisis probability also triggers, at a low bar: a missed
        # crisis costs far more than a visitor seeing the 988 number when they did not need it.
        return {"patterns": "content/safety.yml", "emergency_threshold": 0.4, "crisis_threshold": 0.25}

    def __init__(self, rules: SafetyRules, thresholds: dict[str, float]) -> None:
        self._rules = rules
        self._thresholds = thresholds

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyDetector:
        config = {**cls.get_default_config(), **config}
        thresholds = {EMERGENCY: config["emergency_threshold"], CRISIS: config["crisis_threshold"]}
        return cls(load_rules(config["patterns"]), thresholds)

    def _kind(self, message: Message) -> str | None:
        """By pattern first; else by the classifier's probability against the low safety bar."""
        kind = self._rules.classify(message.get(TEXT) or "")
        if kind:
            return kind
        confidences = {r["name"]: r["confidence"] for r in message.get("intent_ranking") or []}
        for name in (EMERGENCY, CRISIS):
            if confidences.get(name, 0.0) >= self._thresholds[name]:
                return name
        return None

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

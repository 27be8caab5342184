"""Recognise which response a bot reply is, by its text, from the domain and the built FAQ data."""

from __future__ import annotations

from pathlib import Path

import yaml

from clinic.content.article import normalise_space

ROOT = Path(__file__).resolve().parents[2]
RESPONSE_FILES = [ROOT / "domain.yml", ROOT / "data" / "nlu" / "faq.yml"]


def response_index(files: list[Path] = RESPONSE_FILES) -> dict[str, str]:
    """Every response text -> its response name (a topic's answer is named by clinic.faq.response_name)."""
    index: dict[str, str] = {}
    for path in files:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variations in (document.get("responses") or {}).items():
            for variation in variations:
                if variation.get("text"):
                    index[normalise_space(variation["text"])] = name
    return index


def response_names(replies: list[dict], index: dict[str, str]) -> list[str]:
    """Names of the text replies in order; an unknown text (e.g. from an action) is `?<text>`."""
    names = []
    for reply in replies:
        text = reply.get("text")
        if text:
            names.append(index.get(normalise_space(text), f"?{text[:60]}"))
    return names


def first_answer(names: list[str], skip: str = "utter_education_notice") -> str | None:
    """The reply that answers the message (the session's notice comes first and is skipped)."""
    return next((n for n in names if n != skip), None)

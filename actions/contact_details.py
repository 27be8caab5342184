"""Understand and check what visitors type into the handoff form (pure functions, no Rasa)."""
from __future__ import annotations

import re

from clinic.contact import EMAIL
from clinic.handoff.errors import InvalidHandoff
from clinic.handoff.requests import normalise_email, normalise_phone

SKIP_WORDS = {"skip", "/skip", "no", "none", "nope", "pass", "n/a", "na", "no preference", "anytime",
              "any time", "whenever", "rather not say", "nothing", "not sure", "-"}  # fmt: skip
MAX_NAME_LENGTH = 80


def contact_method(text: str) -> str | None:
    """'email' or 'phone' from what the visitor typed or clicked, or None."""
    lowered = text.lower()
    if EMAIL.search(text) or re.search(r"\be-?mail\b|\bmail\b", lowered):
        return "email"
    if re.search(r"\b(phone|call|ring|text|sms|number|cell|mobile)\b", lowered) or re.search(r"\d{7,}", re.sub(r"\D", "", text)):
        return "phone"
    return None


def check_contact(method: str, text: str) -> tuple[str | None, str | None]:
    """(normalised value, None) when valid; (None, reason) when not."""
    text = text.strip()
    if method == "email":
        found = EMAIL.search(text)
        try:
            return normalise_email(found.group(0) if found else text), None
        except InvalidHandoff:
            return None, "That doesn't look like an email address. Please type it like name@example.com."
    try:
        return normalise_phone(text), None
    except InvalidHandoff:
        return None, "That doesn't look like a phone number. Please include the area code, like 555-123-4567."


def check_name(text: str) -> tuple[str | None, str | None]:
    """A name is any short text with a letter in it; we don't judge names."""
    name = " ".join(text.split())
    if not re.search(r"[^\W\d_]", name):
        return None, "Please type the name we should use for you."
    if len(name) > MAX_NAME_LENGTH or "@" in name or re.search(r"\d{4,}", name):
        return None, "That looks like more than a name. Please type just your name."
    return name, None


def optional_text(text: str, max_length: int = 300) -> str:
    """Optional answers: '' when skipped, else the text trimmed to a sensible length."""
    cleaned = " ".join(text.split())
    return "" if cleaned.lower().strip(".! ") in SKIP_WORDS else cleaned[:max_length]

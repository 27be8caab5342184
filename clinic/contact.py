"""A visitor's contact details: find, check, normalise and mask email addresses and phone numbers.

One definition for the whole project: the handoff form understands and checks what a visitor
types with it (and the name and optional answers it asks for), the handoff store normalises what
it saves with it, the contact-details guard recognises a message that is nothing but contact data
with it, and the privacy job and the gaps report mask with it. Pure functions: no Rasa, no database.
"""

from __future__ import annotations

import re

import phonenumbers

# Finding: an address or a number anywhere in free text.
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d\s().\-/]{5,}\d(?!\w)")
MIN_PHONE_DIGITS = 7
# Checking: a whole value that is one deliverable-looking address.
VALID_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"'.]{2,}$")
MAX_EMAIL_LENGTH = 254

SKIP_WORDS = {
    "skip",
    "/skip",
    "no",
    "none",
    "nope",
    "pass",
    "n/a",
    "na",
    "no preference",
    "anytime",
    "any time",
    "whenever",
    "rather not say",
    "nothing",
    "not sure",
    "-",
}
MAX_NAME_LENGTH = 80


class InvalidContact(ValueError):
    """Not a valid email address or phone number (the message says which)."""


# --------------------------------------------------------------------------- find and mask


def is_phone_number(text: str) -> bool:
    """Enough digits to be a phone number (not a year, an age or a dose)."""
    return sum(c.isdigit() for c in text) >= MIN_PHONE_DIGITS


def mask_contact_details(text: str) -> str:
    """'call (212) 555-0187 or ann@example.org' -> 'call [phone] or [email]'."""
    text = EMAIL.sub("[email]", text)
    return PHONE.sub(lambda m: "[phone]" if is_phone_number(m.group()) else m.group(), text)


# --------------------------------------------------------------------------- normalise


def normalise_email(value: str) -> str:
    """The address as stored: the domain lower-cased (the local part may be case-sensitive)."""
    value = value.strip()
    if len(value) > MAX_EMAIL_LENGTH or not VALID_EMAIL.match(value):
        raise InvalidContact("not a valid email address")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalise_phone(value: str, default_region: str = "US") -> str:
    """E.164 form ('+15555550100'), so coordinators can dial it as is."""
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidContact("not a valid phone number") from exc
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise InvalidContact("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --------------------------------------------------------------------------- the handoff form's answers


def contact_method(text: str) -> str | None:
    """'email' or 'phone' from what the visitor typed or clicked, or None."""
    lowered = text.lower()
    if EMAIL.search(text) or re.search(r"\be-?mail\b|\bmail\b", lowered):
        return "email"
    if re.search(r"\b(phone|call|ring|text|sms|number|cell|mobile)\b", lowered) or re.search(
        r"\d{7,}", re.sub(r"\D", "", text)
    ):
        return "phone"
    return None


def check_contact(method: str, text: str) -> tuple[str | None, str | None]:
    """(normalised value, None) when valid; (None, reason) when not."""
    text = text.strip()
    if method == "email":
        found = EMAIL.search(text)
        try:
            return normalise_email(found.group(0) if found else text), None
        except InvalidContact:
            return None, "That doesn't look like an email address. Please type it like name@example.com."
    try:
        return normalise_phone(text), None
    except InvalidContact:
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

"""What an email address and a phone number look like in free text, and how to mask them.

One definition for the whole project: the privacy job and the gaps report mask with it, the
handoff form finds an address in what a visitor typed with it, and the contact-details guard
recognises a message that is nothing but contact data with it.
"""
from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d\s().\-/]{5,}\d(?!\w)")
MIN_PHONE_DIGITS = 7


def is_phone_number(text: str) -> bool:
    """Enough digits to be a phone number (not a year, an age or a dose)."""
    return sum(c.isdigit() for c in text) >= MIN_PHONE_DIGITS


def mask_contact_details(text: str) -> str:
    """'call (212) 555-0187 or ann@example.org' -> 'call [phone] or [email]'."""
    text = EMAIL.sub("[email]", text)
    return PHONE.sub(lambda m: "[phone]" if is_phone_number(m.group()) else m.group(), text)

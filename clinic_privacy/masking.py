"""Mask email addresses and phone numbers in free text."""
from __future__ import annotations

import re

EMAIL = re.compile(r"[^\s@<>()\"']+@[^\s@<>()\"']+\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<!\w)(?:\+?\d[\d\s().-]{6,}\d)(?!\w)")


def mask_contact_details(text: str) -> str:
    """'call 212-555-0187 or ann@example.org' -> 'call [phone] or [email]'."""
    text = EMAIL.sub("[email]", text)
    return PHONE.sub(lambda m: "[phone]" if sum(c.isdigit() for c in m.group(0)) >= 7 else m.group(0), text)

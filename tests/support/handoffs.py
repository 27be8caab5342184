"""What many tests need for a handoff: settings for a throwaway store, and a whole form's answers."""

from __future__ import annotations

from pathlib import Path

from clinic.handoff.crypto import generate_key

# A visitor asking for a person and answering every question of the form, consent included.
# The form's slots once that visitor has answered everything and consented (the submit step).
FILLED_SLOTS = {
    "handoff_name": "Ann",
    "handoff_contact_method": "email",
    "handoff_contact": "ann@example.org",
    "handoff_best_time": "",
    "handoff_topic_note": "",
    "handoff_consent": True,
}
WHOLE_FORM = [
    "I'd like to talk to someone",
    "Ann Example",
    "email",
    "ann@example.org",
    "skip",
    "skip",
    "/affirm",
]


def throwaway_store_settings(workdir: Path, **extra: str) -> dict[str, str]:
    """Environment for a fresh SQLite handoff store with a real key, shared by the servers a test
    starts (they inherit it) and the test process itself."""
    return {
        "HANDOFF_DATABASE_URL": f"sqlite:///{workdir / 'handoffs.db'}",
        "HANDOFF_ENCRYPTION_KEY": generate_key(),
        "CLINIC_ENV": "test",
        **extra,
    }

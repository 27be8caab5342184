"""What visitors type into the handoff form is understood and checked."""

from __future__ import annotations

import pytest

from clinic.contact import check_contact, check_name, contact_method, optional_text


@pytest.mark.parametrize(
    "text, method",
    [
        ("email", "email"),
        ("E-mail please", "email"),
        ("ann@example.org", "email"),
        ("phone", "phone"),
        ("call me", "phone"),
        ("text my cell", "phone"),
        ("212 555 0187", "phone"),
        ("carrier pigeon", None),
    ],
)
def test_contact_method(text: str, method) -> None:
    assert contact_method(text) == method


def test_email_is_checked_and_normalised() -> None:
    assert check_contact("email", " Ann@Example.ORG ") == ("Ann@example.org", None)
    assert check_contact("email", "my email is ann@example.org thanks")[0] == "ann@example.org"
    value, problem = check_contact("email", "ann@example")
    assert value is None and "name@example.com" in problem


def test_phone_is_normalised_to_e164() -> None:
    assert check_contact("phone", "(212) 555-0187") == ("+12125550187", None)
    assert check_contact("phone", "+44 20 7946 0958")[0] == "+442079460958"
    value, problem = check_contact("phone", "12345")
    assert value is None and "area code" in problem


def test_names_are_accepted_unless_they_are_clearly_not_names() -> None:
    assert check_name("  María   José ") == ("María José", None)
    assert check_name("12345")[0] is None
    assert check_name("ann@example.org")[0] is None


@pytest.mark.parametrize("text", ["skip", "Skip.", "no", "any time", "/skip"])
def test_optional_answers_can_be_skipped(text: str) -> None:
    assert optional_text(text) == ""


def test_optional_answers_are_trimmed() -> None:
    assert optional_text("  weekday   mornings ") == "weekday mornings"
    assert len(optional_text("x" * 1000)) == 300


@pytest.mark.parametrize(
    "text, is_contact",
    [
        ("ann.quixote@example.org", True),
        ("my email is stop.now@example.com.", True),
        ("(617) 555-0199", True),
        ("call me at +1 415 555 0123", True),
        ("stop", False),
        ("is the iv safe? ann@example.org", False),
        ("I'm 45", False),
        ("1234 5678 9012 3456 7890 1234", False),
    ],
)
def test_the_guard_recognises_a_message_that_is_only_contact_data(text: str, is_contact: bool) -> None:
    from clinic.nlp.contact_details_guard import is_contact_detail

    assert is_contact_detail(text) is is_contact

"""When visitors are told to expect contact, using the clinic's configured hours."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from clinic.handoff.office_hours import OfficeHours, expected_contact, format_clock
from clinic.settings import load_settings
from tests.clinic.handoff.conftest import UTC

NY = ZoneInfo("America/New_York")
HOURS = load_settings(environ={}, secrets=False).office_hours  # from content/clinic.yml


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


def test_configured_hours_come_from_clinic_yml() -> None:
    assert HOURS.time_zone == "America/New_York"
    assert (HOURS.open, HOURS.close) == (time(9, 0), time(17, 0))
    assert HOURS.days == frozenset({0, 1, 2, 3, 4})


def test_weekday_inside_hours_means_today_by_closing() -> None:
    result = expected_contact(at(2024, 3, 5, 11, 30), HOURS)  # Tuesday
    assert result.text == "by 5 PM Eastern time today"
    assert result.at == at(2024, 3, 5, 17, 0)


def test_utc_input_is_converted_to_the_clinic_zone() -> None:
    # 14:30 UTC on Monday 4 March 2024 is 9:30 EST.
    result = expected_contact(datetime(2024, 3, 4, 14, 30, tzinfo=UTC), HOURS)
    assert result.text == "by 5 PM Eastern time today"
    assert result.at == datetime(2024, 3, 4, 22, 0, tzinfo=UTC)


def test_weekday_before_opening_means_today_during_hours() -> None:
    result = expected_contact(at(2024, 3, 5, 7, 45), HOURS)
    assert result.text == "today between 9 AM and 5 PM Eastern time"
    assert result.at == at(2024, 3, 5, 17, 0)


def test_weekday_after_closing_means_next_business_day() -> None:
    result = expected_contact(at(2024, 3, 5, 17, 0), HOURS)  # exactly closing time: closed
    assert result.text == "on the next business day, Wednesday, between 9 AM and 5 PM Eastern time"
    assert result.at == at(2024, 3, 6, 17, 0)


def test_friday_evening_means_monday() -> None:
    result = expected_contact(at(2024, 3, 1, 18, 15), HOURS)
    assert result.text == "on the next business day, Monday, between 9 AM and 5 PM Eastern time"
    assert result.at == at(2024, 3, 4, 17, 0)


@pytest.mark.parametrize("day", [2, 3])  # Saturday 2 and Sunday 3 March 2024
def test_weekend_means_monday(day: int) -> None:
    result = expected_contact(at(2024, 3, day, 12, 0), HOURS)
    assert result.text == "on the next business day, Monday, between 9 AM and 5 PM Eastern time"
    assert result.at == at(2024, 3, 4, 17, 0)


def test_daylight_saving_change_over_the_weekend() -> None:
    # Clocks go forward on Sunday 10 March 2024: Monday 17:00 is 21:00 UTC, not 22:00.
    result = expected_contact(at(2024, 3, 8, 20, 0), HOURS)
    assert result.at.astimezone(UTC) == datetime(2024, 3, 11, 21, 0, tzinfo=UTC)


def test_closed_dates_roll_over_and_far_dates_are_spelled_out() -> None:
    hours = OfficeHours(
        time_zone="America/New_York",
        open=time(9, 30),
        close=time(16, 0),
        closed_dates=frozenset({date(2024, 12, 25)} | {date(2024, 12, d) for d in range(26, 32)}),
        time_zone_label="Eastern",
    )
    on_christmas = expected_contact(at(2024, 12, 25, 10, 0), hours)
    assert on_christmas.text == (
        "on the next business day, Wednesday, January 1, between 9:30 AM and 4 PM Eastern time"
    )
    assert on_christmas.at == at(2025, 1, 1, 16, 0)


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        expected_contact(datetime(2024, 3, 5, 11, 0), HOURS)


def test_clock_words() -> None:
    assert [format_clock(time(h, m)) for h, m in [(0, 0), (9, 0), (12, 0), (13, 5), (17, 30)]] == [
        "12 AM",
        "9 AM",
        "12 PM",
        "1:05 PM",
        "5:30 PM",
    ]

"""When a visitor can expect a care coordinator to contact them.

The bot repeats this promise to the visitor word for word, so it must be honest:
inside office hours the team answers the same day (by closing time); outside office
hours, on weekends and on closed days the request waits for the next open day.
Everything here is a pure function of "now" and the configured hours, which keeps it
easy to test across weekdays, weekends and daylight-saving changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LONG_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Looking further ahead than this means the configuration has no open day at all.
_MAX_LOOKAHEAD_DAYS = 400


@dataclass(frozen=True)
class OfficeHours:
    """Opening hours of the care team in one time zone.

    ``days`` holds weekday numbers (Monday = 0). ``closed_dates`` are local dates
    (holidays) on which nobody answers even though the weekday is open.
    """

    time_zone: str
    open: time
    close: time
    days: frozenset[int] = frozenset(range(5))
    closed_dates: frozenset[date] = field(default_factory=frozenset)
    time_zone_label: str = ""

    def __post_init__(self) -> None:
        if self.open >= self.close:
            raise ValueError("office hours must open before they close")
        if not self.days:
            raise ValueError("office hours need at least one open weekday")
        if not set(self.days) <= set(range(7)):
            raise ValueError("office hours days must be weekday numbers 0-6 (Monday = 0)")
        ZoneInfo(self.time_zone)  # fail early on a misspelt zone name

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_open_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.closed_dates

    def zone_words(self) -> str:
        """'Eastern time' for the visitor; falls back to the zone's abbreviation."""
        if self.time_zone_label:
            return f"{self.time_zone_label} time"
        return f"{datetime.now(self.tz).tzname()} time"


@dataclass(frozen=True)
class ContactExpectation:
    """The latest moment we promise contact by, and the same promise in plain words."""

    at: datetime
    text: str


def format_clock(value: time) -> str:
    """'5 PM', '9:30 AM', '12 PM' - how people say times, not '17:00'."""
    hour12 = value.hour % 12 or 12
    suffix = "AM" if value.hour < 12 else "PM"
    if value.minute:
        return f"{hour12}:{value.minute:02d} {suffix}"
    return f"{hour12} {suffix}"


def _local_closing(day: date, hours: OfficeHours) -> datetime:
    # Building the datetime with tzinfo lets zoneinfo pick the right UTC offset
    # for that particular date (daylight saving time included).
    return datetime.combine(day, hours.close, tzinfo=hours.tz)


def next_open_day(after: date, hours: OfficeHours) -> date:
    """The first open day strictly after ``after``."""
    day = after
    for _ in range(_MAX_LOOKAHEAD_DAYS):
        day += timedelta(days=1)
        if hours.is_open_day(day):
            return day
    raise ValueError("office hours configuration has no open day in the coming year")


def expected_contact(now: datetime, hours: OfficeHours) -> ContactExpectation:
    """When a request made at ``now`` will be answered, per the office hours.

    - Open day, during hours: today, by closing time.
    - Open day, before opening: today, during hours.
    - After closing, on a closed weekday, weekend or holiday: the next open day.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    local = now.astimezone(hours.tz)
    today = local.date()
    window = f"between {format_clock(hours.open)} and {format_clock(hours.close)} {hours.zone_words()}"

    if hours.is_open_day(today):
        if hours.open <= local.time() < hours.close:
            return ContactExpectation(
                at=_local_closing(today, hours),
                text=f"by {format_clock(hours.close)} {hours.zone_words()} today",
            )
        if local.time() < hours.open:
            return ContactExpectation(at=_local_closing(today, hours), text=f"today {window}")

    day = next_open_day(today, hours)
    day_words = _LONG_DAY_NAMES[day.weekday()]
    if (day - today).days > 6:
        # "Monday" alone would be ambiguous more than a week ahead (long holidays).
        day_words += f", {_MONTH_NAMES[day.month - 1]} {day.day}"
    return ContactExpectation(
        at=_local_closing(day, hours),
        text=f"on the next business day, {day_words}, {window}",
    )

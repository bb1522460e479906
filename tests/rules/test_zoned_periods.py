"""Global rotation in a time zone (`rules/periods.py`): a local reset time, a week start, DST both ways.

By example: 04:00 Tokyo, weeks from Sunday, a New York day of 23 h (spring forward) and of 25 h (fall
back), a reset time inside the skipped hour (read with the offset before the change) and inside the
repeated hour (its first occurrence). Then the properties every calendar has, on random zones, reset
times and week starts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from challenge_service.rules.periods import WEEKDAYS, Calendar, Schedule, calendar, period_end, period_start
from tests.helpers.catalog import make_rotation

TICK = timedelta(microseconds=1)
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def cal(schedule: Schedule, zone: str, reset: str = "00:00", week_start: str = "monday") -> Calendar:
    return calendar(
        make_rotation(schedule, reset_time=reset, timezone=zone, week_start=week_start)  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("calendar_", "now", "start", "end"),
    [
        # 04:00 in Tokyo (UTC+9, no DST) is 19:00 UTC the day before.
        (cal("daily", "Asia/Tokyo", "04:00"), utc(2026, 7, 4, 12), utc(2026, 7, 3, 19), utc(2026, 7, 4, 19)),
        # 03:59 Tokyo time still belongs to the previous day's period.
        (
            cal("daily", "Asia/Tokyo", "04:00"),
            utc(2026, 7, 4, 18, 59),
            utc(2026, 7, 3, 19),
            utc(2026, 7, 4, 19),
        ),
        # Exactly at the reset: the new period.
        (cal("daily", "Asia/Tokyo", "04:00"), utc(2026, 7, 4, 19), utc(2026, 7, 4, 19), utc(2026, 7, 5, 19)),
        # Weeks from Sunday 04:00 Tokyo: Saturday 2026-07-04 12:00 UTC is Saturday 21:00 in Tokyo.
        (
            cal("weekly", "Asia/Tokyo", "04:00", "sunday"),
            utc(2026, 7, 4, 12),
            utc(2026, 6, 27, 19),
            utc(2026, 7, 4, 19),
        ),
        # Months from the 1st at 06:00 New York time (EDT, UTC-4 in July; EST, UTC-5 in December).
        (
            cal("monthly", "America/New_York", "06:00"),
            utc(2026, 7, 15),
            utc(2026, 7, 1, 10),
            utc(2026, 8, 1, 10),
        ),
        (
            cal("monthly", "America/New_York", "06:00"),
            utc(2026, 12, 31, 12),
            utc(2026, 12, 1, 11),
            utc(2027, 1, 1, 11),
        ),
        # Spring forward (2026-03-08 in New York): the day from midnight lasts 23 hours.
        (cal("daily", "America/New_York"), utc(2026, 3, 8, 12), utc(2026, 3, 8, 5), utc(2026, 3, 9, 4)),
        # Fall back (2026-11-01): 25 hours.
        (cal("daily", "America/New_York"), utc(2026, 11, 1, 12), utc(2026, 11, 1, 4), utc(2026, 11, 2, 5)),
        # A reset at 02:30, which 2026-03-08 skips: the offset before the change applies (EST), so the
        # period starts at 07:30 UTC, which the clocks show as 03:30 EDT.
        (
            cal("daily", "America/New_York", "02:30"),
            utc(2026, 3, 8, 12),
            utc(2026, 3, 8, 7, 30),
            utc(2026, 3, 9, 6, 30),
        ),
        # A reset at 01:30, which 2026-11-01 shows twice: the first time (EDT, 05:30 UTC).
        (
            cal("daily", "America/New_York", "01:30"),
            utc(2026, 11, 1, 12),
            utc(2026, 11, 1, 5, 30),
            utc(2026, 11, 2, 6, 30),
        ),
        # The default calendar is the reference's: 00:00 UTC, weeks from Monday.
        (cal("weekly", "UTC"), utc(2025, 3, 16, 23), utc(2025, 3, 10), utc(2025, 3, 17)),
    ],
)
def test_zoned_periods_by_example(calendar_: Calendar, now: datetime, start: datetime, end: datetime) -> None:
    assert period_start(calendar_, now) == start
    assert period_end(calendar_, now) == end


def test_a_day_across_a_clock_change_lasts_23_or_25_hours() -> None:
    # With a 04:00 reset the short day is the one from Saturday 04:00 EST to Sunday 04:00 EDT.
    daily = cal("daily", "America/New_York", "04:00")
    spring = utc(2026, 3, 7, 12)
    fall = utc(2026, 10, 31, 12)
    assert period_end(daily, spring) - period_start(daily, spring) == timedelta(hours=23)
    assert period_end(daily, fall) - period_start(daily, fall) == timedelta(hours=25)
    # The local reset time is kept on both sides of the change.
    for instant in (period_start(daily, spring), period_end(daily, spring), period_end(daily, fall)):
        assert instant.astimezone(NEW_YORK).strftime("%H:%M") == "04:00"


ZONES = ("UTC", "Asia/Tokyo", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu")
calendars = st.builds(
    cal,
    st.sampled_from(("daily", "weekly", "monthly")),
    st.sampled_from(ZONES),
    st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from((0, 15, 30, 59))),
    st.sampled_from(WEEKDAYS),
)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@given(calendar_=calendars, now=instants)
def test_zoned_periods_tile_time(calendar_: Calendar, now: datetime) -> None:
    start, end = period_start(calendar_, now), period_end(calendar_, now)
    assert start <= now < end
    assert period_start(calendar_, start) == start
    assert period_start(calendar_, end) == end
    assert period_end(calendar_, end - TICK) == end


@given(calendar_=calendars, now=instants)
def test_a_period_lasts_its_schedule_give_or_take_a_clock_change(calendar_: Calendar, now: datetime) -> None:
    length = period_end(calendar_, now) - period_start(calendar_, now)
    # Lord Howe moves its clocks by 30 minutes, the others by an hour at most.
    slack = timedelta(hours=1)
    if calendar_.schedule == "daily":
        assert abs(length - timedelta(days=1)) <= slack
    elif calendar_.schedule == "weekly":
        assert abs(length - timedelta(days=7)) <= slack
    else:
        assert timedelta(days=28) - slack <= length <= timedelta(days=31) + slack


@given(calendar_=calendars, now=instants)
def test_a_weekly_period_starts_on_its_week_start(calendar_: Calendar, now: datetime) -> None:
    if calendar_.schedule != "weekly":
        return
    local = period_start(calendar_, now).astimezone(calendar_.zone)
    # A reset time the clocks skip that day is shown an hour later, still on the same day.
    assert local.weekday() == calendar_.week_start

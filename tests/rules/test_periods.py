"""Rotation periods (`rules/periods.py`): UTC days, ISO weeks from Monday, calendar months.

Boundaries by example (day, week and month ends, leap years, December to January, instants exactly on
a boundary, non-UTC input), then the properties every period has, and the ledger's `claim_period`
agreeing with them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from challenge_service.claims.rules import claim_period
from challenge_service.rules.periods import Schedule, period_end, period_start
from tests.helpers.catalog import make_rotation

SCHEDULES: tuple[Schedule, ...] = ("daily", "weekly", "monthly")
TICK = timedelta(microseconds=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "now", "start", "end"),
    [
        # A Wednesday mid-morning.
        ("daily", utc(2025, 3, 12, 10, 30), utc(2025, 3, 12), utc(2025, 3, 13)),
        ("weekly", utc(2025, 3, 12, 10, 30), utc(2025, 3, 10), utc(2025, 3, 17)),
        ("monthly", utc(2025, 3, 12, 10, 30), utc(2025, 3, 1), utc(2025, 4, 1)),
        # Exactly on a boundary: the instant opens the new period.
        ("daily", utc(2025, 3, 13), utc(2025, 3, 13), utc(2025, 3, 14)),
        ("weekly", utc(2025, 3, 17), utc(2025, 3, 17), utc(2025, 3, 24)),
        ("monthly", utc(2025, 4, 1), utc(2025, 4, 1), utc(2025, 5, 1)),
        # The last microsecond before a boundary still belongs to the old period.
        ("daily", utc(2025, 3, 12, 23, 59, 59, 999_999), utc(2025, 3, 12), utc(2025, 3, 13)),
        ("weekly", utc(2025, 3, 16, 23, 59, 59, 999_999), utc(2025, 3, 10), utc(2025, 3, 17)),
        ("monthly", utc(2025, 3, 31, 23, 59, 59, 999_999), utc(2025, 3, 1), utc(2025, 4, 1)),
        # Sunday belongs to the week that started the Monday before.
        ("weekly", utc(2025, 3, 16, 12), utc(2025, 3, 10), utc(2025, 3, 17)),
        # December to January, for every schedule.
        ("daily", utc(2024, 12, 31, 18), utc(2024, 12, 31), utc(2025, 1, 1)),
        ("weekly", utc(2024, 12, 31, 18), utc(2024, 12, 30), utc(2025, 1, 6)),
        ("weekly", utc(2025, 1, 2), utc(2024, 12, 30), utc(2025, 1, 6)),
        ("monthly", utc(2024, 12, 31, 23, 59), utc(2024, 12, 1), utc(2025, 1, 1)),
        ("monthly", utc(2025, 1, 1), utc(2025, 1, 1), utc(2025, 2, 1)),
        # February, leap and not.
        ("daily", utc(2024, 2, 28, 12), utc(2024, 2, 28), utc(2024, 2, 29)),
        ("daily", utc(2024, 2, 29, 12), utc(2024, 2, 29), utc(2024, 3, 1)),
        ("daily", utc(2025, 2, 28, 12), utc(2025, 2, 28), utc(2025, 3, 1)),
        ("monthly", utc(2024, 2, 29, 23), utc(2024, 2, 1), utc(2024, 3, 1)),
        ("monthly", utc(2025, 2, 28, 23), utc(2025, 2, 1), utc(2025, 3, 1)),
        ("monthly", utc(2000, 2, 15), utc(2000, 2, 1), utc(2000, 3, 1)),  # divisible by 400: leap
        ("weekly", utc(2024, 2, 29), utc(2024, 2, 26), utc(2024, 3, 4)),
        # Months of every length end on the right day.
        ("monthly", utc(2025, 1, 31, 12), utc(2025, 1, 1), utc(2025, 2, 1)),
        ("monthly", utc(2025, 4, 30, 12), utc(2025, 4, 1), utc(2025, 5, 1)),
        ("monthly", utc(2025, 11, 30, 12), utc(2025, 11, 1), utc(2025, 12, 1)),
    ],
)
def test_period_bounds(schedule: Schedule, now: datetime, start: datetime, end: datetime) -> None:
    assert (period_start(schedule, now), period_end(schedule, now)) == (start, end)


@pytest.mark.parametrize(
    ("schedule", "now", "start", "end"),
    [
        # 01:00 at +05:00 is 20:00 UTC the day before.
        (
            "daily",
            datetime(2025, 3, 12, 1, tzinfo=timezone(timedelta(hours=5))),
            utc(2025, 3, 11),
            utc(2025, 3, 12),
        ),
        # Monday 02:00 at +03:00 is still Sunday in UTC: last week.
        (
            "weekly",
            datetime(2025, 3, 17, 2, tzinfo=timezone(timedelta(hours=3))),
            utc(2025, 3, 10),
            utc(2025, 3, 17),
        ),
        # 28 February 22:00 at -05:00 is already 1 March in UTC: the new month.
        (
            "monthly",
            datetime(2025, 2, 28, 22, tzinfo=timezone(timedelta(hours=-5))),
            utc(2025, 3, 1),
            utc(2025, 4, 1),
        ),
        # New Year's Eve 20:00 at -04:00 is New Year's Day in UTC: the new year.
        (
            "monthly",
            datetime(2024, 12, 31, 20, tzinfo=timezone(timedelta(hours=-4))),
            utc(2025, 1, 1),
            utc(2025, 2, 1),
        ),
    ],
)
def test_periods_are_utc_whatever_the_input_offset(
    schedule: Schedule, now: datetime, start: datetime, end: datetime
) -> None:
    assert (period_start(schedule, now), period_end(schedule, now)) == (start, end)
    assert period_start(schedule, now).utcoffset() == timedelta(0)


offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda minutes: timezone(timedelta(minutes=minutes)))
instants = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2199, 12, 31), timezones=offsets)
schedules = st.sampled_from(SCHEDULES)
LENGTHS = {"daily": {1}, "weekly": {7}, "monthly": {28, 29, 30, 31}}


@given(schedule=schedules, now=instants)
def test_every_instant_lies_in_one_period_that_starts_at_utc_midnight(
    schedule: Schedule, now: datetime
) -> None:
    start, end = period_start(schedule, now), period_end(schedule, now)
    assert start <= now < end
    assert start.tzinfo is UTC and end.tzinfo is UTC
    assert (start.hour, start.minute, start.second, start.microsecond) == (0, 0, 0, 0)
    assert (end - start).days in LENGTHS[schedule] and (end - start).seconds == 0
    if schedule == "weekly":
        assert start.weekday() == 0
    if schedule == "monthly":
        assert start.day == 1 and end.day == 1


@given(schedule=schedules, now=instants)
def test_periods_tile_time(schedule: Schedule, now: datetime) -> None:
    start, end = period_start(schedule, now), period_end(schedule, now)
    assert period_start(schedule, start) == start  # a start is in its own period
    assert period_start(schedule, end) == end  # the end opens the next period
    assert period_end(schedule, end - TICK) == end  # and the instant before it is still this one


@given(schedule=schedules, now=instants)
def test_the_period_does_not_depend_on_how_the_instant_is_written(schedule: Schedule, now: datetime) -> None:
    as_utc = now.astimezone(UTC)
    assert period_start(schedule, now) == period_start(schedule, as_utc)
    assert period_end(schedule, now) == period_end(schedule, as_utc)


@given(schedule=schedules, now=instants)
def test_the_ledger_period_of_a_row_is_the_start_of_the_period_it_expires_after(
    schedule: Schedule, now: datetime
) -> None:
    # A row assigned at `now` expires at the period's end; claims and operators name the period by its start.
    expected = period_start(schedule, now).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert claim_period(make_rotation(schedule), period_end(schedule, now)) == expected


def test_goals_without_rotation_have_one_ledger_period() -> None:
    assert claim_period(None, None) == ""
    assert claim_period(None, utc(2025, 3, 13)) == ""
    assert claim_period(make_rotation("daily"), None) == ""

"""Global rotation periods: a day, a week or a calendar month, starting at a local time in a time zone.

A `Calendar` says when periods start: `schedule`, the IANA `zone`, the local `reset` time and, for
weekly periods, the weekday a week starts on. The default calendar is the reference's: 00:00 UTC, weeks
from Monday. Periods tile time: each ends where the next starts, so `period_end(c, t)` is
`period_start(c, period_end(c, t))`.

Daylight saving time is honoured: a daily period that spans a clock change lasts 23 or 25 hours. A reset
time that does not exist on some day (it falls into the hour the clocks skip) or exists twice (the hour
they repeat) is read as RFC 5545 (iCalendar) reads such local times: a skipped time with the UTC offset
in force before the change — 02:30 on a spring-forward night in New York is 03:30 EDT, an hour after
02:30 EST would have been — and a repeated time at its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from challenge_service.catalog.model import Rotation, Weekday

Schedule = Literal["daily", "weekly", "monthly"]
WEEKDAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class Calendar:
    """When the periods of a global rotation start."""

    schedule: Schedule
    zone: tzinfo = UTC
    reset: time = time()
    week_start: int = 0  # Monday, as date.weekday() counts


def calendar(rotation: Rotation) -> Calendar:
    """The calendar of a global rotation (its schedule must be set)."""
    return _calendar(
        rotation.schedule or "daily", rotation.timezone, rotation.reset_time, rotation.week_start
    )


@lru_cache(maxsize=256)
def _calendar(schedule: Schedule, zone: str, reset_time: str, week_start: Weekday) -> Calendar:
    hours, minutes = reset_time.split(":")
    return Calendar(
        schedule,
        UTC if zone == "UTC" else ZoneInfo(zone),
        time(int(hours), int(minutes)),
        WEEKDAYS.index(week_start),
    )


def period_start(schedule: Calendar | Schedule, now: datetime) -> datetime:
    """The start (UTC) of the period containing `now`; a bare schedule means the default calendar."""
    return _period(_as_calendar(schedule), now)[1]


def period_end(schedule: Calendar | Schedule, now: datetime) -> datetime:
    """The start of the next period, which is when the current one expires."""
    cal = _as_calendar(schedule)
    first_day, _start = _period(cal, now)
    return _at(cal, _next_first_day(cal, first_day))


def _as_calendar(schedule: Calendar | Schedule) -> Calendar:
    return schedule if isinstance(schedule, Calendar) else Calendar(schedule)


def _period(cal: Calendar, now: datetime) -> tuple[date, datetime]:
    """The first local day and the start instant of the period containing `now`."""
    day = _first_day(cal, now.astimezone(cal.zone).date())
    start = _at(cal, day)
    # Before the reset time of the local date (or of a week's or month's first day): the period of
    # that day has not begun, `now` is in the one before.
    while start > now:
        day = _first_day(cal, day - timedelta(days=1))
        start = _at(cal, day)
    return day, start


def _first_day(cal: Calendar, day: date) -> date:
    """The first local day of the period that the local date `day` belongs to."""
    if cal.schedule == "daily":
        return day
    if cal.schedule == "weekly":
        return day - timedelta(days=(day.weekday() - cal.week_start) % 7)
    return day.replace(day=1)


def _next_first_day(cal: Calendar, day: date) -> date:
    """The first local day of the period after the one that starts on `day`."""
    first = _first_day(cal, day)
    if cal.schedule == "daily":
        return first + timedelta(days=1)
    if cal.schedule == "weekly":
        return first + timedelta(days=7)
    return (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    )


def _at(cal: Calendar, day: date) -> datetime:
    """The UTC instant the local clock shows `reset` on `day`. fold=0 is RFC 5545's reading of a
    skipped or repeated local time (the offset before the change; the first occurrence)."""
    if cal.zone is UTC:
        return datetime.combine(day, cal.reset, tzinfo=UTC)
    return datetime.combine(day, cal.reset, tzinfo=cal.zone).astimezone(UTC)

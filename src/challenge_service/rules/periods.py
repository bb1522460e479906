"""Global rotation periods in UTC: a day, an ISO week starting Monday, a calendar month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

Schedule = Literal["daily", "weekly", "monthly"]


def period_start(schedule: Schedule, now: datetime) -> datetime:
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if schedule == "daily":
        return day
    if schedule == "weekly":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_end(schedule: Schedule, now: datetime) -> datetime:
    """The start of the next period, which is when the current one expires."""
    start = period_start(schedule, now)
    if schedule == "daily":
        return start + timedelta(days=1)
    if schedule == "weekly":
        return start + timedelta(days=7)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)

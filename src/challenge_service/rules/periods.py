"""Global rotation periods in UTC (SPEC §7): a day, an ISO week starting Monday, a calendar month."""

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


def period_key(schedule: Schedule | None, now: datetime) -> str:
    """Identifies the period being claimed in the reward ledger; '' for goals without rotation."""
    if schedule is None:
        return ""
    return period_start(schedule, now).strftime("%Y-%m-%dT%H:%M:%SZ")


def claim_period(schedule: Schedule | None, expires_at: datetime | None) -> str:
    """The ledger period of a stored row: the start of the period that ends at its `expires_at`.

    Derived from the row, not from `now`, so a claim and an operator agree on it whatever the time; ''
    for goals without rotation (and rows that have no expiry), which then grant once ever.
    """
    if schedule is None or expires_at is None:
        return ""
    # The period ending at `expires_at` contains the instant just before it.
    return period_key(schedule, expires_at - timedelta(microseconds=1))

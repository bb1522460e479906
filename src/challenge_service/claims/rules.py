"""The pure rules of a claim: which check refuses it, and which ledger period it grants for.

No I/O and no clock reads; the service passes the rows it read under lock and `now`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from challenge_service.catalog import Catalog, Goal
from challenge_service.claims import errors
from challenge_service.errors import DomainError
from challenge_service.rules.periods import Schedule, period_start
from challenge_service.rules.progress import Progress, is_rotated, view


def refusal(
    goal: Goal, row: Progress | None, rows: dict[str, Progress], catalog: Catalog, now: datetime
) -> DomainError | None:
    """The first failed check of a claim, in the contract's order, for a goal known to be in its
    challenge: row exists and is active → not rotated → not already claimed → completed →
    prerequisites met."""
    if row is None:
        return errors.goal_not_completed(goal.goal_id, "not_started")
    if not row.is_active:
        return errors.goal_not_active(goal.goal_id)
    if is_rotated(row, now):
        return errors.goal_rotated(goal.goal_id)
    if row.status == "claimed":
        return errors.goal_already_claimed(goal.goal_id)
    if row.status != "completed":
        return errors.goal_not_completed(goal.goal_id, row.status)
    missing = [
        prerequisite
        for prerequisite in goal.prerequisites
        if not _done(catalog.goal(prerequisite), rows.get(prerequisite), now)
    ]
    if missing:
        return errors.prerequisites_not_met(goal.goal_id, missing)
    return None


def _done(goal: Goal | None, row: Progress | None, now: datetime) -> bool:
    return goal is not None and row is not None and view(goal, row, now).status in ("completed", "claimed")


def claim_period(schedule: Schedule | None, expires_at: datetime | None) -> str:
    """The ledger period of a stored row: the start of the period that ends at its `expires_at`.

    Derived from the row, not from `now`, so a claim and an operator agree on it whatever the time; ''
    for goals without rotation (and rows that have no expiry), which then grant once ever.
    """
    if schedule is None or expires_at is None:
        return ""
    # The period ending at `expires_at` contains the instant just before it.
    start = period_start(schedule, expires_at - timedelta(microseconds=1))
    return start.strftime("%Y-%m-%dT%H:%M:%SZ")

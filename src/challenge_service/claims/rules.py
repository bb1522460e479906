"""The pure rules of a claim: which check refuses it, and which ledger period it grants for.

No I/O and no clock reads; the service passes the rows it read under lock and `now`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from challenge_service.catalog import Catalog, Goal, Rotation
from challenge_service.claims import errors
from challenge_service.errors import DomainError, challenge_not_live
from challenge_service.rules.periods import calendar, period_start
from challenge_service.rules.progress import Progress, is_rotated, view
from challenge_service.rules.windows import claimable_until, state


def refusal(
    goal: Goal, row: Progress | None, rows: dict[str, Progress], catalog: Catalog, now: datetime
) -> DomainError | None:
    """The first failed check of a claim, in the contract's order, for a goal known to be in its
    challenge: the challenge has started and its claim grace has not run out → row exists and is active →
    not rotated → not already claimed → completed → prerequisites met.

    An automatic claim the service owes (`auto_claim_at`) is honoured whatever the window and the
    period: the goal was completed while both were open, and the row waits in its period for the grant.
    """
    owed = row is not None and row.auto_claim_at is not None
    if not owed:
        refused = window_refusal(goal, catalog, now)
        if refused is not None:
            return refused
    if row is None:
        return errors.goal_not_completed(goal.goal_id, "not_started")
    if not row.is_active:
        return errors.goal_not_active(goal.goal_id)
    if is_rotated(row, now) and not owed:
        return errors.goal_rotated(goal.goal_id)
    return settled_refusal(goal, row, rows, catalog, now)


def auto_refusal(
    goal: Goal, row: Progress | None, rows: dict[str, Progress], catalog: Catalog, now: datetime
) -> DomainError | None:
    """Why the auto-claimer must not grant an owed claim (None: it may): the claim is no longer owed, or
    the goal is claimed, not completed, or locked by prerequisites. Activation, the period and the
    window do not matter: the goal was completed while all three were open."""
    if row is None:
        return errors.goal_not_completed(goal.goal_id, "not_started")
    if row.auto_claim_at is None:  # claimed by hand meanwhile, or withdrawn by an operator
        return settled_refusal(goal, row, rows, catalog, now) or errors.goal_not_completed(
            goal.goal_id, row.status
        )
    return settled_refusal(goal, row, rows, catalog, now)


def settled_refusal(
    goal: Goal, row: Progress, rows: dict[str, Progress], catalog: Catalog, now: datetime
) -> DomainError | None:
    """The checks every claim ends with: not already claimed → completed → prerequisites met."""
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


def window_refusal(goal: Goal, catalog: Catalog, now: datetime) -> DomainError | None:
    """A claim in a challenge that has not started, or whose claim grace after its end has run out."""
    challenge = catalog.challenge(goal.challenge_id)
    if challenge is None:
        return None
    current = state(challenge, now)
    if current == "upcoming":
        return challenge_not_live(challenge.challenge_id, current)
    until = claimable_until(challenge)
    if current == "ended" and until is not None and now >= until:
        return errors.challenge_ended(challenge.challenge_id, until)
    return None


def _done(goal: Goal | None, row: Progress | None, now: datetime) -> bool:
    return goal is not None and row is not None and view(goal, row, now).status in ("completed", "claimed")


def claim_period(rotation: Rotation | None, expires_at: datetime | None) -> str:
    """The ledger period of a stored row: the start (RFC 3339 UTC, whole seconds) of the period that ends
    at its `expires_at` — for a per-user period, `duration` before it.

    Derived from the row, not from `now`, so a claim, the auto-claimer and an operator agree on it
    whatever the time; '' for goals without rotation (and rows that have no expiry), which then grant
    once ever.
    """
    if rotation is None or not rotation.enabled or expires_at is None:
        return ""
    if rotation.per_user:
        start = (expires_at - timedelta(seconds=rotation.duration_s)).astimezone(UTC)
    else:
        # The period ending at `expires_at` contains the instant just before it.
        start = period_start(calendar(rotation), expires_at - timedelta(microseconds=1))
    return start.strftime("%Y-%m-%dT%H:%M:%SZ")

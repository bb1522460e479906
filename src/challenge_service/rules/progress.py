"""How a (player, goal) row changes: rotation resets, events, and what a player is shown.

A row is a `Progress` value; every rule returns a new one. The caller passes `now`.

Rotation. A row's period ends at `expires_at`. Global rotation: the period is the calendar's
(`rules.periods`), the same for every player. Per-user rotation: the period starts when the goal is
activated (or reset) and lasts the rotation's `duration`. The first touch after `expires_at` applies
`onExpiry` (`rotate`): the progress reset and reselection rules, then either a new period starts at
once, or — with `deactivate` — the goal becomes inactive and no period runs until the player activates
it again, which starts one.

Auto-claim. When an event completes an `autoClaim` goal, `auto_claim_at` records that a claim is owed
(the auto-claimer, `claims/auto.py`, grants it and marks the goal claimed). Until then the row keeps its
period: a due rotation waits, so the owed claim is for the period the goal was completed in — while the
goal is `autoClaim`; once a catalog reload drops the flag, the row rotates as any other (and the
auto-claimer, finding the goal no longer completed, drops the claim), as the flush does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from challenge_service.catalog import Goal, Rotation
from challenge_service.rules.periods import calendar, period_end

Status = Literal["not_started", "in_progress", "completed", "claimed"]


@dataclass(frozen=True, slots=True)
class Progress:
    """The stored state of one (player, goal) row, as in `user_goal_progress`."""

    progress: int = 0
    baseline: int | None = None
    status: Status = "not_started"
    is_active: bool = False
    assigned_at: datetime | None = None
    completed_at: datetime | None = None
    claimed_at: datetime | None = None
    expires_at: datetime | None = None
    # An automatic claim is owed from this time on (None: none owed); the auto-claimer moves it forward
    # while it works on the row or waits to retry.
    auto_claim_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Delta:
    """Buffered events for one (player, goal), merged.

    A stat event sets the raw value (`value`) and adds its `inc`; a login adds 1 to `add` and to `inc`.
    A goal receives only one of the two kinds. Merging keeps the last value and sums the increments,
    which yields the same row as applying the events one by one.
    """

    value: int | None = None
    add: int = 0
    inc: int = 0

    def merge(self, later: Delta) -> Delta:
        return Delta(
            value=later.value if later.value is not None else self.value,
            add=self.add + later.add,
            inc=self.inc + later.inc,
        )


def login_delta(count: int = 1) -> Delta:
    return Delta(add=count, inc=count)


def stat_delta(latest_value: float, inc: float) -> Delta:
    return Delta(value=int(latest_value), inc=int(inc))


def next_expiry(rotation: Rotation, now: datetime) -> datetime:
    """The end of a period that starts (or is running) at `now`."""
    if rotation.per_user:
        return now + timedelta(seconds=rotation.duration_s)
    return period_end(calendar(rotation), now)


def initial_expiry(goal: Goal, now: datetime) -> datetime | None:
    """A new row's period end: global rotation's current one. A per-user period starts at activation."""
    rotation = goal.rotation
    if rotation is None or not rotation.enabled or rotation.per_user:
        return None
    return next_expiry(rotation, now)


def fresh(goal: Goal, now: datetime) -> Progress:
    """A row as created by initialize / set-active / select: progress 0, not started, inactive."""
    return Progress(expires_at=initial_expiry(goal, now))


def started(goal: Goal, row: Progress, now: datetime) -> Progress:
    """The row as activation leaves its period. Per-user rotation, and any rotation that deactivates on
    expiry, starts a period when none is running; a running one is kept, so toggling a goal never
    extends it. Global rotation without deactivation keeps the calendar's period as it is."""
    rotation = goal.rotation
    if rotation is None or not rotation.enabled or not (rotation.per_user or rotation.deactivates):
        return row
    if row.expires_at is not None and row.expires_at > now:
        return row
    return replace(row, expires_at=next_expiry(rotation, now))


def current(goal: Goal, row: Progress | None, now: datetime) -> Progress:
    """The row a write that is not an event starts from: any due rotation reset applied (such a write
    must not hide a reset), or a fresh row when there is none."""
    return rotate(goal, row, now) if row is not None else fresh(goal, now)


def is_rotated(row: Progress, now: datetime) -> bool:
    return row.expires_at is not None and row.expires_at <= now


def rotate(goal: Goal, row: Progress, now: datetime) -> Progress:
    """Apply a due rotation reset (or return the row unchanged when none is due).

    An owed automatic claim of an `autoClaim` goal holds the row in its period until it is granted."""
    rotation = goal.rotation
    if rotation is None or not rotation.enabled or not is_rotated(row, now):
        return row
    if row.auto_claim_at is not None and goal.auto_claim:
        return row
    if rotation.deactivates:
        # No new period until the player picks the goal again (`started`).
        moved = replace(row, is_active=False)
    else:
        moved = replace(row, expires_at=next_expiry(rotation, now))
    on_expiry = rotation.on_expiry
    if row.status == "claimed":
        # A claimed goal comes back only when reselection is allowed; otherwise it stays claimed so
        # the reward can never be granted twice.
        if not on_expiry.allow_reselection:
            return moved
    elif not on_expiry.reset_progress:
        return moved
    return replace(moved, baseline=None, status="not_started", completed_at=None, claimed_at=None)


def displayed(goal: Goal, row: Progress) -> int:
    if goal.requirement.progress_mode == "absolute":
        return row.progress
    if row.baseline is None:
        return 0
    return max(row.progress - row.baseline, 0)


def apply(goal: Goal, row: Progress, delta: Delta, now: datetime, *, live: bool = True) -> Progress:
    """One flush of buffered events onto a row: rotation first, then the events. Inactive rows, and
    every row of a challenge that is not `live` (`rules.windows`), do not move at all; a row its
    rotation deactivates takes no events; a claimed row moves only if rotation resets it for
    reselection. Completing an `autoClaim` goal records the owed claim (`auto_claim_at`)."""
    if not live or not row.is_active:
        return row
    row = rotate(goal, row, now)
    if row.status == "claimed" or not row.is_active:
        return row
    raw = delta.value if delta.value is not None else row.progress + delta.add
    baseline = row.baseline
    if goal.requirement.progress_mode == "relative" and baseline is None:
        # The baseline excludes this batch's own increments so the first event counts.
        baseline = raw - delta.inc
    row = replace(row, progress=raw, baseline=baseline)
    if row.status == "completed":
        return row
    if displayed(goal, row) >= goal.requirement.target_value:
        return replace(row, status="completed", completed_at=now, auto_claim_at=_owed(goal, row, now))
    return replace(row, status="in_progress")


def _owed(goal: Goal, row: Progress, now: datetime) -> datetime | None:
    """`auto_claim_at` of a row that completes now: an `autoClaim` goal's claim is owed from now on (a
    claim already owed keeps its time)."""
    return row.auto_claim_at or (now if goal.auto_claim else None)


def view(goal: Goal, row: Progress | None, now: datetime) -> Progress:
    """What a player is shown: the stored row with any due reset applied (reads show
    the reset state before it is persisted); a missing row reads as a fresh, inactive one."""
    if row is None:
        return Progress()
    return rotate(goal, row, now)


def locked(
    goal: Goal, rows: Mapping[str, Progress], now: datetime, lookup: Callable[[str], Goal | None]
) -> bool:
    """Some prerequisite is neither completed nor claimed (as displayed after rotation)."""
    for prerequisite in goal.prerequisites:
        row = rows.get(prerequisite)
        other = lookup(prerequisite)
        if row is None or other is None or view(other, row, now).status not in ("completed", "claimed"):
            return True
    return False


def set_displayed(goal: Goal, row: Progress | None, value: int, now: datetime) -> Progress:
    """An operator sets the progress the player sees to `value` (≥ 0); the status follows from it.

    absolute: the raw value becomes `value`. relative: the raw value stays the last one events
    reported and the baseline moves to raw − value, so later events count on from `value`. (Before the
    first event after an activation or reset, the stored raw value — 0 for a new row — stands in for
    the stat's, so the next event may jump by the stat's real value.)

    Status: a claimed goal stays claimed (its reward is granted; only `reset` reopens it); otherwise
    completed when `value` reaches the target (keeping the first `completed_at`; an `autoClaim` goal's
    claim becomes owed, as when an event completes it), in_progress above 0, not_started at 0 (an owed
    claim is withdrawn).
    """
    row = current(goal, row, now)
    if goal.requirement.progress_mode == "absolute":
        row = replace(row, progress=value)
    else:
        row = replace(row, baseline=row.progress - value)
    if row.status == "claimed":
        return row
    if value >= goal.requirement.target_value:
        return replace(
            row, status="completed", completed_at=row.completed_at or now, auto_claim_at=_owed(goal, row, now)
        )
    return replace(
        row, status="in_progress" if value > 0 else "not_started", completed_at=None, auto_claim_at=None
    )


def reset(goal: Goal, row: Progress | None, now: datetime) -> Progress:
    """An operator's reset: not started, progress 0, no baseline, neither completed nor claimed — a
    claimed goal too, and an owed automatic claim is withdrawn. Activation and the row's current period
    stay. An absolute goal shows the stat's value again with its next event: a reset cannot undo the
    stat itself."""
    return replace(
        current(goal, row, now),
        progress=0,
        baseline=None,
        status="not_started",
        completed_at=None,
        claimed_at=None,
        auto_claim_at=None,
    )

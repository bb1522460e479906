"""Which goals a player works on: initialize, activate/deactivate, batch and random selection.

Pure: the caller passes the player's rows (as stored, locked for update) and `now`; every function
returns the new state of the rows it touches. Each touched row first gets any due rotation reset, so a
write that is not an event never hides a reset.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from challenge_service.catalog import Catalog, Challenge, Goal
from challenge_service.rules.progress import Progress, current, locked, rotate, started, view
from challenge_service.rules.windows import is_live


def activate(goal: Goal, row: Progress | None, now: datetime) -> Progress:
    """Activating (re)starts the assignment clock, and a per-user period when none is running;
    progress survives toggling."""
    return started(goal, replace(current(goal, row, now), is_active=True, assigned_at=now), now)


def deactivate(goal: Goal, row: Progress | None, now: datetime) -> Progress:
    return replace(current(goal, row, now), is_active=False)


@dataclass(frozen=True, slots=True)
class Changes:
    """New state of the rows a request touches: `created` rows do not exist yet, `updated` ones do."""

    created: dict[str, Progress] = field(default_factory=dict)
    updated: dict[str, Progress] = field(default_factory=dict)

    def merged(self, rows: Mapping[str, Progress]) -> dict[str, Progress]:
        """The player's rows once these changes are written."""
        return {**rows, **self.updated, **self.created}


def _record(changes: Changes, goal_id: str, before: Progress | None, after: Progress) -> None:
    if before is None:
        changes.created[goal_id] = after
    elif after != before:
        changes.updated[goal_id] = after


def initialize(catalog: Catalog, rows: Mapping[str, Progress], now: datetime) -> Changes:
    """Create missing default goals of live challenges (first call and config sync) and persist every
    due rotation reset.

    A default goal the player has since deactivated keeps its row untouched: initialize never
    re-activates it. A default goal of a challenge that is not live yet is assigned by the first
    initialize once it is.
    """
    changes = Changes()
    for goal in _assignable_defaults(catalog, rows, now):
        changes.created[goal.goal_id] = activate(goal, None, now)
    for goal_id, row in rows.items():
        known = catalog.goal(goal_id)
        if known is not None:
            _record(changes, goal_id, row, rotate(known, row, now))
    return changes


def needs_initialize(catalog: Catalog, rows: Mapping[str, Progress], now: datetime) -> bool:
    """Whether `initialize` would write anything; lets the common repeat call stay a single read."""
    if next(_assignable_defaults(catalog, rows, now), None) is not None:
        return True
    for goal_id, row in rows.items():
        goal = catalog.goal(goal_id)
        if goal is not None and rotate(goal, row, now) != row:
            return True
    return False


def _assignable_defaults(catalog: Catalog, rows: Mapping[str, Progress], now: datetime) -> Iterator[Goal]:
    """Default goals the player has no row for, of challenges that are live."""
    for goal in catalog.default_goals:
        if goal.goal_id not in rows:
            challenge = catalog.challenge(goal.challenge_id)
            if challenge is not None and is_live(challenge, now):
                yield goal


def set_active(goal: Goal, row: Progress | None, is_active: bool, now: datetime) -> Changes:
    changes = Changes()
    after = activate(goal, row, now) if is_active else deactivate(goal, row, now)
    _record(changes, goal.goal_id, row, after)
    return changes


@dataclass(frozen=True, slots=True)
class Selection:
    changes: Changes
    # Goals deactivated because of `replace_existing`, in challenge order.
    replaced: list[str]
    # The user's active goals in the challenge once the changes are written.
    total_active: int


def select(
    challenge: Challenge,
    chosen: Sequence[Goal],
    rows: Mapping[str, Progress],
    now: datetime,
    replace_existing: bool,
) -> Selection:
    """Activate `chosen`; with `replace_existing` first deactivate the challenge's other active goals."""
    changes = Changes()
    chosen_ids = {goal.goal_id for goal in chosen}
    replaced: list[str] = []
    if replace_existing:
        for goal in challenge.goals:
            row = rows.get(goal.goal_id)
            if goal.goal_id not in chosen_ids and row is not None and row.is_active:
                replaced.append(goal.goal_id)
                _record(changes, goal.goal_id, row, deactivate(goal, row, now))
    for goal in chosen:
        row = rows.get(goal.goal_id)
        _record(changes, goal.goal_id, row, activate(goal, row, now))
    after = changes.merged(rows)
    total = sum(1 for goal in challenge.goals if goal.goal_id in after and after[goal.goal_id].is_active)
    return Selection(changes, replaced, total)


def random_pool(
    catalog: Catalog,
    challenge: Challenge,
    rows: Mapping[str, Progress],
    now: datetime,
    exclude_active: bool,
) -> list[Goal]:
    """Goals random-select may pick, in challenge order: not completed or claimed (as displayed after
    rotation), prerequisites met, and not already active when `exclude_active`."""
    pool = []
    for goal in challenge.goals:
        shown = view(goal, rows.get(goal.goal_id), now)
        if shown.status in ("completed", "claimed"):
            continue
        if exclude_active and shown.is_active:
            continue
        if locked(goal, rows, now, catalog.goal):
            continue
        pool.append(goal)
    return pool


def sample(pool: Sequence[Goal], count: int, rng: random.Random) -> list[Goal]:
    """A uniform sample of `count` goals without repeats; the whole pool when it is not larger."""
    if len(pool) <= count:
        return list(pool)
    return rng.sample(list(pool), count)


def prerequisite_ids(goals: Iterable[Goal]) -> set[str]:
    return {prerequisite for goal in goals for prerequisite in goal.prerequisites}

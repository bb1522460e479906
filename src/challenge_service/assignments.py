"""Which goals a player works on: initialize, set-active, batch-select and random-select.

Each call is one flow: read (and lock) the player's rows, decide with the pure rules
(`rules.selection`), write what changed (`store.assignments`, which explains the locking), and return
the goals as the player now sees them. The route handlers in `api/` parse the request, call one of
these methods and render the result.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from psycopg_pool import AsyncConnectionPool

from challenge_service.catalog import Catalog, Challenge, Goal
from challenge_service.errors import DomainError, ErrorCode, challenge_not_live
from challenge_service.rules import selection
from challenge_service.rules.progress import Progress, view
from challenge_service.rules.windows import listed_by_default, state
from challenge_service.store.assignments import (
    AnyConnection,
    insert_rows,
    lock_rows,
    update_rows,
    user_transaction,
)
from challenge_service.store.database import connection
from challenge_service.store.progress import user_rows


class PlayerGoal(NamedTuple):
    """A goal with the player's row as the player sees it (any due rotation reset applied)."""

    goal: Goal
    row: Progress


@dataclass(frozen=True, slots=True)
class Initialized:
    # The player's active goals, in catalog order.
    active: list[PlayerGoal]
    # Rows this call inserted (concurrent first calls report each row once).
    new_assignments: int


@dataclass(frozen=True, slots=True)
class Selected:
    challenge_id: str
    # The chosen goals, in the order chosen.
    goals: list[PlayerGoal]
    # The player's active goals in the challenge afterwards.
    total_active: int
    # Goals deactivated by `replace_existing`, in challenge order.
    replaced: list[str]


def insufficient_goals(available: int, requested: int) -> DomainError:
    return DomainError(
        ErrorCode.INSUFFICIENT_GOALS,
        "INSUFFICIENT_GOALS: no goals available for selection "
        f"(available: {available}, requested: {requested})",
    )


class Assignments:
    """The flows of one request: it reads one catalog throughout, even if a reload swaps it meanwhile."""

    def __init__(
        self,
        catalog: Catalog,
        pool: AsyncConnectionPool,
        clock: Callable[[], datetime],
        rng: random.Random,
    ) -> None:
        self.catalog = catalog
        self._pool = pool
        self._clock = clock
        self._rng = rng

    async def initialize(self, user_id: str) -> Initialized:
        """Assign missing default goals and persist due rotation resets; the player's active goals."""
        catalog = self.catalog
        now = self._clock()
        # The usual repeat call has nothing to write: one read, no transaction.
        async with connection(self._pool) as conn:
            rows = await user_rows(conn, user_id)
        if not selection.needs_initialize(catalog, rows, now):
            return self._initialized(rows, now, 0)

        async with user_transaction(self._pool, user_id) as conn:
            rows = await lock_rows(conn, user_id)
            changes = selection.initialize(catalog, rows, now)
            inserted = await self._write(conn, user_id, changes, now)
        return self._initialized(changes.merged(rows), now, inserted)

    async def set_active(self, user_id: str, goal: Goal, is_active: bool) -> Progress:
        """Activate or deactivate one goal (creating its row when missing); the row afterwards. Only a
        live challenge's goals are activated; any goal may be deactivated."""
        now = self._clock()
        if is_active:
            self._require_live(self.catalog.require_challenge(goal.challenge_id), now)
        async with user_transaction(self._pool, user_id) as conn:
            rows = await lock_rows(conn, user_id, [goal.goal_id])
            changes = selection.set_active(goal, rows.get(goal.goal_id), is_active, now)
            await self._write(conn, user_id, changes, now)
        return changes.merged(rows)[goal.goal_id]

    async def batch_select(
        self, user_id: str, challenge: Challenge, goal_ids: Sequence[str], replace_existing: bool
    ) -> Selected:
        """Activate the named goals of `challenge`; every id must be one of its goals."""
        chosen = [self.catalog.require_goal(challenge.challenge_id, goal_id) for goal_id in goal_ids]
        now = self._clock()
        self._require_live(challenge, now)
        async with user_transaction(self._pool, user_id) as conn:
            rows = await lock_rows(conn, user_id, [g.goal_id for g in challenge.goals])
            return await self._select(conn, user_id, challenge, chosen, rows, now, replace_existing)

    async def random_select(
        self, user_id: str, challenge: Challenge, count: int, *, replace_existing: bool, exclude_active: bool
    ) -> Selected:
        """Activate up to `count` goals of `challenge` drawn at random from those the player may pick."""
        now = self._clock()
        self._require_live(challenge, now)
        # Prerequisites may live in other challenges; their rows are read (and locked) with the challenge's.
        wanted = {g.goal_id for g in challenge.goals} | selection.prerequisite_ids(challenge.goals)
        async with user_transaction(self._pool, user_id) as conn:
            rows = await lock_rows(conn, user_id, wanted)
            # Replacing deactivates the active goals, so picking them again would be no choice at all.
            pool = selection.random_pool(
                self.catalog, challenge, rows, now, exclude_active=exclude_active or replace_existing
            )
            if not pool:
                raise insufficient_goals(0, count)
            chosen = selection.sample(pool, count, self._rng)
            return await self._select(conn, user_id, challenge, chosen, rows, now, replace_existing)

    @staticmethod
    def _require_live(challenge: Challenge, now: datetime) -> None:
        current = state(challenge, now)
        if current != "live":
            raise challenge_not_live(challenge.challenge_id, current)

    async def _select(
        self,
        conn: AnyConnection,
        user_id: str,
        challenge: Challenge,
        chosen: Sequence[Goal],
        rows: dict[str, Progress],
        now: datetime,
        replace_existing: bool,
    ) -> Selected:
        """The step both selections share: decide with the pure rules, then write what changed."""
        result = selection.select(challenge, chosen, rows, now, replace_existing)
        await self._write(conn, user_id, result.changes, now)
        after = result.changes.merged(rows)
        return Selected(
            challenge_id=challenge.challenge_id,
            goals=[PlayerGoal(goal, view(goal, after[goal.goal_id], now)) for goal in chosen],
            total_active=result.total_active,
            replaced=result.replaced,
        )

    async def _write(
        self, conn: AnyConnection, user_id: str, changes: selection.Changes, now: datetime
    ) -> int:
        """Write `changes` in the caller's transaction; returns the rows actually inserted."""
        inserted = await insert_rows(conn, user_id, self._with_challenge(changes.created), now)
        await update_rows(conn, user_id, self._with_challenge(changes.updated), now)
        return len(inserted)

    def _with_challenge(self, rows: dict[str, Progress]) -> dict[str, tuple[str, Progress]]:
        result = {}
        for goal_id, row in rows.items():
            goal = self.catalog.goal(goal_id)
            result[goal_id] = (goal.challenge_id if goal else "", row)
        return result

    def _initialized(self, rows: dict[str, Progress], now: datetime, inserted: int) -> Initialized:
        # Catalog order, the challenges `GET /v1/challenges` lists; `view` shows a due reset (or a
        # per-user expiry that deactivates the goal) even on the read-only path.
        active = []
        for challenge in self.catalog.challenges:
            if not listed_by_default(challenge, now):
                continue
            for goal in challenge.goals:
                row = rows.get(goal.goal_id)
                shown = view(goal, row, now) if row is not None else None
                if shown is not None and shown.is_active:
                    active.append(PlayerGoal(goal, shown))
        return Initialized(active=active, new_assignments=inserted)

"""An operator looks at one player and fixes a goal: the player's full state, set progress, reset.

Writes run like the player's own REST writes (`store/assignments.py`): one transaction holding the
player's write lock and the row lock, the new row decided by the pure rules (`rules/progress.py:
set_displayed`, `reset`), the audit record written in the same transaction (`admin/audit.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from challenge_service.admin import audit, errors
from challenge_service.catalog import Catalog, Goal
from challenge_service.rules import progress
from challenge_service.rules.progress import Progress
from challenge_service.store.assignments import AnyConnection, insert_rows, update_rows, user_transaction
from challenge_service.store.database import connection
from challenge_service.store.progress import StoredRow, stored_rows


@dataclass(frozen=True, slots=True)
class GoalChange:
    """One operator write: the goal, its row before (None: there was none) and after, as stored."""

    goal: Goal
    before: StoredRow | None
    after: StoredRow


class PlayerAdmin:
    """The operator's actions on players, over the catalog as it is now (one per request)."""

    def __init__(self, catalog: Catalog, pool: AsyncConnectionPool, clock: Callable[[], datetime]) -> None:
        self.catalog = catalog
        self._pool = pool
        self._clock = clock

    async def state(self, user_id: str) -> dict[str, StoredRow]:
        """Every stored row of the player by goal id; none for a player the service has never seen."""
        async with connection(self._pool) as conn:
            return {stored.goal_id: stored for stored in await stored_rows(conn, user_id)}

    async def set_progress(self, actor: str, user_id: str, goal_id: str, value: int) -> GoalChange:
        """Make the player see `value` as the goal's progress (creating the row, inactive, when missing)."""
        return await self._change(
            actor,
            user_id,
            goal_id,
            "set_progress",
            {"progress": value},
            lambda goal, row, now: progress.set_displayed(goal, row, value, now),
        )

    async def reset_goal(self, actor: str, user_id: str, goal_id: str) -> GoalChange:
        """Put the goal back to the start, a claimed one too (the ledger still refuses a second grant of
        the same period: a reset never pays a reward twice)."""
        return await self._change(actor, user_id, goal_id, "reset_goal", {}, progress.reset)

    async def _change(
        self,
        actor: str,
        user_id: str,
        goal_id: str,
        action: audit.AuditAction,
        request: Mapping[str, Any],
        rule: Callable[[Goal, Progress | None, datetime], Progress],
    ) -> GoalChange:
        goal = self.catalog.goal(goal_id)
        if goal is None:
            raise errors.unknown_goal(goal_id)
        now = self._clock()
        async with user_transaction(self._pool, user_id) as conn:
            before = await _stored_row(conn, user_id, goal_id, lock=True)
            row = before.row if before is not None else None
            after = rule(goal, row, now)
            if before is None:
                await insert_rows(conn, user_id, {goal_id: (goal.challenge_id, after)}, now)
            else:
                await update_rows(conn, user_id, {goal_id: (goal.challenge_id, after)}, now)
            await audit.record(
                conn,
                actor=actor,
                action=action,
                user_id=user_id,
                goal_id=goal_id,
                request=request,
                before=audit.image(row),
                after=audit.image(after),
            )
            stored = await _stored_row(conn, user_id, goal_id)
        assert stored is not None
        return GoalChange(goal, before, stored)


async def _stored_row(
    conn: AnyConnection, user_id: str, goal_id: str, *, lock: bool = False
) -> StoredRow | None:
    rows = await stored_rows(conn, user_id, goal_id, lock=lock)
    return rows[0] if rows else None

"""Everything stored about one player, as a whole: erasing it (the GDPR right to erasure).

A player's data is their `user_goal_progress` rows and their `reward_grants` (ledger) rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
import structlog
from psycopg_pool import AsyncConnectionPool

from challenge_service.store.assignments import lock_user
from challenge_service.store.database import connection

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Erased:
    goals: int
    grants: int


async def erase(pool: AsyncConnectionPool, user_id: str) -> Erased:
    """Delete every progress and ledger row of one player, in one transaction."""
    async with connection(pool) as conn, conn.transaction():
        # The player's REST write lock: a concurrent initialize/select cannot re-create a row halfway.
        await lock_user(conn, user_id)
        goals, grants = await delete_user_data(conn, user_id)
    log.info("user data deleted", user_id=user_id, goals=goals, grants=grants)
    return Erased(goals, grants)


async def delete_user_data(conn: psycopg.AsyncConnection[Any], user_id: str) -> tuple[int, int]:
    """Delete every progress row and every ledger row of one player; returns (goals, grants).

    Run it inside one transaction. Progress rows go first, then ledger rows: the lock order of
    `claims/ledger.py`, so it cannot deadlock with a claim of the same player.

    The ledger rows are the audit trail of the rewards granted to this player; a studio that must keep
    such records (or wants to hand them to the player) should export them before calling this.
    """
    goals = await conn.execute("DELETE FROM user_goal_progress WHERE user_id = %s", (user_id,))
    grants = await conn.execute("DELETE FROM reward_grants WHERE user_id = %s", (user_id,))
    return goals.rowcount, grants.rowcount

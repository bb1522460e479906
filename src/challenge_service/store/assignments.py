"""Writes of `user_goal_progress` made by the REST API: initialize, set-active, select.

A write runs in one transaction on one connection:

1. `lock_user` — a transaction-scoped advisory lock per player. REST writes of the same player run one
   after the other, so a row read as missing cannot be created by a concurrent request before this one
   inserts it. The event flusher never takes it (events only update existing rows), so it adds no wait
   to the event path.
2. `lock_rows` — `SELECT … FOR UPDATE` of the rows the request reads, in primary-key order like the
   flusher's sorted batches, so a concurrent flush cannot move a row between our read and our write.
3. the pure rules (`rules.selection`) compute the new rows in Python;
4. `insert_rows` (`ON CONFLICT DO NOTHING RETURNING`, so a row is reported created at most once) and
   `update_rows` write them back, each as one set-based statement.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from challenge_service.rules.progress import Progress
from challenge_service.store.database import connection
from challenge_service.store.progress import COLUMNS, row_from_record

AnyConnection = psycopg.AsyncConnection[Any]

# Arrays of the new rows, unnested into a relation; the explicit casts make all-NULL arrays typed too.
_UNNEST = """unnest(%(goal_ids)s::text[], %(challenge_ids)s::text[], %(progress)s::bigint[],
    %(baseline)s::bigint[], %(status)s::text[], %(is_active)s::boolean[], %(assigned_at)s::timestamptz[],
    %(completed_at)s::timestamptz[], %(claimed_at)s::timestamptz[], %(expires_at)s::timestamptz[],
    %(auto_claim_at)s::timestamptz[])
    AS u(goal_id, challenge_id, progress, baseline, status, is_active, assigned_at, completed_at,
         claimed_at, expires_at, auto_claim_at)"""

_INSERT = f"""
INSERT INTO user_goal_progress (user_id, goal_id, challenge_id, progress, baseline, status, is_active,
                                assigned_at, completed_at, claimed_at, expires_at, auto_claim_at, updated_at)
SELECT %(user_id)s, u.goal_id, u.challenge_id, u.progress, u.baseline, u.status, u.is_active,
       u.assigned_at, u.completed_at, u.claimed_at, u.expires_at, u.auto_claim_at, %(now)s
  FROM {_UNNEST}
 ORDER BY u.goal_id
    ON CONFLICT (user_id, goal_id) DO NOTHING
RETURNING goal_id"""

_UPDATE = f"""
UPDATE user_goal_progress AS t
   SET progress = u.progress, baseline = u.baseline, status = u.status, is_active = u.is_active,
       assigned_at = u.assigned_at, completed_at = u.completed_at, claimed_at = u.claimed_at,
       expires_at = u.expires_at, auto_claim_at = u.auto_claim_at, updated_at = %(now)s
  FROM {_UNNEST}
 WHERE t.user_id = %(user_id)s AND t.goal_id = u.goal_id"""


@asynccontextmanager
async def user_transaction(pool: AsyncConnectionPool, user_id: str) -> AsyncIterator[AnyConnection]:
    """One transaction holding the player's write lock. Pipeline mode sends the statements issued
    before the first result is needed in one round trip: BEGIN + lock + locking read, then the writes
    + COMMIT."""
    async with connection(pool) as conn, conn.pipeline(), conn.transaction():
        await lock_user(conn, user_id)
        yield conn


async def lock_user(conn: AnyConnection, user_id: str) -> None:
    """Serialise this player's REST writes until the transaction ends (see the module docstring)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"user:{user_id}",), prepare=True
    )


async def lock_rows(
    conn: AnyConnection, user_id: str, goal_ids: Iterable[str] | None = None
) -> dict[str, Progress]:
    """The player's rows (all of them, or those of `goal_ids`), locked until the transaction ends."""
    if goal_ids is None:
        cursor = await conn.execute(
            f"SELECT {COLUMNS} FROM user_goal_progress WHERE user_id = %s ORDER BY goal_id FOR UPDATE",
            (user_id,),
            prepare=True,
        )
    else:
        cursor = await conn.execute(
            f"SELECT {COLUMNS} FROM user_goal_progress WHERE user_id = %s AND goal_id = ANY(%s) "
            "ORDER BY goal_id FOR UPDATE",
            (user_id, sorted(goal_ids)),
            prepare=True,
        )
    return dict(row_from_record(record) for record in await cursor.fetchall())


def _arrays(rows: Mapping[str, tuple[str, Progress]]) -> dict[str, list[Any]]:
    ordered = sorted(rows.items())
    values = [row for _, (_, row) in ordered]
    return {
        "goal_ids": [goal_id for goal_id, _ in ordered],
        "challenge_ids": [challenge_id for _, (challenge_id, _) in ordered],
        "progress": [row.progress for row in values],
        "baseline": [row.baseline for row in values],
        "status": [row.status for row in values],
        "is_active": [row.is_active for row in values],
        "assigned_at": [row.assigned_at for row in values],
        "completed_at": [row.completed_at for row in values],
        "claimed_at": [row.claimed_at for row in values],
        "expires_at": [row.expires_at for row in values],
        "auto_claim_at": [row.auto_claim_at for row in values],
    }


async def insert_rows(
    conn: AnyConnection, user_id: str, rows: Mapping[str, tuple[str, Progress]], now: datetime
) -> list[str]:
    """Create rows (goal id → (challenge id, state)); returns the ids this call actually inserted."""
    if not rows:
        return []
    cursor = await conn.execute(_INSERT, {"user_id": user_id, "now": now, **_arrays(rows)}, prepare=True)
    return [goal_id for (goal_id,) in await cursor.fetchall()]


async def update_rows(
    conn: AnyConnection, user_id: str, rows: Mapping[str, tuple[str, Progress]], now: datetime
) -> None:
    """Write back the full state of existing rows the caller holds locked."""
    if rows:
        await conn.execute(_UPDATE, {"user_id": user_id, "now": now, **_arrays(rows)}, prepare=True)

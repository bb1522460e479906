"""Deleting data: expired rotating progress rows (retention) and one player's data (GDPR).

Retention deletes `user_goal_progress` rows whose rotation period ended before a cutoff, one bounded
batch per statement, oldest first along `user_goal_progress_expires_at_idx` (sql/004). It never deletes:

- rows without rotation (`expires_at` NULL);
- claimed rows, unless their goal allows reselection: a claimed row of a goal that does not is what
  stops the player from claiming the same reward again (SQL cannot see the catalog, so the caller
  passes the ids of the goals whose claimed rows may go, `reselectable_goal_ids`);
- rows with an unresolved grant (`pending`/`in_doubt` in `reward_grants`): an operator resolving it as
  granted marks that very row claimed (`ledger.mark_granted`), so it must still be there.

The ledger itself (`reward_grants`) is not touched by retention: it is the audit of granted rewards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

Connection = psycopg.AsyncConnection[Any]

# A row lock held by a claim or a flush (SKIP LOCKED) is skipped: the row is busy now and the next
# cycle sees it again. FOR UPDATE re-checks the WHERE clause on the row's latest version, so a row
# reset into a new period (new expires_at) between the scan and the lock is not deleted.
_DELETE_EXPIRED = """
DELETE FROM user_goal_progress AS d
 USING (
    SELECT p.user_id, p.goal_id
      FROM user_goal_progress AS p
     WHERE p.expires_at IS NOT NULL
       AND p.expires_at < %(cutoff)s
       AND (p.expires_at, p.user_id, p.goal_id)
           > (%(after_expires)s::timestamptz, %(after_user)s::text, %(after_goal)s::text)
       AND (p.status <> 'claimed' OR p.goal_id = ANY(%(reselectable)s::text[]))
       AND NOT EXISTS (
            SELECT 1 FROM reward_grants AS g
             WHERE g.user_id = p.user_id AND g.goal_id = p.goal_id
               AND g.state IN ('pending', 'in_doubt'))
     ORDER BY p.expires_at, p.user_id, p.goal_id
     LIMIT %(limit)s
       FOR UPDATE OF p SKIP LOCKED
 ) AS victim
 WHERE d.user_id = victim.user_id AND d.goal_id = victim.goal_id
RETURNING d.expires_at, d.user_id, d.goal_id
"""


@dataclass(frozen=True, slots=True, order=True)
class RowKey:
    """Position in the retention index: a batch continues after the previous batch's last row."""

    expires_at: datetime
    user_id: str
    goal_id: str


# Before every real key: '-infinity' sorts first among timestamptz values.
_START = ("-infinity", "", "")


async def delete_expired_batch(
    conn: Connection,
    cutoff: datetime,
    reselectable_goal_ids: list[str],
    limit: int,
    after: RowKey | None = None,
) -> tuple[int, RowKey | None]:
    """Delete up to `limit` expired rows (see the module docstring) past `after`, oldest first.

    Returns (rows deleted, key of the last deleted row or None when none was deleted)."""
    after_expires, after_user, after_goal = (
        (after.expires_at, after.user_id, after.goal_id) if after is not None else _START
    )
    cursor = await conn.execute(
        _DELETE_EXPIRED,
        {
            "cutoff": cutoff,
            "after_expires": after_expires,
            "after_user": after_user,
            "after_goal": after_goal,
            "reselectable": sorted(reselectable_goal_ids),
            "limit": limit,
        },
    )
    keys = [RowKey(*record) for record in await cursor.fetchall()]
    return len(keys), max(keys) if keys else None


async def delete_user_data(conn: Connection, user_id: str) -> tuple[int, int]:
    """Delete every progress row and every ledger row of one player; returns (goals, grants).

    Run it inside one transaction. Progress rows go first, then ledger rows: the lock order of
    `claims/ledger.py`, so it cannot deadlock with a claim of the same player.

    The ledger rows are the audit trail of the rewards granted to this player; a studio that must keep
    such records (or wants to hand them to the player) should export them before calling this.
    """
    goals = await conn.execute("DELETE FROM user_goal_progress WHERE user_id = %s", (user_id,))
    grants = await conn.execute("DELETE FROM reward_grants WHERE user_id = %s", (user_id,))
    return goals.rowcount, grants.rowcount

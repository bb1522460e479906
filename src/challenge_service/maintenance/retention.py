"""Retention: deletes rotating progress rows whose period ended `RETENTION_DAYS` ago.

A minute after start-up and then every `interval_s` (default hourly) one cycle runs: cutoff = service
clock − retention, then up to `max_batches` statements of `batch` rows each, walking the expiry index
(`user_goal_progress_expires_at_idx`, sql/004) oldest first. The bounds keep a cycle short and the pool
free for players: a backlog larger than one cycle is worked off by the next ones.

A row is never deleted when it is:

- without rotation (`expires_at` NULL);
- claimed, unless its goal allows reselection: a claimed row of a goal that does not is what stops the
  player from claiming the same reward again (SQL cannot see the catalog, so the task passes the ids of
  the goals whose claimed rows may go, `reselectable_goal_ids`);
- guarded by an unresolved grant (`pending`/`in_doubt` in `reward_grants`): the reconciler or an operator
  settling it as granted marks that very row claimed (`claims/ledger.py: mark_granted`), so it must
  still be there.

The ledger itself (`reward_grants`) is not touched: it is the audit of granted rewards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
import structlog
from psycopg_pool import AsyncConnectionPool

from challenge_service.catalog import Catalog
from challenge_service.maintenance.periodic import Periodic

log = structlog.get_logger(__name__)

INTERVAL_S = 3600.0
# The first cycle waits this long after start-up: a start (or a rolling deploy) is busy enough, and the
# clock a test installs after `Service.start()` is in place by then.
FIRST_CYCLE_DELAY_S = 60.0
BATCH_ROWS = 1000
MAX_BATCHES = 100
# Pause between two batches of a cycle so REST and the flusher get connections and row locks.
BATCH_PAUSE_S = 0.01

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
       -- An automatic claim still owed (AGS down for long) keeps its row until it is granted.
       AND p.auto_claim_at IS NULL
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


def reselectable_goal_ids(catalog: Catalog) -> list[str]:
    """Goals whose claimed rows may be deleted: rotating goals that allow reselection. Every other
    claimed row (non-reselectable, no rotation, or a goal no longer in the catalog) is kept, so the
    same reward can never be claimed twice."""
    return sorted(
        goal.goal_id
        for goal in catalog.goals
        if goal.rotation is not None and goal.rotation.enabled and goal.rotation.on_expiry.allow_reselection
    )


class RetentionTask(Periodic):
    name = "retention"

    def __init__(
        self,
        pool: AsyncConnectionPool,
        catalog: Callable[[], Catalog],
        clock: Callable[[], datetime],
        *,
        retention_days: int,
        interval_s: float = INTERVAL_S,
        batch: int = BATCH_ROWS,
        max_batches: int = MAX_BATCHES,
        first_delay_s: float = FIRST_CYCLE_DELAY_S,
    ) -> None:
        super().__init__(interval_s=interval_s, first_delay_s=first_delay_s)
        self.pool = pool
        self.catalog = catalog
        self.clock = clock
        self.retention = timedelta(days=retention_days)
        self.batch = batch
        self.max_batches = max_batches

    async def run_once(self) -> int:
        """One bounded cycle; returns the number of progress rows deleted."""
        cutoff = self.clock() - self.retention
        reselectable = reselectable_goal_ids(self.catalog())
        total = 0
        after: RowKey | None = None
        for number in range(self.max_batches):
            if number:
                await asyncio.sleep(BATCH_PAUSE_S)
            # Autocommit pooled connection: each batch is its own short transaction.
            async with self.pool.connection() as conn:
                deleted, last = await delete_expired_batch(conn, cutoff, reselectable, self.batch, after)
            total += deleted
            if deleted < self.batch or last is None:
                break
            after = last
        if total:
            log.info("retention deleted expired progress rows", rows=total, cutoff=cutoff.isoformat())
        return total

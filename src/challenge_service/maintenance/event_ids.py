"""Forgetting processed event ids once they are older than the deduplication window.

`processed_events` remembers the id of every applied event for `EVENT_DEDUP_HOURS`, so a redelivered
event is applied once (the flush records them, store/flush.py). Every `interval_s` (10 minutes) one
cycle deletes the older ids, in bounded batches with a pause between them so the event path keeps its
connections.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from challenge_service.maintenance.periodic import Periodic

INTERVAL_S = 600.0
BATCH_ROWS = 10_000
# Pause between two batches of a cycle: let the event path breathe.
BATCH_PAUSE_S = 0.01

# Bounded batches, skipping rows another replica's cleanup is deleting right now.
_DELETE_EXPIRED_IDS = """
DELETE FROM processed_events
WHERE event_id IN (
    SELECT event_id FROM processed_events
    WHERE processed_at < now() - make_interval(hours => %s)
    ORDER BY processed_at
    LIMIT %s
    FOR UPDATE SKIP LOCKED
)
"""


async def delete_expired_event_ids(conn: psycopg.AsyncConnection[Any], hours: int, limit: int) -> int:
    cursor = await conn.execute(_DELETE_EXPIRED_IDS, (hours, limit))
    return cursor.rowcount


class EventIdCleanup(Periodic):
    name = "event-id-cleanup"

    def __init__(
        self,
        pool: AsyncConnectionPool,
        *,
        dedup_hours: int,
        batch: int = BATCH_ROWS,
        interval_s: float = INTERVAL_S,
        first_delay_s: float = 0.0,
    ) -> None:
        super().__init__(interval_s=interval_s, first_delay_s=first_delay_s)
        self.pool = pool
        self.dedup_hours = dedup_hours
        self.batch = batch

    async def run_once(self) -> int:
        """Delete ids older than the dedup window, `batch` rows per statement; returns how many."""
        total = 0
        while True:
            async with self.pool.connection() as conn:
                deleted = await delete_expired_event_ids(conn, self.dedup_hours, self.batch)
            total += deleted
            if deleted < self.batch:
                return total
            await asyncio.sleep(BATCH_PAUSE_S)

"""The retention task: deletes rotating progress rows whose period ended `RETENTION_DAYS` ago.

A minute after start-up and then every `interval_s` (default hourly) one cycle runs: cutoff = service
clock − retention, then up to `max_batches` statements of `batch` rows each, walking the expiry index
oldest first (store/retention.py says which rows are kept and why). The bounds keep a cycle short and
the pool free for players: a backlog larger than one cycle is worked off by the next ones. A database
error ends the cycle with a warning; the next cycle retries. Processed event ids are purged by the
flusher's own cleanup (events/flusher.py), not here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from psycopg_pool import AsyncConnectionPool

from challenge_service.catalog import Catalog
from challenge_service.store.retention import RowKey, delete_expired_batch

log = structlog.get_logger(__name__)

INTERVAL_S = 3600.0
# The first cycle waits this long after start-up: a start (or a rolling deploy) is busy enough, and the
# clock a test installs after `Service.start()` is in place by then.
FIRST_CYCLE_DELAY_S = 60.0
BATCH_ROWS = 1000
MAX_BATCHES = 100
# Pause between two batches of a cycle so REST and the flusher get connections and row locks.
BATCH_PAUSE_S = 0.01


def reselectable_goal_ids(catalog: Catalog) -> list[str]:
    """Goals whose claimed rows may be deleted: rotating goals that allow reselection. Every other
    claimed row (non-reselectable, no rotation, or a goal no longer in the catalog) is kept, so the
    same reward can never be claimed twice."""
    return sorted(
        goal.goal_id
        for goal in catalog.goals
        if goal.rotation is not None and goal.rotation.enabled and goal.rotation.on_expiry.allow_reselection
    )


class RetentionTask:
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
        self.pool = pool
        self.catalog = catalog
        self.clock = clock
        self.retention = timedelta(days=retention_days)
        self.interval_s = interval_s
        self.batch = batch
        self.max_batches = max_batches
        self.first_delay_s = first_delay_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        await asyncio.sleep(self.first_delay_s)
        while True:
            try:
                await self.run_once()
            except Exception as error:  # never let retention take the service down
                log.warning("retention cycle failed; will retry next cycle", error=str(error))
            await asyncio.sleep(self.interval_s)

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

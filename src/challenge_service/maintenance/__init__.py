"""Background maintenance every replica runs: retention of expired progress rows (`retention.py`) and
expiry of processed event ids (`event_ids.py`). Each task holds its own SQL; `periodic.py` is the loop
they share. Both work in bounded `SKIP LOCKED` batches, so replicas share the work.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from psycopg_pool import AsyncConnectionPool

from challenge_service.catalog import Catalog
from challenge_service.maintenance.event_ids import EventIdCleanup
from challenge_service.maintenance.periodic import Periodic
from challenge_service.maintenance.retention import RetentionTask


class Maintenance:
    """The background tasks of one service, started and stopped together."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        catalog: Callable[[], Catalog],
        clock: Callable[[], datetime],
        *,
        retention_days: int,
        dedup_hours: int,
    ) -> None:
        self.retention = RetentionTask(pool, catalog, clock, retention_days=retention_days)
        self.event_ids = EventIdCleanup(pool, dedup_hours=dedup_hours)

    @property
    def tasks(self) -> tuple[Periodic, ...]:
        return self.retention, self.event_ids

    def start(self) -> None:
        for task in self.tasks:
            task.start()

    async def stop(self) -> None:
        for task in self.tasks:
            await task.stop()

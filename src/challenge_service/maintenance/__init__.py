"""Background maintenance every replica runs: retention of expired progress rows (`retention.py`) and
expiry of processed event ids (`event_ids.py`). Each task holds its own SQL; `periodic.py` is the loop
they share. Both work in bounded `SKIP LOCKED` batches, so replicas share the work.
"""

from __future__ import annotations

from dataclasses import dataclass

from challenge_service.maintenance.event_ids import EventIdCleanup
from challenge_service.maintenance.retention import RetentionTask

__all__ = ["EventIdCleanup", "Maintenance", "RetentionTask"]


@dataclass(frozen=True, slots=True)
class Maintenance:
    """The background tasks of one service, started and stopped together."""

    retention: RetentionTask
    event_ids: EventIdCleanup

    def start(self) -> None:
        self.retention.start()
        self.event_ids.start()

    async def stop(self) -> None:
        await self.retention.stop()
        await self.event_ids.stop()

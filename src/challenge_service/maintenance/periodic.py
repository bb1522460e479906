"""A background task that runs one bounded cycle now and then, and never takes the service down."""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod

import structlog

log = structlog.get_logger(__name__)


class Periodic(ABC):
    """Runs `run_once` after `first_delay_s`, then every `interval_s` until stopped. A failed cycle is
    logged and the next one runs as planned: a database outage only postpones the work."""

    name: str

    def __init__(self, *, interval_s: float, first_delay_s: float) -> None:
        self.interval_s = interval_s
        self.first_delay_s = first_delay_s
        self._task: asyncio.Task[None] | None = None

    @abstractmethod
    async def run_once(self) -> int:
        """One bounded cycle; returns the number of rows it handled."""

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

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
            except Exception as error:
                log.warning(
                    "maintenance cycle failed; will retry next cycle", task=self.name, error=str(error)
                )
            await asyncio.sleep(self.interval_s)

"""A background task that runs one bounded cycle now and then, and never takes the service down."""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod

import structlog

log = structlog.get_logger(__name__)


def doubling_backoff(base_s: float, cap_s: float, attempts: int) -> float:
    """Seconds before the next try after `attempts` tries: `base_s`, then doubling, never above `cap_s`."""
    return float(min(base_s * 2 ** max(attempts - 1, 0), cap_s))


class Periodic(ABC):
    """Runs `run_once` after `first_delay_s`, then every `interval_s` until stopped, or at once when
    `wake` is called. A failed cycle is logged and the next one runs as planned: a database outage only
    postpones the work."""

    name: str

    def __init__(self, *, interval_s: float, first_delay_s: float) -> None:
        self.interval_s = interval_s
        self.first_delay_s = first_delay_s
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Run the next cycle now rather than at the end of the pause (after the one running, if any)."""
        self._wake.set()

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
        await self._pause(self.first_delay_s)
        while True:
            self._wake.clear()  # a wake-up from here on asks for one more cycle
            try:
                await self.run_once()
            except Exception as error:
                log.warning(
                    "maintenance cycle failed; will retry next cycle", task=self.name, error=str(error)
                )
            await self._pause(self.interval_s)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

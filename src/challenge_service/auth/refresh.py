"""Keeps the IAM signing keys and revocation list fresh, off the request path.

Both are fetched at start-up and then every ``REFRESH_INTERVAL`` seconds (600 by default, as in the Go
suite), so a token AGS revokes is refused here at most one interval later. A failed fetch keeps what was
loaded before (each cache logs and counts its own failures); requests never wait for this task.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from challenge_service.auth.jwks import JwksVerifier
from challenge_service.auth.revocation import RevocationCache
from challenge_service.metrics import register_revocation_list_age


class IamRefresher:
    def __init__(
        self,
        verifier: JwksVerifier,
        revocations: RevocationCache,
        interval_s: float,
        *,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self._verifier = verifier
        self._revocations = revocations
        self._interval_s = interval_s
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None
        self._unregister_age: Callable[[], None] = lambda: None

    async def start(self) -> None:
        """Fetch both once (the service starts even when IAM cannot be reached), then keep refreshing."""
        await self.refresh()
        self._unregister_age = register_revocation_list_age(self._revocations.age_s)
        self._task = asyncio.create_task(self._run(), name="iam-refresh")

    async def refresh(self) -> None:
        await asyncio.gather(self._verifier.refresh_keys(), self._revocations.refresh())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._unregister_age()

    async def _run(self) -> None:
        # Neither cache's refresh raises, so one bad round never ends the loop.
        while True:
            await self._sleep(self._interval_s)
            await self.refresh()

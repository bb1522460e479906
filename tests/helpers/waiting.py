"""Waiting for a condition instead of sleeping a guessed time."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


async def eventually(predicate: Callable[[], bool | Awaitable[bool]], timeout_s: float = 2.0) -> None:
    """Return once `predicate()` — a plain or an async check — is true; fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not await _holds(predicate):
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def _holds(predicate: Callable[[], bool | Awaitable[bool]]) -> bool:
    result = predicate()
    return bool(await result) if inspect.isawaitable(result) else bool(result)

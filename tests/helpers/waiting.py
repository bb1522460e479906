"""Waiting for a condition instead of sleeping a guessed time."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


async def eventually(
    predicate: Callable[[], bool | Awaitable[bool]], timeout_s: float = 2.0, *, interval_s: float = 0.01
) -> None:
    """Return once `predicate()` — a plain or an async check — is true; fail after `timeout_s`.

    A check may itself assert (say, that a process is still alive) to fail at once instead of at the
    deadline. `interval_s` spaces out checks that cost something, such as an HTTP request.
    """
    deadline = time.monotonic() + timeout_s
    while not await _holds(predicate):
        assert time.monotonic() < deadline, f"condition not met within {timeout_s} s"
        await asyncio.sleep(interval_s)


async def _holds(predicate: Callable[[], bool | Awaitable[bool]]) -> bool:
    result = predicate()
    return bool(await result) if inspect.isawaitable(result) else bool(result)

"""Wait for a condition instead of sleeping a guessed time."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], *, within_s: float = 15.0, every_s: float = 0.01
) -> None:
    """Return once `check()` is true; fail the test if it is still false after `within_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        assert loop.time() < deadline, f"condition not met within {within_s} s: {check}"
        await asyncio.sleep(every_s)

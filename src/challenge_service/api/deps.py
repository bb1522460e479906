"""What route handlers are given: the services they use and the authenticated player."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Request
from litestar.datastructures import State
from psycopg_pool import AsyncConnectionPool

from challenge_service.catalog import Catalog
from challenge_service.rewards import RewardClient

Clock = Callable[[], datetime]
# Resolves the player from request headers; raises AuthError when it cannot.
Authenticator = Callable[[Mapping[str, str]], Awaitable[str]]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Services:
    """Shared by every request. `catalog` is replaced as a whole on reload, never mutated."""

    catalog: Catalog
    pool: AsyncConnectionPool
    authenticate: Authenticator
    rewards: RewardClient
    clock: Clock = utc_now


AnyRequest = Request[Any, Any, State]

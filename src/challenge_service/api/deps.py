"""What route handlers are given: the services they use, the authenticated player or operator.

Plain functions a handler calls first thing, rather than Litestar's `Provide`: resolving two chained
dependencies through Litestar costs about 8 µs of CPU per request, which the hot read path does not
need to pay for two lines it can call itself.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from litestar import Request
from litestar.datastructures import State
from psycopg_pool import AsyncConnectionPool

from challenge_service.admin.errors import permission_denied
from challenge_service.admin.players import PlayerAdmin
from challenge_service.api.body import MAX_ID_LENGTH
from challenge_service.assignments import Assignments
from challenge_service.auth.permissions import Action, Caller, admin_resource
from challenge_service.catalog import Catalog
from challenge_service.claims.service import ClaimService
from challenge_service.errors import invalid_input
from challenge_service.rewards import RewardClient

Clock = Callable[[], datetime]
# Resolves the caller from request headers; raises AuthError when it cannot.
Authenticator = Callable[[Mapping[str, str]], Awaitable[Caller]]


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
    # Where random-select draws from; tests put a seeded one here.
    rng: random.Random = field(default_factory=random.Random)


AnyRequest = Request[Any, Any, State]


def services(request: AnyRequest) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


async def _caller(request: AnyRequest) -> Caller:
    caller = await services(request).authenticate(request.headers)
    if len(caller.user_id) > MAX_ID_LENGTH or not caller.user_id.isprintable():
        raise invalid_input(f"user id must be at most {MAX_ID_LENGTH} printable characters")
    request.state.user_id = caller.user_id  # for the request log line
    return caller


async def current_user(request: AnyRequest) -> str:
    """The authenticated player's id (401/403 through `AuthError` when there is none)."""
    return (await _caller(request)).user_id


async def current_operator(request: AnyRequest, action: Action) -> str:
    """The name of an authenticated caller holding the operator permission for `action`, for the audit
    trail; 403 `PERMISSION_DENIED` for anyone else (a player, an operator of another namespace)."""
    caller = await _caller(request)
    if not caller.may(action):
        raise permission_denied(admin_resource(caller.namespace), action.name or str(int(action)))
    return caller.actor


def assignments(request: AnyRequest) -> Assignments:
    """The goal-selection flows, over the catalog as it is now (one catalog for the whole request)."""
    svc = services(request)
    return Assignments(svc.catalog, svc.pool, svc.clock, svc.rng)


def claims(request: AnyRequest) -> ClaimService:
    svc = services(request)
    return ClaimService(svc.catalog, svc.pool, svc.rewards, svc.clock)


def player_admin(request: AnyRequest) -> PlayerAdmin:
    svc = services(request)
    return PlayerAdmin(svc.catalog, svc.pool, svc.clock)

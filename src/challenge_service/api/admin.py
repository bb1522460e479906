"""The operator routes under `/v1/admin/` (docs/admin.md): look at a player, fix a goal, settle a grant,
read the audit trail.

Every route first checks the AGS permission `ADMIN:NAMESPACE:{AB_NAMESPACE}:CHALLENGE` (read for GET,
update for writes) on the caller's verified token, or `X-Mock-Admin: true` in mock mode
(`api/deps.py: current_operator`); then parses, calls one domain function, renders.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import MediaType, Response, get, post, put
from litestar.params import FromPath, FromQuery, QueryParameter

from challenge_service.admin import audit
from challenge_service.api.admin_wire import (
    AuditPage,
    GoalChanged,
    GrantList,
    GrantResolved,
    PlayerState,
    audit_page,
    goal_changed,
    grant_resolved,
    grant_view,
    progress_record,
)
from challenge_service.api.body import check_id, parse_body
from challenge_service.api.deps import AnyRequest, current_operator, player_admin, services
from challenge_service.api.views import encoder_for
from challenge_service.auth.permissions import Action
from challenge_service.catalog import Goal
from challenge_service.claims import grants
from challenge_service.claims.ledger import UNRESOLVED, GrantState
from challenge_service.errors import invalid_input
from challenge_service.store.database import connection

_ENCODE = msgspec.json.encode
# The query's `userId` (lowerCamelCase like every other name on the wire).
UserIdQuery = Annotated[str | None, QueryParameter(name="userId")]
# `state` is a name Litestar reserves for the application state.
StateQuery = Annotated[str | None, QueryParameter(name="state")]
# Listing bounds: the default page and the most one request may ask for.
DEFAULT_LIMIT = 100
MAX_AUDIT_LIMIT = 500


def _limit(raw: int | None, most: int) -> int:
    if raw is None:
        return min(DEFAULT_LIMIT, most)
    if not 1 <= raw <= most:
        raise invalid_input(f"limit must be 1..{most}, got {raw}")
    return raw


def _states(raw: str | None) -> tuple[GrantState, ...]:
    if raw is None:
        return UNRESOLVED
    wanted = [part.strip() for part in raw.split(",") if part.strip()]
    unknown = [state for state in wanted if state not in grants.STATES]
    if not wanted or unknown:
        raise invalid_input(f"state must be a comma list of {', '.join(grants.STATES)}, got {raw!r}")
    return tuple(state for state in grants.STATES if state in wanted)


@get("/v1/admin/users/{user_id:str}/challenges", summary="Operator: a player's full state")
async def player_state(request: AnyRequest, user_id: FromPath[str]) -> Response[PlayerState]:
    await current_operator(request, Action.READ)
    check_id("userId", user_id)
    admin = player_admin(request)
    stored = await admin.state(user_id)

    def with_stored_row(goal: Goal) -> bytes:
        row = stored.get(goal.goal_id)
        return b',"stored":' + _ENCODE(progress_record(row) if row is not None else None)

    catalog = admin.catalog
    rows = {goal_id: row.row for goal_id, row in stored.items()}
    encoded = encoder_for(catalog).challenges(
        catalog.challenges, rows, services(request).clock(), False, with_stored_row
    )
    body = b"".join((b'{"userId":', _ENCODE(user_id), b',"challenges":[', b",".join(encoded), b"]}"))
    # Pre-encoded like the player's challenge reads; the annotation gives the OpenAPI schema.
    response: Response[Any] = Response(body, media_type=MediaType.JSON)
    return response


@put(
    "/v1/admin/users/{user_id:str}/goals/{goal_id:str}/progress",
    summary="Operator: set the progress a player sees (the status follows)",
)
async def set_progress(request: AnyRequest, user_id: FromPath[str], goal_id: FromPath[str]) -> GoalChanged:
    actor = await current_operator(request, Action.UPDATE)
    check_id("userId", user_id)
    value = parse_body(await request.body()).non_negative_int("progress")
    return goal_changed(user_id, await player_admin(request).set_progress(actor, user_id, goal_id, value))


@post(
    "/v1/admin/users/{user_id:str}/goals/{goal_id:str}/reset",
    status_code=200,
    summary="Operator: put a goal back to not started (a claimed one too)",
)
async def reset_goal(request: AnyRequest, user_id: FromPath[str], goal_id: FromPath[str]) -> GoalChanged:
    actor = await current_operator(request, Action.UPDATE)
    check_id("userId", user_id)
    parse_body(await request.body())  # validated, nothing to read: `{}`
    return goal_changed(user_id, await player_admin(request).reset_goal(actor, user_id, goal_id))


@get("/v1/admin/grants", summary="Operator: reward grants by state, oldest first")
async def list_grants(
    request: AnyRequest,
    states: StateQuery = None,
    user_id: UserIdQuery = None,
    limit: FromQuery[int | None] = None,
) -> GrantList:
    await current_operator(request, Action.READ)
    if user_id is not None:
        check_id("userId", user_id)
    wanted, most = _states(states), _limit(limit, grants.MAX_LISTED)
    async with connection(services(request).pool) as conn:
        listed = await grants.list_grants(conn, wanted, user_id=user_id, limit=most)
    return GrantList(grants=[grant_view(grant) for grant in listed])


@post(
    "/v1/admin/grants/{grant_id:str}/resolve",
    status_code=200,
    summary="Operator: settle a pending or in-doubt grant after checking AGS",
)
async def resolve_grant(request: AnyRequest, grant_id: FromPath[str]) -> GrantResolved:
    actor = await current_operator(request, Action.UPDATE)
    resolution: Any = parse_body(await request.body()).choice("as", ("granted", "failed"))
    async with connection(services(request).pool) as conn:
        resolved = await grants.resolve_grant(conn, grant_id, resolution, actor, services(request).clock())
    return grant_resolved(resolved)


@get("/v1/admin/audit", summary="Operator: the audit trail of operator writes, newest first")
async def audit_trail(
    request: AnyRequest,
    user_id: UserIdQuery = None,
    limit: FromQuery[int | None] = None,
    before: FromQuery[int | None] = None,
) -> AuditPage:
    await current_operator(request, Action.READ)
    if user_id is not None:
        check_id("userId", user_id)
    most = _limit(limit, MAX_AUDIT_LIMIT)
    async with connection(services(request).pool) as conn:
        entries = await audit.entries(conn, user_id, most, before)
    return audit_page(entries, most)

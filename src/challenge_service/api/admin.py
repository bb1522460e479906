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
from litestar.params import FromPath, Parameter, QueryParameter

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
from challenge_service.api.body import (
    EmptyRequest,
    ResolveGrantRequest,
    SetProgressRequest,
    check_id,
    parse_body,
)
from challenge_service.api.deps import AnyRequest, current_operator, player_admin, services
from challenge_service.api.openapi import ADMIN, AUTH, DATABASE, errors, request_body
from challenge_service.api.views import encoder_for
from challenge_service.auth.permissions import Action
from challenge_service.catalog import Goal
from challenge_service.claims import grants
from challenge_service.claims.ledger import UNRESOLVED, GrantState
from challenge_service.errors import ErrorCode, invalid_input
from challenge_service.store.database import connection

_ENCODE = msgspec.json.encode
# Listing bounds: the default page and the most one request may ask for.
DEFAULT_LIMIT = 100
MAX_AUDIT_LIMIT = 500
# `before` names an audit entry; admin_audit.id is a bigint.
MAX_ENTRY_ID = 2**63 - 1
# The bounds are checked by `_limit` (with a message naming them), so the documents only state them.
# The query's `userId` is lowerCamelCase like every other name on the wire; `state` is a name Litestar
# reserves for the application state.
UserIdQuery = Annotated[
    str | None, QueryParameter(name="userId", description="only this player's (1..100 printable characters)")
]
StateQuery = Annotated[
    str | None,
    QueryParameter(
        name="state",
        description=f"a comma list of {', '.join(grants.STATES)}; default `pending,in_doubt` (unresolved)",
    ),
]


GrantLimitQuery = Annotated[
    int | None,
    Parameter(description=f"at most this many (1..{grants.MAX_LISTED}); default {DEFAULT_LIMIT}"),
]
AuditLimitQuery = Annotated[
    int | None, Parameter(description=f"at most this many (1..{MAX_AUDIT_LIMIT}); default {DEFAULT_LIMIT}")
]
BeforeQuery = Annotated[
    int | None,
    Parameter(description="the previous page's `nextBefore` (an entry id): continue with older entries"),
]
NEEDS_READ = "Needs the operator permission's read action (2)."
NEEDS_UPDATE = "Needs the operator permission's update action (4). Recorded in the audit trail."


def _limit(raw: int | None, most: int) -> int:
    if raw is None:
        return min(DEFAULT_LIMIT, most)
    if not 1 <= raw <= most:
        raise invalid_input(f"limit must be 1..{most}, got {raw}")
    return raw


def _before(raw: int | None) -> int | None:
    if raw is not None and not 1 <= raw <= MAX_ENTRY_ID:
        raise invalid_input(f"before must be an entry id, 1..{MAX_ENTRY_ID}, got {raw}")
    return raw


def _states(raw: str | None) -> tuple[GrantState, ...]:
    if raw is None:
        return UNRESOLVED
    wanted = [part.strip() for part in raw.split(",") if part.strip()]
    unknown = [state for state in wanted if state not in grants.STATES]
    if not wanted or unknown:
        raise invalid_input(f"state must be a comma list of {', '.join(grants.STATES)}, got {raw!r}")
    return tuple(state for state in grants.STATES if state in wanted)


@get(
    "/v1/admin/users/{user_id:str}/challenges",
    operation_id="getPlayerState",
    tags=[ADMIN],
    summary="A player's full state: every goal as the player sees it, and the row behind it",
    description="Every challenge and goal exactly as `GET /v1/challenges` shows them to the player, each "
    "goal with `stored`: its raw `progress`, `baseline`, `updatedAt` … (`null` when the player has no "
    f"row). A player never seen is a 200 with every goal `not_started`. {NEEDS_READ}",
    responses=errors(*AUTH, *DATABASE),
)
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
    operation_id="setGoalProgress",
    tags=[ADMIN],
    summary="Set the progress a player sees (the status follows)",
    description="`completed` when the progress reaches the target, `in_progress` above 0, `not_started` "
    "at 0; a claimed goal stays claimed. A relative goal moves its baseline. A goal the player has no row "
    f"for gets one, inactive. Answers the row before and after. {NEEDS_UPDATE}",
    operation_class=request_body(SetProgressRequest, required=True, example={"progress": 5}),
    responses=errors(*AUTH, ErrorCode.GOAL_NOT_FOUND, *DATABASE, body=True),
)
async def set_progress(request: AnyRequest, user_id: FromPath[str], goal_id: FromPath[str]) -> GoalChanged:
    actor = await current_operator(request, Action.UPDATE)
    check_id("userId", user_id)
    value = parse_body(await request.body()).non_negative_int("progress")
    return goal_changed(user_id, await player_admin(request).set_progress(actor, user_id, goal_id, value))


@post(
    "/v1/admin/users/{user_id:str}/goals/{goal_id:str}/reset",
    status_code=200,
    operation_id="resetGoal",
    tags=[ADMIN],
    summary="Put a goal back to not started (a claimed one too)",
    description="Progress 0, no baseline, not completed, not claimed; activation and period stay. The "
    "period's grant stays in the ledger, so the player is never paid twice for one period. "
    f"{NEEDS_UPDATE}",
    operation_class=request_body(EmptyRequest, required=False, example={}),
    responses=errors(*AUTH, ErrorCode.GOAL_NOT_FOUND, *DATABASE, body=True),
)
async def reset_goal(request: AnyRequest, user_id: FromPath[str], goal_id: FromPath[str]) -> GoalChanged:
    actor = await current_operator(request, Action.UPDATE)
    check_id("userId", user_id)
    parse_body(await request.body())  # validated, nothing to read: `{}`
    return goal_changed(user_id, await player_admin(request).reset_goal(actor, user_id, goal_id))


@get(
    "/v1/admin/grants",
    operation_id="listGrants",
    tags=[ADMIN],
    summary="Reward grants by state, oldest first",
    description="Ledger entries with their attempts, the reconciler's tries and the last error; by "
    f"default the unresolved ones (pending, in doubt). {NEEDS_READ}",
    responses=errors(*AUTH, *DATABASE),
)
async def list_grants(
    request: AnyRequest,
    states: StateQuery = None,
    user_id: UserIdQuery = None,
    limit: GrantLimitQuery = None,
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
    operation_id="resolveGrant",
    tags=[ADMIN],
    summary="Settle a pending or in-doubt grant after checking AGS",
    description="`grantId` is 32 hex digits, as listed. `granted` marks the goal claimed (while the "
    "player's row is still in that period), `failed` lets the player claim again. A grant already "
    f"granted or failed is 409 `GRANT_ALREADY_RESOLVED`. {NEEDS_UPDATE}",
    operation_class=request_body(ResolveGrantRequest, required=True, example={"as": "granted"}),
    responses=errors(
        *AUTH, ErrorCode.GRANT_NOT_FOUND, ErrorCode.GRANT_ALREADY_RESOLVED, *DATABASE, body=True
    ),
)
async def resolve_grant(request: AnyRequest, grant_id: FromPath[str]) -> GrantResolved:
    actor = await current_operator(request, Action.UPDATE)
    resolution: Any = parse_body(await request.body()).choice("as", grants.RESOLUTIONS)
    async with connection(services(request).pool) as conn:
        resolved = await grants.resolve_grant(conn, grant_id, resolution, actor, services(request).clock())
    return grant_resolved(resolved)


@get(
    "/v1/admin/audit",
    operation_id="listAudit",
    tags=[ADMIN],
    summary="The audit trail of operator writes, newest first",
    description="Who (the token's `sub`), when, what was asked, and the row before and after, for every "
    f"set-progress, reset and grant resolution; page with `nextBefore`. {NEEDS_READ}",
    responses=errors(*AUTH, *DATABASE),
)
async def audit_trail(
    request: AnyRequest,
    user_id: UserIdQuery = None,
    limit: AuditLimitQuery = None,
    before: BeforeQuery = None,
) -> AuditPage:
    await current_operator(request, Action.READ)
    if user_id is not None:
        check_id("userId", user_id)
    most, older_than = _limit(limit, MAX_AUDIT_LIMIT), _before(before)
    async with connection(services(request).pool) as conn:
        entries = await audit.entries(conn, user_id, most, older_than)
    return audit_page(entries, most)

"""Which goals a player has: `POST /v1/challenges/initialize` and `PUT …/goals/{gid}/active`."""

from __future__ import annotations

from litestar import post, put
from litestar.params import FromPath

from challenge_service.api.body import EmptyRequest, SetActiveRequest, parse_body
from challenge_service.api.deps import AnyRequest, assignments, current_user
from challenge_service.api.openapi import AUTH, DATABASE, GOALS, errors, request_body
from challenge_service.api.wire import ActiveSet, Initialized, initialized, timestamp
from challenge_service.errors import ErrorCode


@post(
    "/v1/challenges/initialize",
    status_code=200,
    operation_id="initializePlayer",
    tags=[GOALS],
    summary="Assign default goals; apply due resets",
    description="The first call activates every `defaultAssigned` goal; later calls add default goals new "
    "in the catalog and apply due rotation resets. Returns the player's active goals. Idempotent.",
    operation_class=request_body(EmptyRequest, required=False, example={}),
    responses=errors(*AUTH, *DATABASE, body=True),
)
async def initialize(request: AnyRequest) -> Initialized:
    goals = assignments(request)
    user_id = await current_user(request)
    parse_body(await request.body())  # validated, nothing to read: `{}`
    return initialized(await goals.initialize(user_id))


@put(
    "/v1/challenges/{challenge_id:str}/goals/{goal_id:str}/active",
    operation_id="setGoalActive",
    tags=[GOALS],
    summary="Activate or deactivate one goal",
    description="Creates the player's row for the goal when missing; progress survives toggling.",
    operation_class=request_body(SetActiveRequest, required=True, example={"isActive": True}),
    responses=errors(
        *AUTH,
        ErrorCode.CHALLENGE_NOT_FOUND,
        ErrorCode.GOAL_NOT_FOUND,
        ErrorCode.CHALLENGE_NOT_LIVE,
        *DATABASE,
        body=True,
    ),
)
async def set_active(request: AnyRequest, challenge_id: FromPath[str], goal_id: FromPath[str]) -> ActiveSet:
    goals = assignments(request)
    user_id = await current_user(request)
    goal = goals.catalog.require_goal(challenge_id, goal_id)
    is_active = parse_body(await request.body()).boolean("is_active")
    row = await goals.set_active(user_id, goal, is_active)
    return ActiveSet(
        challenge_id=challenge_id,
        goal_id=goal_id,
        is_active=row.is_active,
        assigned_at=timestamp(row.assigned_at),
        message="Goal activated successfully" if is_active else "Goal deactivated successfully",
    )

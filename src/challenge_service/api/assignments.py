"""Which goals a player has: `POST /v1/challenges/initialize` and `PUT …/goals/{gid}/active`."""

from __future__ import annotations

from litestar import post, put
from litestar.params import FromPath

from challenge_service.api.body import parse_body
from challenge_service.api.deps import AnyRequest, assignments, current_user
from challenge_service.api.wire import ActiveSet, Initialized, initialized, timestamp


@post("/v1/challenges/initialize", status_code=200, summary="Assign default goals; apply due resets")
async def initialize(request: AnyRequest) -> Initialized:
    goals = assignments(request)
    user_id = await current_user(request)
    parse_body(await request.body())  # validated, nothing to read: `{}`
    return initialized(await goals.initialize(user_id))


@put(
    "/v1/challenges/{challenge_id:str}/goals/{goal_id:str}/active",
    summary="Activate or deactivate one goal",
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

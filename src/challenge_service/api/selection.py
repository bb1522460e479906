"""`POST …/goals/batch-select` and `…/goals/random-select`: activate goals of one challenge."""

from __future__ import annotations

from typing import NamedTuple

from litestar import post
from litestar.params import FromPath

from challenge_service.api.body import BatchSelectRequest, Body, RandomSelectRequest, parse_body
from challenge_service.api.deps import AnyRequest, assignments, current_user
from challenge_service.api.openapi import AUTH, DATABASE, GOALS, errors, request_body
from challenge_service.api.wire import GoalSelection, goal_selection
from challenge_service.assignments import Assignments
from challenge_service.catalog import Challenge
from challenge_service.errors import ErrorCode

SELECTION_ERRORS = (
    *AUTH,
    ErrorCode.CHALLENGE_NOT_FOUND,
    ErrorCode.GOAL_NOT_FOUND,
    ErrorCode.CHALLENGE_NOT_LIVE,
    *DATABASE,
)


class _Selecting(NamedTuple):
    goals: Assignments
    user_id: str
    challenge: Challenge
    body: Body


async def _read(request: AnyRequest, challenge_id: str) -> _Selecting:
    """What both selections read first, in the order a request is refused: auth, path, body."""
    goals = assignments(request)
    user_id = await current_user(request)
    challenge = goals.catalog.require_challenge(challenge_id)
    return _Selecting(goals, user_id, challenge, parse_body(await request.body()))


@post(
    "/v1/challenges/{challenge_id:str}/goals/batch-select",
    status_code=200,
    operation_id="batchSelectGoals",
    tags=[GOALS],
    summary="Activate chosen goals of a challenge",
    description="All ids must belong to the challenge, else 404 and nothing changes. One transaction.",
    operation_class=request_body(
        BatchSelectRequest,
        required=True,
        example={"goalIds": ["daily-login", "daily-10-kills"], "replaceExisting": False},
    ),
    responses=errors(*SELECTION_ERRORS, body=True),
)
async def batch_select(request: AnyRequest, challenge_id: FromPath[str]) -> GoalSelection:
    goals, user_id, challenge, body = await _read(request, challenge_id)
    goal_ids = body.id_list("goal_ids")
    replace_existing = body.boolean("replace_existing", default=False)
    return goal_selection(await goals.batch_select(user_id, challenge, goal_ids, replace_existing))


@post(
    "/v1/challenges/{challenge_id:str}/goals/random-select",
    status_code=200,
    operation_id="randomSelectGoals",
    tags=[GOALS],
    summary="Activate randomly chosen available goals of a challenge",
    description="The pool: the challenge's goals that are not completed or claimed and whose prerequisites "
    "are met, minus active ones with `excludeActive` or `replaceExisting`. An empty pool is "
    "`INSUFFICIENT_GOALS`; a pool smaller than `count` is taken whole.",
    operation_class=request_body(
        RandomSelectRequest, required=True, example={"count": 3, "excludeActive": True}
    ),
    responses=errors(*SELECTION_ERRORS, ErrorCode.INSUFFICIENT_GOALS, body=True),
)
async def random_select(request: AnyRequest, challenge_id: FromPath[str]) -> GoalSelection:
    goals, user_id, challenge, body = await _read(request, challenge_id)
    count = body.positive_int("count")
    replace_existing = body.boolean("replace_existing", default=False)
    exclude_active = body.boolean("exclude_active", default=False)
    selected = await goals.random_select(
        user_id, challenge, count, replace_existing=replace_existing, exclude_active=exclude_active
    )
    return goal_selection(selected)

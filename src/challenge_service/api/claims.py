"""`POST /v1/challenges/{cid}/goals/{gid}/claim`: grant a completed goal's reward once."""

from __future__ import annotations

from litestar import post
from litestar.params import FromPath

from challenge_service.api.deps import AnyRequest, claims, current_user
from challenge_service.api.openapi import AUTH, CLAIMS, DATABASE, errors
from challenge_service.api.wire import ClaimResult, reward, rewards, timestamp
from challenge_service.errors import ErrorCode

# In the order the claim checks them.
CLAIM_ERRORS = (
    *AUTH,
    ErrorCode.CHALLENGE_NOT_FOUND,
    ErrorCode.GOAL_NOT_FOUND,
    ErrorCode.CHALLENGE_NOT_LIVE,
    ErrorCode.CHALLENGE_ENDED,
    ErrorCode.GOAL_NOT_ACTIVE,
    ErrorCode.GOAL_ROTATED,
    ErrorCode.GOAL_ALREADY_CLAIMED,
    ErrorCode.GOAL_NOT_COMPLETED,
    ErrorCode.PREREQUISITES_NOT_MET,
    ErrorCode.CLAIM_IN_PROGRESS,
    ErrorCode.GRANT_IN_DOUBT,
    ErrorCode.REWARD_GRANT_FAILED,
    *DATABASE,
)


@post(
    "/v1/challenges/{challenge_id:str}/goals/{goal_id:str}/claim",
    status_code=200,
    operation_id="claimGoal",
    tags=[CLAIMS],
    summary="Claim a completed goal's rewards (each granted exactly once per rotation period)",
    description="Checks in order: the goal is in the challenge (404), the challenge has started and, if it "
    "has ended, its claim grace has not run out, the player's row exists and is active, it has not rotated, "
    "it is not claimed yet (409), it is completed, its prerequisites are met; then every reward is granted "
    "and the goal marked claimed. A failed grant (502) leaves the goal claimable; a new claim grants only "
    "the rewards still missing. Any request body is ignored.",
    responses=errors(*CLAIM_ERRORS),
)
async def claim_goal(request: AnyRequest, challenge_id: FromPath[str], goal_id: FromPath[str]) -> ClaimResult:
    # The body is ignored: `{}`, none or anything else, as the Go suite accepts.
    user_id = await current_user(request)
    claimed = await claims(request).claim(user_id, challenge_id, goal_id)
    return ClaimResult(
        goal_id=claimed.goal.goal_id,
        status="claimed",
        reward=reward(claimed.goal),
        rewards=rewards(claimed.goal),
        claimed_at=timestamp(claimed.claimed_at),
    )

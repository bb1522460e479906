"""`POST /v1/challenges/{cid}/goals/{gid}/claim`: grant a completed goal's reward once (SPEC §5)."""

from __future__ import annotations

from litestar import post
from litestar.params import FromPath

from challenge_service.api.deps import AnyRequest, claims, current_user
from challenge_service.api.wire import ClaimResult, reward, timestamp


@post(
    "/v1/challenges/{challenge_id:str}/goals/{goal_id:str}/claim",
    status_code=200,
    summary="Claim a completed goal's reward (granted exactly once per rotation period)",
)
async def claim_goal(request: AnyRequest, challenge_id: FromPath[str], goal_id: FromPath[str]) -> ClaimResult:
    # The body is ignored: `{}`, none or anything else (SPEC §5).
    user_id = await current_user(request)
    claimed = await claims(request).claim(user_id, challenge_id, goal_id)
    return ClaimResult(
        goal_id=claimed.goal.goal_id,
        status="claimed",
        reward=reward(claimed.goal),
        claimed_at=timestamp(claimed.claimed_at),
    )

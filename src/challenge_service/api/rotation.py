"""`GET /v1/challenges/{cid}/rotation`: the challenge's current and next rotation period."""

from __future__ import annotations

from litestar import get
from litestar.params import FromPath

from challenge_service.api.deps import AnyRequest, current_user, services
from challenge_service.api.openapi import AUTH, CHALLENGES, DATABASE, errors
from challenge_service.api.wire import ChallengeRotation, challenge_rotation, rotating_goal, soonest_period
from challenge_service.errors import ErrorCode
from challenge_service.store.database import connection
from challenge_service.store.progress import user_rows


@get(
    "/v1/challenges/{challenge_id:str}/rotation",
    operation_id="getChallengeRotation",
    tags=[CHALLENGES],
    summary="Rotation periods of a challenge",
    description="The current and next period, as UTC instants. Global rotation: the calendar's periods "
    "(starting at `resetTime` in `timezone`). Per-user rotation: the player's own period and the one after "
    "it (`null` while none is running, and the next one `null` when the goal deactivates on expiry). A "
    "challenge without rotation answers `enabled: false`, empty strings and `null` periods.",
    responses=errors(*AUTH, ErrorCode.CHALLENGE_NOT_FOUND, *DATABASE),
)
async def get_rotation(request: AnyRequest, challenge_id: FromPath[str]) -> ChallengeRotation:
    svc = services(request)
    user_id = await current_user(request)
    challenge = svc.catalog.require_challenge(challenge_id)
    now = svc.clock()
    goal = rotating_goal(challenge)
    own = None
    if goal is not None and goal.rotation is not None and goal.rotation.per_user:
        async with connection(svc.pool) as conn:
            rows = await user_rows(conn, user_id)
        own = soonest_period(challenge, rows, now)
    return ChallengeRotation(challenge_id, challenge_rotation(challenge, now, own))

"""`GET /v1/challenges/{cid}/rotation`: the challenge's current and next rotation period."""

from __future__ import annotations

from litestar import get
from litestar.params import FromPath

from challenge_service.api.deps import AnyRequest, current_user, services
from challenge_service.api.openapi import AUTH, CHALLENGES, errors
from challenge_service.api.wire import ChallengeRotation, challenge_rotation
from challenge_service.errors import ErrorCode


@get(
    "/v1/challenges/{challenge_id:str}/rotation",
    operation_id="getChallengeRotation",
    tags=[CHALLENGES],
    summary="Rotation periods of a challenge",
    description="The current and next period (UTC). A challenge without rotation answers `enabled: false`, "
    "empty strings and `null` periods.",
    responses=errors(*AUTH, ErrorCode.CHALLENGE_NOT_FOUND),
)
async def get_rotation(request: AnyRequest, challenge_id: FromPath[str]) -> ChallengeRotation:
    svc = services(request)
    await current_user(request)
    challenge = svc.catalog.require_challenge(challenge_id)
    return ChallengeRotation(challenge_id, challenge_rotation(challenge, svc.clock()))

"""`GET /v1/challenges/{cid}/rotation`: the challenge's current and next rotation period (SPEC §5)."""

from __future__ import annotations

from datetime import datetime

from litestar import get
from litestar.params import FromPath

from challenge_service.api.deps import AnyRequest, current_user, services
from challenge_service.api.wire import ChallengeRotation, Rotation, RotationPeriod, timestamp
from challenge_service.catalog import Challenge
from challenge_service.rules.periods import Schedule, period_end, period_start

NO_ROTATION = Rotation(enabled=False, type="", schedule="", current_period=None, next_period=None)


def _period(schedule: Schedule, at: datetime, now: datetime) -> RotationPeriod:
    """The period containing `at`; `expiresInSeconds` counts from `now` to its end."""
    start, end = period_start(schedule, at), period_end(schedule, at)
    return RotationPeriod(
        start_time=timestamp(start),
        end_time=timestamp(end),
        expires_in_seconds=max(int((end - now).total_seconds()), 0),
    )


def challenge_rotation(challenge: Challenge, now: datetime) -> Rotation:
    # Goals of one challenge share a rotation in practice; the first rotating goal's stands for all.
    for goal in challenge.goals:
        rotation = goal.rotation
        if rotation is not None and rotation.enabled:
            current = _period(rotation.schedule, now, now)
            return Rotation(
                enabled=True,
                type=rotation.type,
                schedule=rotation.schedule,
                current_period=current,
                next_period=_period(rotation.schedule, period_end(rotation.schedule, now), now),
            )
    return NO_ROTATION


@get("/v1/challenges/{challenge_id:str}/rotation", summary="Rotation periods of a challenge")
async def get_rotation(request: AnyRequest, challenge_id: FromPath[str]) -> ChallengeRotation:
    svc = services(request)
    await current_user(request)
    challenge = svc.catalog.require_challenge(challenge_id)
    return ChallengeRotation(challenge_id, challenge_rotation(challenge, svc.clock()))

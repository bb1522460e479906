"""Dev-mode rewards (``REWARD_CLIENT_MODE=mock``): log and succeed, remembering what was granted.

Like AGS fulfillment by transaction id, a grant id is applied once: a repeat succeeds and grants
nothing, so claims and the reconciler behave with the mock as they do with AGS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from challenge_service.rewards.base import RewardGrantError, RewardLike, RewardSpec, Settled, to_spec

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class MockGrant:
    user_id: str
    reward: RewardSpec
    grant_id: str


class MockRewardClient:
    def __init__(self) -> None:
        self.grants: list[MockGrant] = []
        self._failures: list[RewardGrantError] = []

    def fail_next(self, error: RewardGrantError | None = None, *, times: int = 1) -> None:
        """Make the next ``times`` grants (settles included) raise ``error`` (default: a retryable
        failure), for claim tests."""
        failure = error or RewardGrantError("mock reward grant failure", retryable=True)
        self._failures.extend([failure] * times)

    async def grant(self, user_id: str, reward: RewardLike, grant_id: str) -> None:
        spec = to_spec(reward)
        if self._failures:
            raise self._failures.pop(0)
        if self._applied(grant_id):
            log.info("reward_grant_repeated", mode="mock", user_id=user_id, grant_id=grant_id)
            return
        self.grants.append(MockGrant(user_id, spec, grant_id))
        log.info(
            "reward_granted",
            mode="mock",
            user_id=user_id,
            reward_type=spec.type,
            reward_id=spec.reward_id,
            quantity=spec.quantity,
            grant_id=grant_id,
        )

    async def settle(self, user_id: str, reward: RewardLike, grant_id: str, since: datetime) -> Settled:
        if self._applied(grant_id):
            return "found"
        await self.grant(user_id, reward, grant_id)
        return "sent"

    def _applied(self, grant_id: str) -> bool:
        return any(grant.grant_id == grant_id for grant in self.grants)

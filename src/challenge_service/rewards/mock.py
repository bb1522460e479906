"""Dev-mode rewards (``REWARD_CLIENT_MODE=mock``): log and succeed, remembering what was granted."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from challenge_service.rewards.base import RewardGrantError, RewardLike, RewardSpec, to_spec

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class MockGrant:
    user_id: str
    reward: RewardSpec


class MockRewardClient:
    def __init__(self) -> None:
        self.grants: list[MockGrant] = []
        self._failures: list[RewardGrantError] = []

    def fail_next(self, error: RewardGrantError | None = None, *, times: int = 1) -> None:
        """Make the next ``times`` grants raise ``error`` (default: a retryable failure), for claim tests."""
        failure = error or RewardGrantError("mock reward grant failure", retryable=True)
        self._failures.extend([failure] * times)

    async def grant(self, user_id: str, reward: RewardLike) -> None:
        spec = to_spec(reward)
        if self._failures:
            raise self._failures.pop(0)
        self.grants.append(MockGrant(user_id, spec))
        log.info(
            "reward_granted",
            mode="mock",
            user_id=user_id,
            reward_type=spec.type,
            reward_id=spec.reward_id,
            quantity=spec.quantity,
        )

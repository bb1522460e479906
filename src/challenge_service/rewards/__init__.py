"""Reward clients for the claim: a mock for dev mode and the AGS Platform client.

The claim path depends only on ``RewardClient``; ``settings.REWARD_CLIENT_MODE`` picks the implementation.
"""

from challenge_service.rewards.ags import AgsRewardClient
from challenge_service.rewards.base import RewardClient, RewardGrantError, RewardLike, RewardSpec, RewardType
from challenge_service.rewards.mock import MockGrant, MockRewardClient

__all__ = [
    "AgsRewardClient",
    "MockGrant",
    "MockRewardClient",
    "RewardClient",
    "RewardGrantError",
    "RewardLike",
    "RewardSpec",
    "RewardType",
]

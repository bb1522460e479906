from __future__ import annotations

from dataclasses import dataclass

import pytest
from structlog.testing import capture_logs

from challenge_service.catalog.model import Reward
from challenge_service.rewards import (
    MockGrant,
    MockRewardClient,
    RewardClient,
    RewardGrantError,
    RewardSpec,
)


async def test_logs_and_records_grants() -> None:
    client = MockRewardClient()
    with capture_logs() as logs:
        await client.grant("user-1", RewardSpec("ITEM", "sword", 1))
        await client.grant("user-2", RewardSpec("WALLET", "GOLD", 50))
    assert client.grants == [
        MockGrant("user-1", RewardSpec("ITEM", "sword", 1)),
        MockGrant("user-2", RewardSpec("WALLET", "GOLD", 50)),
    ]
    assert [(e["event"], e["user_id"], e["reward_id"]) for e in logs] == [
        ("reward_granted", "user-1", "sword"),
        ("reward_granted", "user-2", "GOLD"),
    ]


async def test_accepts_the_catalog_reward_struct() -> None:
    client: RewardClient = MockRewardClient()  # also a static check that it satisfies the protocol
    await client.grant("user-1", Reward(type="WALLET", reward_id="GEMS", quantity=3))
    assert isinstance(client, MockRewardClient)
    assert client.grants == [MockGrant("user-1", RewardSpec("WALLET", "GEMS", 3))]


async def test_scripted_failures() -> None:
    client = MockRewardClient()
    client.fail_next(times=2)
    for _ in range(2):
        with pytest.raises(RewardGrantError) as info:
            await client.grant("user-1", RewardSpec("ITEM", "sword", 1))
        assert info.value.retryable
    await client.grant("user-1", RewardSpec("ITEM", "sword", 1))
    assert len(client.grants) == 1


@dataclass(frozen=True)
class PlainReward:
    """Any object with type/reward_id/quantity is a reward as far as the clients care."""

    type: str
    reward_id: str
    quantity: int


@pytest.mark.parametrize(
    "reward",
    [PlainReward("ITEM", "sword", 0), PlainReward("WALLET", "", 1), PlainReward("BADGE", "x", 1)],
)
async def test_rejects_invalid_rewards(reward: PlainReward) -> None:
    client = MockRewardClient()
    with pytest.raises(RewardGrantError) as info:
        await client.grant("user-1", reward)
    assert not info.value.retryable
    assert client.grants == []

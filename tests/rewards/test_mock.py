from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

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

GRANT_ID, OTHER_ID = "a" * 32, "b" * 32
SINCE = datetime(2025, 3, 12, tzinfo=UTC)


async def test_logs_and_records_grants() -> None:
    client = MockRewardClient()
    with capture_logs() as logs:
        await client.grant("user-1", RewardSpec("ITEM", "sword", 1), GRANT_ID)
        await client.grant("user-2", RewardSpec("WALLET", "GOLD", 50), OTHER_ID)
    assert client.grants == [
        MockGrant("user-1", RewardSpec("ITEM", "sword", 1), GRANT_ID),
        MockGrant("user-2", RewardSpec("WALLET", "GOLD", 50), OTHER_ID),
    ]
    assert [(e["event"], e["user_id"], e["reward_id"]) for e in logs] == [
        ("reward_granted", "user-1", "sword"),
        ("reward_granted", "user-2", "GOLD"),
    ]


async def test_accepts_the_catalog_reward_struct() -> None:
    client: RewardClient = MockRewardClient()  # also a static check that it satisfies the protocol
    await client.grant("user-1", Reward(type="WALLET", reward_id="GEMS", quantity=3), GRANT_ID)
    assert isinstance(client, MockRewardClient)
    assert client.grants == [MockGrant("user-1", RewardSpec("WALLET", "GEMS", 3), GRANT_ID)]


async def test_scripted_failures() -> None:
    client = MockRewardClient()
    client.fail_next(times=2)
    for _ in range(2):
        with pytest.raises(RewardGrantError) as info:
            await client.grant("user-1", RewardSpec("ITEM", "sword", 1), GRANT_ID)
        assert info.value.retryable
    await client.grant("user-1", RewardSpec("ITEM", "sword", 1), GRANT_ID)
    assert len(client.grants) == 1


async def test_a_grant_id_is_applied_once_like_an_ags_fulfillment() -> None:
    client = MockRewardClient()
    gold = RewardSpec("WALLET", "GOLD", 50)
    await client.grant("user-1", gold, GRANT_ID)
    await client.grant("user-1", gold, GRANT_ID)
    assert await client.settle("user-1", gold, GRANT_ID, SINCE) == "found"
    assert await client.settle("user-1", gold, OTHER_ID, SINCE) == "sent"
    assert [grant.grant_id for grant in client.grants] == [GRANT_ID, OTHER_ID]


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
        await client.grant("user-1", reward, GRANT_ID)
    assert not info.value.retryable
    assert client.grants == []

"""Exactly one grant per goal per period, whatever the concurrency (SPEC §5 claim)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from challenge_service.rewards import MockRewardClient, RewardLike
from tests.api.test_claim import (
    PLATFORM,
    USER,
    claim,
    ledger_rows,
    progress_status,
    put_row,
    use_ags,
    use_mock_rewards,
)
from tests.conftest import RunningService
from tests.fake_ags import FakeAgs

CONCURRENT = 50
REFUSED = {"GOAL_ALREADY_CLAIMED", "CLAIM_IN_PROGRESS"}


class SlowRewards(MockRewardClient):
    """Holds each grant open a while, so the other claims arrive while it is in flight."""

    async def grant(self, user_id: str, reward: RewardLike, grant_id: str) -> None:
        await asyncio.sleep(0.05)
        await super().grant(user_id, reward, grant_id)


async def claim_all(running: RunningService, n: int = CONCURRENT) -> list[httpx.Response]:
    return await asyncio.gather(*(claim(running, "onboarding", "first-login") for _ in range(n)))


def outcomes(responses: list[httpx.Response]) -> Counter[Any]:
    return Counter(
        r.status_code if r.status_code == 200 else (r.status_code, r.json()["errorCode"]) for r in responses
    )


async def test_fifty_concurrent_claims_grant_exactly_once(running: RunningService) -> None:
    rewards = use_mock_rewards(running)
    await put_row(running.settings.database_url, "first-login", "onboarding")

    responses = await claim_all(running)

    counts = outcomes(responses)
    assert counts[200] == 1, counts
    assert sum(counts.values()) == CONCURRENT
    assert all(key == 200 or (key[0] == 409 and key[1] in REFUSED) for key in counts), counts
    assert len(rewards.grants) == 1
    assert await ledger_rows(running.settings.database_url, "first-login") == [
        ("", "granted", 1, "WALLET", "GOLD", 100)
    ]
    assert (await progress_status(running.settings.database_url, "first-login"))[0] == "claimed"


async def test_claims_arriving_during_a_slow_grant_are_refused_as_in_progress(
    running: RunningService,
) -> None:
    use_mock_rewards(running)
    rewards = SlowRewards()
    assert running.service.services is not None
    running.service.services.rewards = rewards
    await put_row(running.settings.database_url, "first-login", "onboarding")

    counts = outcomes(await claim_all(running))

    assert counts[200] == 1, counts
    assert counts[(409, "CLAIM_IN_PROGRESS")] > 0, counts
    assert (
        counts[200] + counts[(409, "CLAIM_IN_PROGRESS")] + counts[(409, "GOAL_ALREADY_CLAIMED")] == CONCURRENT
    )
    assert len(rewards.grants) == 1


async def test_concurrent_claims_reach_ags_once(running: RunningService) -> None:
    with FakeAgs(namespace="accelbyte", client_id="challenge-service", client_secret="secret") as ags:
        async with httpx.AsyncClient() as http:
            use_ags(running, ags, http)
            await put_row(running.settings.database_url, "first-login", "onboarding")
            counts = outcomes(await claim_all(running))
    assert counts[200] == 1, counts
    assert ags.count(PLATFORM) == 1


async def test_concurrent_claims_after_a_failure_retry_it_once(running: RunningService) -> None:
    rewards = use_mock_rewards(running)
    url = running.settings.database_url
    await put_row(url, "first-login", "onboarding")
    rewards.fail_next()
    assert (await claim(running, "onboarding", "first-login")).status_code == 502

    counts = outcomes(await claim_all(running))

    assert counts[200] == 1, counts
    assert len(rewards.grants) == 1
    assert await ledger_rows(url, "first-login") == [("", "granted", 2, "WALLET", "GOLD", 100)]


async def test_concurrent_claims_of_different_players_and_goals_all_succeed(running: RunningService) -> None:
    rewards = use_mock_rewards(running)
    url = running.settings.database_url
    users = [f"{USER}-{i}" for i in range(10)]
    for user in users:
        await put_row(url, "first-login", "onboarding", user_id=user)
        await put_row(url, "career-500-matches", "career", user_id=user)

    responses = await asyncio.gather(
        *(claim(running, "onboarding", "first-login", user_id=u) for u in users),
        *(claim(running, "career", "career-500-matches", user_id=u) for u in users),
    )

    assert [r.status_code for r in responses] == [200] * 20
    assert len(rewards.grants) == 20

"""Exactly one grant per goal per period, whatever the concurrency."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from challenge_service.rewards import MockRewardClient, RewardLike
from tests.helpers.claims import (
    PLATFORM,
    USER,
    claim,
    fake_ags,
    ledger_rows,
    progress_status,
    put_row,
    use_ags,
    use_mock_rewards,
)
from tests.helpers.service import RunningService
from tests.helpers.waiting import eventually

CONCURRENT = 50
REFUSED = {"GOAL_ALREADY_CLAIMED", "CLAIM_IN_PROGRESS"}


class GatedRewards(MockRewardClient):
    """Holds each grant open until the test opens the gate, so other claims arrive while it is in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = 0
        self.gate = asyncio.Event()

    async def grant(self, user_id: str, reward: RewardLike, grant_id: str) -> None:
        self.in_flight += 1
        await self.gate.wait()
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
    rewards = GatedRewards()
    assert running.service.services is not None
    running.service.services.rewards = rewards
    await put_row(running.settings.database_url, "first-login", "onboarding")

    first = asyncio.create_task(claim(running, "onboarding", "first-login"))
    await eventually(lambda: rewards.in_flight == 1)
    try:
        # A claim that waited for the grant instead of refusing would hang here.
        async with asyncio.timeout(30):
            during = outcomes(await claim_all(running, CONCURRENT - 1))
    finally:
        rewards.gate.set()

    assert (await first).status_code == 200
    assert during == {(409, "CLAIM_IN_PROGRESS"): CONCURRENT - 1}, during
    assert rewards.in_flight == 1
    assert len(rewards.grants) == 1


async def test_concurrent_claims_reach_ags_once(running: RunningService) -> None:
    with fake_ags() as ags:
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

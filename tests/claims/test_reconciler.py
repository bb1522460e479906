"""Grants that settle themselves (`claims/reconciler.py`) against the fake AGS: a lost answer, a request
AGS never saw, an AGS outage and two replicas each end with the reward granted exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from challenge_service.app import Service
from challenge_service.claims.reconciler import GrantReconciler, ReconcilePolicy
from challenge_service.claims.service import ClaimHooks
from challenge_service.rewards import AgsRewardClient, MockRewardClient, RewardClient
from tests.fake_ags import FakeAgs
from tests.helpers.api import assert_error
from tests.helpers.claims import (
    NOW,
    PLATFORM,
    TODAY_END,
    USER,
    ags_rewards,
    claim,
    claim_service,
    crash,
    fake_ags,
    progress_status,
    put_grant,
    put_row,
    use_mock_rewards,
)
from tests.helpers.db import db_execute, fetch
from tests.helpers.service import RunningService, make_settings
from tests.helpers.waiting import eventually

# Fast cycles and back-off, but the real thresholds: tests age rows in SQL instead of waiting for them.
FAST = ReconcilePolicy(
    interval_s=0.05, first_delay_s=0, settle_timeout_s=5, lease_s=10, backoff_s=0.05, max_backoff_s=0.2
)
# (challenge, goal, the player's row expiry): a WALLET reward and an ITEM one.
WALLET_GOAL = ("onboarding", "first-login", None)
ITEM_GOAL = ("daily-challenges", "daily-100-kills", TODAY_END)
GOALS = pytest.mark.parametrize("goal", [WALLET_GOAL, ITEM_GOAL], ids=["WALLET", "ITEM"])


@pytest.fixture
def ags() -> Iterator[FakeAgs]:
    with fake_ags() as server:
        yield server


def ags_client(ags: FakeAgs, http: httpx.AsyncClient, **options: Any) -> AgsRewardClient:
    # One attempt and a short budget: a claim that meets a fault leaves its grant in doubt at once.
    return ags_rewards(ags, http, **{"attempts": 1, "budget_s": 0.5, **options})


@asynccontextmanager
async def reconciling_service(database_url: str, rewards: RewardClient) -> AsyncIterator[Service]:
    """A whole service whose reconciler runs every 50 ms, granting through `rewards`."""
    service = Service(make_settings(database_url), host="127.0.0.1", reconcile=FAST)
    await service.start()
    try:
        assert service.services is not None
        service.services.rewards = rewards
        service.services.clock = lambda: NOW
        yield service
    finally:
        await service.stop()


def reconciler(running: RunningService, rewards: RewardClient, **policy: Any) -> GrantReconciler:
    """A reconciler of its own on the test's database, run by hand with `run_once`."""
    services = running.service.services
    assert services is not None
    return GrantReconciler(services.pool, lambda: rewards, lambda: NOW, replace(FAST, **policy))


async def age_grants(database_url: str, seconds: int = 3600) -> None:
    """Pretend the unresolved grants were left that long ago (what the thresholds wait for)."""
    await db_execute(
        database_url,
        "UPDATE reward_grants SET updated_at = updated_at - make_interval(secs => %s)",
        (seconds,),
    )


async def grant_row(database_url: str, goal_id: str, user_id: str = USER) -> tuple[Any, ...]:
    """(state, attempts, reconcile_attempts, last_error) of the player's ledger row of this goal."""
    [row] = await fetch(
        database_url,
        """SELECT state, attempts, reconcile_attempts, last_error FROM reward_grants
            WHERE user_id = %s AND goal_id = %s""",
        user_id,
        goal_id,
    )
    return row


async def claim_in_doubt(running: RunningService, goal: tuple[str, str, Any]) -> None:
    challenge_id, goal_id, expires_at = goal
    await put_row(running.settings.database_url, goal_id, challenge_id, expires_at=expires_at)
    assert_error(await claim(running, challenge_id, goal_id), 502, 13, "REWARD_GRANT_FAILED")
    assert_error(await claim(running, challenge_id, goal_id), 409, 6, "GRANT_IN_DOUBT")


async def assert_settled_as_granted(running: RunningService, goal: tuple[str, str, Any]) -> None:
    challenge_id, goal_id, _ = goal
    url = running.settings.database_url
    assert (await grant_row(url, goal_id))[0] == "granted"
    assert (await progress_status(url, goal_id))[0] == "claimed"
    assert_error(await claim(running, challenge_id, goal_id), 409, 6, "GOAL_ALREADY_CLAIMED")


# -- the four stories ---------------------------------------------------------------------------------


@GOALS
async def test_ags_applied_the_grant_then_the_answer_was_lost(
    running: RunningService, ags: FakeAgs, http: httpx.AsyncClient, goal: tuple[str, str, Any]
) -> None:
    client = ags_client(ags, http)
    use_mock_rewards(running).grants.clear()
    assert running.service.services is not None
    running.service.services.rewards = client
    ags.apply_then_drop(PLATFORM)
    await claim_in_doubt(running, goal)
    assert len(ags.applied) == 1

    await age_grants(running.settings.database_url)
    assert await reconciler(running, client).run_once() == 1

    await assert_settled_as_granted(running, goal)
    assert len(ags.applied) == 1  # nothing granted twice


@GOALS
async def test_ags_never_saw_the_grant(
    running: RunningService, ags: FakeAgs, http: httpx.AsyncClient, goal: tuple[str, str, Any]
) -> None:
    client = ags_client(ags, http)
    use_mock_rewards(running)
    assert running.service.services is not None
    running.service.services.rewards = client
    ags.drop(PLATFORM)
    await claim_in_doubt(running, goal)
    assert ags.applied == []

    await age_grants(running.settings.database_url)
    assert await reconciler(running, client).run_once() == 1

    await assert_settled_as_granted(running, goal)
    assert len(ags.applied) == 1  # granted once


async def test_ags_down_for_a_while_then_settled_when_back(
    database_url: str, ags: FakeAgs, http: httpx.AsyncClient
) -> None:
    client = ags_client(ags, http)
    async with reconciling_service(database_url, MockRewardClient()) as service:
        assert service.services is not None
        base = f"http://127.0.0.1:{service.settings.http_port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as api:
            running = RunningService(service, service.settings, api)
            service.services.rewards = client
            ags.drop(PLATFORM)
            await claim_in_doubt(running, WALLET_GOAL)
            # AGS answers nothing but 503 for the next several calls: lookups and credits alike.
            ags.fail(PLATFORM, 503, times=6)
            await age_grants(database_url)

            async def settled() -> bool:
                return (await grant_row(database_url, "first-login"))[0] == "granted"

            await eventually(settled, timeout_s=10)
            state, attempts, reconcile_attempts, _ = await grant_row(database_url, "first-login")
            assert (state, attempts) == ("granted", 1)
            assert reconcile_attempts >= 3  # tried, backed off, tried again
            assert len(ags.applied) == 1
            await eventually(lambda: backlog_gauge() == 0)


async def test_two_replicas_reconciling_the_same_entries_grant_each_once(
    database_url: str, ags: FakeAgs, http: httpx.AsyncClient
) -> None:
    users = [f"replica-user-{n}" for n in range(20)]
    async with (
        reconciling_service(database_url, ags_client(ags, http, budget_s=5)),
        reconciling_service(database_url, ags_client(ags, http, budget_s=5)),
    ):
        # Slow answers widen the window in which two replicas could both look and both credit.
        ags.delay(PLATFORM, 0.05, times=1000)
        for user in users:
            await put_row(database_url, "first-login", "onboarding", user_id=user)
            await put_grant(database_url, "in_doubt", user_id=user)
        await age_grants(database_url)

        async def all_granted() -> bool:
            rows = await fetch(database_url, "SELECT count(*) FROM reward_grants WHERE state = 'granted'")
            return bool(rows[0][0] == len(users))

        await eventually(all_granted, timeout_s=20)

    credits = ags.requests("/platform/admin/namespaces/accelbyte/users/*/wallets/GOLD/credit", "PUT")
    assert sorted(call.path.split("/")[6] for call in credits) == sorted(users)
    assert len(ags.applied) == len(users)


# -- the rules around them ----------------------------------------------------------------------------


async def test_two_reconcilers_at_once_take_each_row_once(
    running: RunningService, ags: FakeAgs, http: httpx.AsyncClient
) -> None:
    url = running.settings.database_url
    for n in range(10):
        await put_row(url, "first-login", "onboarding", user_id=f"u{n}")
        await put_grant(url, "in_doubt", user_id=f"u{n}")
    await age_grants(url)
    ags.delay(PLATFORM, 0.05, times=1000)
    client = ags_client(ags, http, budget_s=5)

    taken = await asyncio.gather(
        reconciler(running, client).run_once(), reconciler(running, client).run_once()
    )

    assert sum(taken) == 10
    assert len(ags.applied) == 10


async def test_a_pending_grant_left_by_a_dead_claim_is_settled(running: RunningService) -> None:
    url = running.settings.database_url
    rewards = use_mock_rewards(running)
    await put_row(url, "first-login", "onboarding")
    with pytest.raises(RuntimeError):
        await claim_service(running, ClaimHooks(after_grant=crash)).claim(USER, "onboarding", "first-login")
    assert (await grant_row(url, "first-login"))[0] == "pending"

    # A claim still in flight is left alone: pending is taken only long after.
    assert await reconciler(running, rewards).run_once() == 0
    await age_grants(url, 300)
    assert await reconciler(running, rewards).run_once() == 1

    assert await grant_row(url, "first-login") == ("granted", 1, 1, "")
    assert len(rewards.grants) == 1


async def test_a_fresh_doubt_waits_for_a_late_answer_to_land(running: RunningService) -> None:
    url = running.settings.database_url
    rewards = use_mock_rewards(running)
    await put_row(url, "first-login", "onboarding")
    await put_grant(url, "in_doubt")

    assert await reconciler(running, rewards).run_once() == 0
    await age_grants(url, 61)
    assert await reconciler(running, rewards).run_once() == 1


async def test_settlements_count_as_grants_by_what_ags_finally_answered(running: RunningService) -> None:
    url = running.settings.database_url
    rewards = use_mock_rewards(running)
    await put_row(url, "first-login", "onboarding")
    await put_grant(url, "in_doubt")
    await age_grants(url)
    before = outcome_counts()

    assert await reconciler(running, rewards).run_once() == 1

    assert delta(before, outcome_counts()) == {("grants", "granted"): 1, ("reconciliations", "sent"): 1}


async def test_an_outright_refusal_makes_the_goal_claimable_again(
    running: RunningService, ags: FakeAgs, http: httpx.AsyncClient
) -> None:
    url = running.settings.database_url
    client = ags_client(ags, http)
    await put_row(url, "first-login", "onboarding")
    await put_grant(url, "in_doubt")
    await age_grants(url)
    # The wallet was never credited (404), and the credit is refused: nothing was granted, for sure.
    ags.fail("*/credit", 400, body={"errorCode": 35123, "errorMessage": "Wallet is inactive"})
    before = outcome_counts()

    assert await reconciler(running, client).run_once() == 1

    assert delta(before, outcome_counts()) == {("grants", "failed"): 1, ("reconciliations", "failed"): 1}

    state, _, _, last_error = await grant_row(url, "first-login")
    assert state == "failed"
    assert "Wallet is inactive" in last_error
    assert len(ags.applied) == 0


async def test_an_entitlement_grant_waits_for_an_operator(
    running: RunningService, ags: FakeAgs, http: httpx.AsyncClient
) -> None:
    url = running.settings.database_url
    client = ags_client(ags, http, item_grant="entitlement")
    await put_row(url, "daily-100-kills", "daily-challenges", expires_at=TODAY_END)
    await put_grant(url, "in_doubt", goal_id="daily-100-kills", reward=("ITEM", "sword", 1))
    await age_grants(url)

    assert await reconciler(running, client).run_once() == 1
    assert await reconciler(running, client).run_once() == 0  # backed off

    state, _, reconcile_attempts, last_error = await grant_row(url, "daily-100-kills")
    assert (state, reconcile_attempts) == ("in_doubt", 1)
    assert "resolve the grant by hand" in last_error
    assert ags.count(PLATFORM) == 0


async def test_a_settlement_marks_only_its_own_period_claimed(running: RunningService) -> None:
    url = running.settings.database_url
    rewards = use_mock_rewards(running)
    # The grant is for yesterday's period; the player's row has moved on to today's.
    await put_row(url, "daily-login", "daily-challenges", "in_progress", expires_at=TODAY_END)
    await put_grant(
        url,
        "in_doubt",
        goal_id="daily-login",
        period="2025-03-11T00:00:00Z",
        expires_at=NOW.replace(hour=0),
    )
    await age_grants(url)

    assert await reconciler(running, rewards).run_once() == 1

    assert (await grant_row(url, "daily-login"))[0] == "granted"
    assert (await progress_status(url, "daily-login"))[0] == "in_progress"


def test_the_back_off_doubles_up_to_its_cap() -> None:
    policy = ReconcilePolicy(backoff_s=30, max_backoff_s=3600)
    assert [policy.backoff(n) for n in (1, 2, 3, 8, 50)] == [30, 60, 120, 3600, 3600]
    with pytest.raises(ValueError, match="lease"):
        ReconcilePolicy(settle_timeout_s=120, lease_s=120)


# -- helpers --------------------------------------------------------------------------------------------


def outcome_counts() -> dict[tuple[str, str], float]:
    """challenge_reward_grants_total and challenge_reward_reconciliations_total, by outcome."""
    counters = {"grants": "challenge_reward_grants", "reconciliations": "challenge_reward_reconciliations"}
    return {
        (short, sample.labels["outcome"]): sample.value
        for short, name in counters.items()
        for family in REGISTRY.collect()
        if family.name == name
        for sample in family.samples
        if sample.name.endswith("_total")
    }


def delta(before: dict[tuple[str, str], float], after: dict[tuple[str, str], float]) -> dict[Any, float]:
    """The counters that moved, and by how much."""
    return {key: value - before.get(key, 0) for key, value in after.items() if value != before.get(key, 0)}


def backlog_gauge() -> float | None:
    return REGISTRY.get_sample_value("challenge_reward_grants_unresolved")

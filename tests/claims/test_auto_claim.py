"""Auto-claim: the flush that completes an `autoClaim` goal owes its claim in the same statement, and
the auto-claimer grants every reward through the ledger, exactly once, and marks the goal claimed —
after AGS failures, and across SIGKILL of the real process and two replicas (grants counted at the
fake AGS)."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import httpx
import pytest
from grpclib.client import Channel

from challenge_service.claims.auto import AutoClaimPolicy
from tests.fake_ags import FakeAgs
from tests.helpers.api import assert_error
from tests.helpers.claims import PLATFORM, claim, fake_ags, use_ags, use_mock_rewards
from tests.helpers.db import fetch
from tests.helpers.design import DESIGN_CATALOG, SATURDAY, design_service, events_of, initialize
from tests.helpers.events import EventClient
from tests.helpers.process import fresh_ports, http_url, kill, service_env, start
from tests.helpers.service import RunningService, set_clock
from tests.helpers.waiting import eventually

GOAL = ("tokyo-daily", "tokyo-login")  # a login goal with two rewards (GOLD, login-chest), autoClaim
QUICK = AutoClaimPolicy(interval_s=0.2, first_delay_s=0.1, lease_s=5.0, backoff_s=0.05, max_backoff_s=0.2)


def claimed(database_url: str, player: str) -> Callable[[], Awaitable[bool]]:
    """A check for `eventually`: the player's goal is claimed."""

    async def check() -> bool:
        return await status(database_url, player) == "claimed"

    return check


async def status(database_url: str, player: str) -> str | None:
    rows = await fetch(
        database_url,
        "SELECT status FROM user_goal_progress WHERE user_id = %s AND goal_id = %s",
        player,
        GOAL[1],
    )
    return rows[0][0] if rows else None


async def ledger(database_url: str, player: str) -> list[tuple[str, int, str]]:
    rows = await fetch(
        database_url,
        """SELECT period, reward_index, state FROM reward_grants WHERE user_id = %s AND goal_id = %s
            ORDER BY period, reward_index""",
        player,
        GOAL[1],
    )
    return [(period, index, state) for period, index, state in rows]


async def test_a_completed_auto_claim_goal_is_granted_once_per_period_without_a_claim_call(
    database_url: str,
) -> None:
    async with design_service(database_url) as running:
        rewards = use_mock_rewards(running, SATURDAY)
        clock = set_clock(running, SATURDAY)  # 21:00 in Tokyo
        await initialize(running, "p1")
        async with events_of(running) as events:
            await events.login("p1")
            await eventually(claimed(database_url, "p1"), 5)
            assert sorted(g.reward.reward_id for g in rewards.grants) == ["GOLD", "login-chest"]
            # A claim call answers as for any claimed goal.
            assert_error(await claim(running, *GOAL, user_id="p1"), 409, 6, "GOAL_ALREADY_CLAIMED")
            # More logins the same Tokyo day owe nothing more.
            await events.login("p1")
            # After 04:00 in Tokyo the goal rotates; the next login completes and is granted again.
            clock.now = SATURDAY + timedelta(hours=8)
            await events.login("p1")
            await eventually(lambda: len(rewards.grants) == 4, 5)
            await eventually(claimed(database_url, "p1"), 5)
        assert await ledger(database_url, "p1") == [
            ("2026-07-03T19:00:00Z", 0, "granted"),
            ("2026-07-03T19:00:00Z", 1, "granted"),
            ("2026-07-04T19:00:00Z", 0, "granted"),
            ("2026-07-04T19:00:00Z", 1, "granted"),
        ]
        assert len(rewards.grants) == 4


@pytest.fixture
async def on_ags(database_url: str, http: httpx.AsyncClient) -> AsyncIterator[tuple[RunningService, FakeAgs]]:
    """The design service granting through the fake AGS, its clock on SATURDAY, player p1 initialized."""
    with fake_ags() as ags:
        async with design_service(database_url, auto_claim=QUICK) as running:
            use_ags(running, ags, http)
            set_clock(running, SATURDAY)
            await initialize(running, "p1")
            yield running, ags


async def log_in(running: RunningService, player: str) -> None:
    async with events_of(running) as events:
        await events.login(player)


async def test_an_owed_claim_waits_out_ags_failures_and_grants_each_reward_once(
    on_ags: tuple[RunningService, FakeAgs], database_url: str
) -> None:
    running, ags = on_ags
    ags.fail(PLATFORM + "*", 503, times=3)  # the first three grant calls fail, retryably
    await log_in(running, "p1")
    await eventually(claimed(database_url, "p1"), 10)
    assert grants_per_player(ags) == Counter({("p1", "credit"): 1, ("p1", "fulfillment"): 1})
    assert [state for _, _, state in await ledger(database_url, "p1")] == ["granted", "granted"]


async def test_an_owed_claim_that_ags_refuses_for_good_is_dropped_and_stays_claimable(
    on_ags: tuple[RunningService, FakeAgs], database_url: str
) -> None:
    running, ags = on_ags
    ags.fail(PLATFORM + "*", 400, times=1, body={"errorCode": 20002, "errorMessage": "bad request"})
    await log_in(running, "p1")

    async def dropped() -> bool:
        rows = await fetch(
            database_url,
            "SELECT auto_claim_at FROM user_goal_progress WHERE user_id = 'p1' AND goal_id = %s",
            GOAL[1],
        )
        return rows[0][0] is None

    await eventually(dropped, 5)
    assert await status(database_url, "p1") == "completed"
    # The player's own claim grants what is missing.
    response = await claim(running, *GOAL, user_id="p1")
    assert response.status_code == 200, response.text
    assert grants_per_player(ags) == Counter({("p1", "credit"): 1, ("p1", "fulfillment"): 1})


# -- SIGKILL and replicas --------------------------------------------------------------------------------

PLAYERS = [f"auto-{i}" for i in range(30)]
FAST_SERVE = (sys.executable, "-m", "tests.helpers.serve_fast")


def grants_per_player(ags: FakeAgs) -> Counter[tuple[str, str]]:
    """(player, kind) → how many times AGS applied it; kind is `credit` or `fulfillments`."""
    counted: Counter[tuple[str, str]] = Counter()
    for request in ags.applied:
        segments = request.path.split("/")
        player = segments[segments.index("users") + 1]
        counted[player, "credit" if request.path.endswith("/credit") else "fulfillment"] += 1
    return counted


def all_claimed(database_url: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        rows = await fetch(
            database_url,
            "SELECT count(*) FROM user_goal_progress WHERE goal_id = %s AND status = 'claimed'",
            GOAL[1],
        )
        return int(rows[0][0]) == len(PLAYERS)

    return check


@pytest.mark.slow
async def test_auto_claims_grant_exactly_once_across_sigkill_and_replicas(database_url: str) -> None:
    with fake_ags() as ags:
        env = service_env(
            database_url,
            CHALLENGE_CONFIG_PATH=str(DESIGN_CATALOG),
            REWARD_CLIENT_MODE="real",
            AB_BASE_URL=ags.base_url,
            AB_CLIENT_ID=ags.client_id,
            AB_CLIENT_SECRET=ags.client_secret,
            AB_NAMESPACE=ags.namespace,
        )
        # Slow grants, so kills land between asking AGS and recording its answer.
        ags.delay(PLATFORM + "*", 0.3, times=10_000)
        process = await start(env, command=FAST_SERVE)
        try:
            async with httpx.AsyncClient() as client:
                for player in PLAYERS:
                    response = await client.post(
                        f"{http_url(env)}/v1/challenges/initialize", headers={"X-Mock-User-Id": player}
                    )
                    assert response.status_code == 200, response.text
            channel = Channel("127.0.0.1", int(env["GRPC_PORT"]))
            try:
                events = EventClient(channel)
                await asyncio.gather(*(events.login(player) for player in PLAYERS))
            finally:
                channel.close()
            # Kill twice while grants are in flight, restarting each time.
            for seen in (5, 20):
                await eventually(lambda: len(ags.applied) >= seen, 30, interval_s=0.02)  # noqa: B023
                kill(process)
                env.update(fresh_ports())  # the killed process's ports may still be held
                process = await start(env, command=FAST_SERVE)
            # Then two replicas share what is left.
            replica_env = {**env, **fresh_ports()}
            replica = await start(replica_env, command=FAST_SERVE)
            try:
                await eventually(all_claimed(database_url), 60, interval_s=0.2)
            finally:
                kill(replica)
        finally:
            kill(process)
        counted = grants_per_player(ags)
    assert counted == Counter({(player, kind): 1 for player in PLAYERS for kind in ("credit", "fulfillment")})
    rows = await fetch(database_url, "SELECT state, count(*) FROM reward_grants GROUP BY state")
    assert rows == [("granted", 2 * len(PLAYERS))]
    # The kills did land mid-grant: the reconciler settled grants that a killed process had left pending.
    [(settled,)] = await fetch(
        database_url, "SELECT count(*) FROM reward_grants WHERE reconcile_attempts > 0"
    )
    assert settled > 0

"""Claim tests' shared ground: a completed row to claim, the claim call, and what it left behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from challenge_service.claims.ledger import GrantKey
from challenge_service.claims.service import ClaimHooks, ClaimService
from challenge_service.rewards import AgsRewardClient, MockRewardClient
from tests.fake_ags import FakeAgs
from tests.helpers.db import fetch, seed
from tests.helpers.service import RunningService, set_clock

USER = "claim-user"
NOW = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)  # a Wednesday
TODAY_END = datetime(2025, 3, 13, tzinfo=UTC)
PLATFORM = "/platform/*"
_AGS = {"namespace": "accelbyte", "client_id": "challenge-service", "client_secret": "secret"}


async def put_row(
    database_url: str,
    goal_id: str,
    challenge_id: str,
    status: str = "completed",
    *,
    user_id: str = USER,
    is_active: bool = True,
    expires_at: datetime | None = None,
) -> None:
    """Insert (or replace) one progress row as the event path would have left it."""
    await seed(
        database_url,
        user_id,
        goal_id,
        challenge_id=challenge_id,
        progress=5,
        baseline=0,
        status=status,
        is_active=is_active,
        assigned_at=NOW - timedelta(days=1),
        completed_at=NOW - timedelta(hours=1) if status in ("completed", "claimed") else None,
        claimed_at=NOW - timedelta(minutes=30) if status == "claimed" else None,
        expires_at=expires_at,
    )


async def put_grant(
    database_url: str,
    state: str,
    *,
    user_id: str = USER,
    goal_id: str = "first-login",
    period: str = "",
    expires_at: datetime | None = None,
    reward: tuple[str, str, int] = ("WALLET", "GOLD", 100),
    age_s: int = 0,
    last_error: str = "",
    reward_index: int = 0,
) -> str:
    """Insert one reward-ledger row as a claim would have left it, last touched `age_s` ago; returns its
    grant id as the admin API and AGS see it."""
    [(grant_id,)] = await fetch(
        database_url,
        """INSERT INTO reward_grants (user_id, goal_id, period, expires_at, reward_type, reward_id,
               quantity, state, last_error, updated_at, reward_index)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, now() - make_interval(secs => %s), %s)
           RETURNING replace(grant_id::text, '-', '')""",
        user_id,
        goal_id,
        period,
        expires_at,
        *reward,
        state,
        last_error,
        age_s,
        reward_index,
    )
    return str(grant_id)


async def ledger_rows(database_url: str, goal_id: str, user_id: str = USER) -> list[tuple[Any, ...]]:
    """(period, state, attempts, reward_type, reward_id, quantity) per ledger row, by period."""
    return await fetch(
        database_url,
        """SELECT period, state, attempts, reward_type, reward_id, quantity FROM reward_grants
            WHERE user_id = %s AND goal_id = %s ORDER BY period""",
        user_id,
        goal_id,
    )


async def progress_status(
    database_url: str, goal_id: str, user_id: str = USER
) -> tuple[str, datetime | None]:
    rows = await fetch(
        database_url,
        "SELECT status, claimed_at FROM user_goal_progress WHERE user_id = %s AND goal_id = %s",
        user_id,
        goal_id,
    )
    status, claimed_at = rows[0]
    return status, claimed_at


async def claim(
    running: RunningService, challenge_id: str, goal_id: str, *, user_id: str = USER, **kwargs: Any
) -> httpx.Response:
    return await running.http.post(
        f"{running.base}/v1/challenges/{challenge_id}/goals/{goal_id}/claim",
        headers={"X-Mock-User-Id": user_id},
        **kwargs,
    )


def use_mock_rewards(running: RunningService, now: datetime = NOW) -> MockRewardClient:
    """Mock rewards that record each grant, and the service's clock stopped at `now`."""
    services = running.service.services
    assert services is not None
    rewards = MockRewardClient()
    services.rewards = rewards
    set_clock(running, now)
    return rewards


def fake_ags() -> FakeAgs:
    """A fake AGS with the credentials `use_ags` presents."""
    return FakeAgs(**_AGS)


def ags_rewards(ags: FakeAgs, http: httpx.AsyncClient, **options: Any) -> AgsRewardClient:
    """The real reward client against the fake, with short back-off so retries take milliseconds."""
    options = {"backoff": (0.01,), "budget_s": 5.0, **options}
    return AgsRewardClient(
        ags.base_url, _AGS["client_id"], _AGS["client_secret"], _AGS["namespace"], http, **options
    )


def use_ags(running: RunningService, ags: FakeAgs, http: httpx.AsyncClient, **options: Any) -> None:
    """The service grants through `ags_rewards`, its clock stopped at NOW."""
    use_mock_rewards(running)
    assert running.service.services is not None
    running.service.services.rewards = ags_rewards(ags, http, **options)


def claim_service(running: RunningService, hooks: ClaimHooks) -> ClaimService:
    services = running.service.services
    assert services is not None
    return ClaimService(services.catalog, services.pool, services.rewards, services.clock, hooks)


async def crash(key: GrantKey) -> None:
    """A claim hook that dies where the process could, to leave a grant in doubt."""
    raise RuntimeError("process died here")

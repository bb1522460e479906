"""`POST /v1/challenges/{cid}/goals/{gid}/claim` over real HTTP on a real database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from challenge_service.claims.ledger import GrantKey
from challenge_service.claims.service import ClaimHooks
from challenge_service.rewards import MockRewardClient, RewardGrantError
from tests.fake_ags import FakeAgs
from tests.helpers.api import assert_error
from tests.helpers.claims import (
    NOW,
    PLATFORM,
    TODAY_END,
    USER,
    claim,
    claim_service,
    crash,
    fake_ags,
    ledger_rows,
    progress_status,
    put_row,
    use_ags,
    use_mock_rewards,
)
from tests.helpers.service import RunningService, set_clock


@pytest.fixture
def rewards(running: RunningService) -> MockRewardClient:
    return use_mock_rewards(running)


# -- success, retries and the body -----------------------------------------------------------------------


async def test_claim_grants_once_and_marks_the_goal_claimed(
    running: RunningService, rewards: MockRewardClient
) -> None:
    url = running.settings.database_url
    await put_row(url, "first-login", "onboarding")

    response = await claim(running, "onboarding", "first-login")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "goalId": "first-login",
        "status": "claimed",
        "reward": {"type": "WALLET", "rewardId": "GOLD", "quantity": 100},
        "rewards": [{"type": "WALLET", "rewardId": "GOLD", "quantity": 100}],
        "claimedAt": "2025-03-12T10:00:00Z",
    }
    assert [(g.user_id, g.reward.type, g.reward.reward_id, g.reward.quantity) for g in rewards.grants] == [
        (USER, "WALLET", "GOLD", 100)
    ]
    assert await ledger_rows(url, "first-login") == [("", "granted", 1, "WALLET", "GOLD", 100)]
    assert await progress_status(url, "first-login") == ("claimed", NOW)


async def test_a_client_retry_after_success_is_409_and_grants_nothing(
    running: RunningService, rewards: MockRewardClient
) -> None:
    await put_row(running.settings.database_url, "first-login", "onboarding")
    assert (await claim(running, "onboarding", "first-login")).status_code == 200

    retry = await claim(running, "onboarding", "first-login")

    assert_error(retry, 409, 6, "GOAL_ALREADY_CLAIMED")
    assert len(rewards.grants) == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"content": b""},
        {"content": b"null"},
        {"content": b"{not json"},
        {"json": {"goal_id": "other", "unknown": [1]}},
    ],
)
async def test_the_body_is_ignored(
    running: RunningService, rewards: MockRewardClient, body: dict[str, Any]
) -> None:
    await put_row(running.settings.database_url, "first-login", "onboarding")
    response = await claim(running, "onboarding", "first-login", **body)
    assert response.status_code == 200, response.text
    assert response.json()["goalId"] == "first-login"


async def test_players_do_not_share_claims(running: RunningService, rewards: MockRewardClient) -> None:
    url = running.settings.database_url
    for user in ("p1", "p2"):
        await put_row(url, "first-login", "onboarding", user_id=user)
        assert (await claim(running, "onboarding", "first-login", user_id=user)).status_code == 200
    assert [g.user_id for g in rewards.grants] == ["p1", "p2"]


# -- every refusal, in the documented order -------------------------------------------------------------


async def test_unknown_challenge_and_goal_are_404(running: RunningService, rewards: MockRewardClient) -> None:
    assert_error(await claim(running, "nope", "first-login"), 404, 5, "CHALLENGE_NOT_FOUND")
    assert_error(await claim(running, "onboarding", "nope"), 404, 5, "GOAL_NOT_FOUND")
    # A goal of another challenge is "not in that challenge", even with a claimable row.
    await put_row(running.settings.database_url, "daily-login", "daily-challenges", expires_at=TODAY_END)
    assert_error(await claim(running, "onboarding", "daily-login"), 404, 5, "GOAL_NOT_FOUND")
    assert rewards.grants == []


async def test_no_row_is_not_completed_with_its_status(
    running: RunningService, rewards: MockRewardClient
) -> None:
    body = assert_error(await claim(running, "onboarding", "first-login"), 400, 9, "GOAL_NOT_COMPLETED")
    assert "goal is not completed (status: not_started)" in body["message"]


@pytest.mark.parametrize(
    ("row", "status", "code", "error_code", "message"),
    [
        # inactive is checked before everything about the row's state
        ({"status": "claimed", "is_active": False}, 400, 9, "GOAL_NOT_ACTIVE", ""),
        ({"status": "completed", "is_active": False}, 400, 9, "GOAL_NOT_ACTIVE", ""),
        # rotated before claimed / completed
        ({"status": "claimed", "expires_at": NOW - timedelta(hours=10)}, 400, 9, "GOAL_ROTATED", ""),
        ({"status": "completed", "expires_at": NOW - timedelta(hours=10)}, 400, 9, "GOAL_ROTATED", ""),
        ({"status": "completed", "expires_at": NOW}, 400, 9, "GOAL_ROTATED", ""),
        ({"status": "claimed", "expires_at": TODAY_END}, 409, 6, "GOAL_ALREADY_CLAIMED", ""),
        (
            {"status": "in_progress", "expires_at": TODAY_END},
            400,
            9,
            "GOAL_NOT_COMPLETED",
            "(status: in_progress)",
        ),
        (
            {"status": "not_started", "expires_at": TODAY_END},
            400,
            9,
            "GOAL_NOT_COMPLETED",
            "(status: not_started)",
        ),
    ],
)
async def test_row_checks_in_spec_order(
    running: RunningService,
    rewards: MockRewardClient,
    row: dict[str, Any],
    status: int,
    code: int,
    error_code: str,
    message: str,
) -> None:
    await put_row(running.settings.database_url, "daily-login", "daily-challenges", **row)
    body = assert_error(await claim(running, "daily-challenges", "daily-login"), status, code, error_code)
    assert message in body["message"]
    assert rewards.grants == []
    assert await ledger_rows(running.settings.database_url, "daily-login") == []


async def test_prerequisites_must_be_completed_or_claimed(
    running: RunningService, rewards: MockRewardClient
) -> None:
    url = running.settings.database_url
    await put_row(url, "complete-tutorial", "onboarding")  # requires first-login

    body = assert_error(
        await claim(running, "onboarding", "complete-tutorial"), 400, 9, "PREREQUISITES_NOT_MET"
    )
    assert "first-login" in body["message"]
    await put_row(url, "first-login", "onboarding", "in_progress")
    assert_error(await claim(running, "onboarding", "complete-tutorial"), 400, 9, "PREREQUISITES_NOT_MET")
    # A goal that is not completed reports that first: prerequisites come last.
    await put_row(url, "complete-tutorial", "onboarding", "in_progress")
    assert_error(await claim(running, "onboarding", "complete-tutorial"), 400, 9, "GOAL_NOT_COMPLETED")
    assert rewards.grants == []

    await put_row(url, "complete-tutorial", "onboarding")
    await put_row(url, "first-login", "onboarding", "claimed")
    assert (await claim(running, "onboarding", "complete-tutorial")).status_code == 200


# -- rotation periods ------------------------------------------------------------------------------------


async def test_a_new_period_after_reselection_grants_again(
    running: RunningService, rewards: MockRewardClient
) -> None:
    url = running.settings.database_url
    await put_row(url, "daily-login", "daily-challenges", expires_at=TODAY_END)
    assert (await claim(running, "daily-challenges", "daily-login")).status_code == 200

    # The next day the row was reset for reselection and completed again (what events do).
    tomorrow = NOW + timedelta(days=1)
    set_clock(running, tomorrow)
    assert_error(await claim(running, "daily-challenges", "daily-login"), 400, 9, "GOAL_ROTATED")
    await put_row(url, "daily-login", "daily-challenges", expires_at=TODAY_END + timedelta(days=1))
    second = await claim(running, "daily-challenges", "daily-login")

    assert second.status_code == 200, second.text
    assert second.json()["claimedAt"] == "2025-03-13T10:00:00Z"
    assert len(rewards.grants) == 2
    assert await ledger_rows(url, "daily-login") == [
        ("2025-03-12T00:00:00Z", "granted", 1, "WALLET", "GOLD", 50),
        ("2025-03-13T00:00:00Z", "granted", 1, "WALLET", "GOLD", 50),
    ]
    assert_error(await claim(running, "daily-challenges", "daily-login"), 409, 6, "GOAL_ALREADY_CLAIMED")


# -- grant failures with the mock client -----------------------------------------------------------------


async def test_a_failed_grant_is_502_and_leaves_the_goal_claimable(
    running: RunningService, rewards: MockRewardClient
) -> None:
    url = running.settings.database_url
    await put_row(url, "first-login", "onboarding")
    rewards.fail_next(RewardGrantError("AGS refused", retryable=False, status=400))

    body = assert_error(await claim(running, "onboarding", "first-login"), 502, 13, "REWARD_GRANT_FAILED")

    assert "AGS refused" in body["message"]
    assert await ledger_rows(url, "first-login") == [("", "failed", 1, "WALLET", "GOLD", 100)]
    assert await progress_status(url, "first-login") == ("completed", None)
    assert (await claim(running, "onboarding", "first-login")).status_code == 200
    assert await ledger_rows(url, "first-login") == [("", "granted", 2, "WALLET", "GOLD", 100)]
    assert len(rewards.grants) == 1


async def test_an_in_doubt_grant_is_never_retried_by_a_claim(
    running: RunningService, rewards: MockRewardClient
) -> None:
    url = running.settings.database_url
    await put_row(url, "first-login", "onboarding")
    rewards.fail_next(RewardGrantError("timed out", retryable=True, in_doubt=True))

    assert_error(await claim(running, "onboarding", "first-login"), 502, 13, "REWARD_GRANT_FAILED")
    assert_error(await claim(running, "onboarding", "first-login"), 409, 6, "GRANT_IN_DOUBT")

    assert rewards.grants == []
    assert await ledger_rows(url, "first-login") == [("", "in_doubt", 1, "WALLET", "GOLD", 100)]
    assert await progress_status(url, "first-login") == ("completed", None)


async def test_an_unexpected_client_error_is_treated_as_in_doubt(running: RunningService) -> None:
    class Broken:
        calls = 0

        async def grant(self, user_id: str, reward: Any, grant_id: str) -> None:
            self.calls += 1
            raise KeyError("bug in the client")

    use_mock_rewards(running)
    broken = Broken()
    assert running.service.services is not None
    running.service.services.rewards = broken
    await put_row(running.settings.database_url, "first-login", "onboarding")

    assert_error(await claim(running, "onboarding", "first-login"), 502, 13, "REWARD_GRANT_FAILED")
    assert_error(await claim(running, "onboarding", "first-login"), 409, 6, "GRANT_IN_DOUBT")
    assert broken.calls == 1


# -- a crash between the grant and its commit ------------------------------------------------------------


@pytest.mark.parametrize("failure", [RuntimeError("process died"), asyncio.CancelledError()])
async def test_a_crash_after_the_grant_leaves_a_pending_row_and_never_grants_again(
    running: RunningService, rewards: MockRewardClient, failure: BaseException
) -> None:
    url = running.settings.database_url
    await put_row(url, "first-login", "onboarding")

    async def die(key: GrantKey) -> None:
        raise failure

    with pytest.raises(type(failure)):
        await claim_service(running, ClaimHooks(after_grant=die)).claim(USER, "onboarding", "first-login")

    assert len(rewards.grants) == 1  # AGS granted it ...
    assert await ledger_rows(url, "first-login") == [("", "pending", 1, "WALLET", "GOLD", 100)]
    assert await progress_status(url, "first-login") == ("completed", None)  # ... nothing recorded it
    for _ in range(3):
        assert_error(await claim(running, "onboarding", "first-login"), 409, 6, "CLAIM_IN_PROGRESS")
    assert len(rewards.grants) == 1


async def test_a_crash_before_the_grant_also_blocks_a_blind_retry(
    running: RunningService, rewards: MockRewardClient
) -> None:
    # Dying after the ledger commit but before AGS is indistinguishable from dying after AGS answered.
    await put_row(running.settings.database_url, "first-login", "onboarding")
    with pytest.raises(RuntimeError):
        await claim_service(running, ClaimHooks(before_grant=crash)).claim(USER, "onboarding", "first-login")
    assert_error(await claim(running, "onboarding", "first-login"), 409, 6, "CLAIM_IN_PROGRESS")
    assert rewards.grants == []


# -- the real AGS client against the fake AGS ------------------------------------------------------------


@pytest.fixture
def ags() -> Iterator[FakeAgs]:
    with fake_ags() as server:
        yield server


async def test_ags_grants_the_wallet_credit_once(
    running: RunningService, ags: FakeAgs, http: httpx.AsyncClient
) -> None:
    use_ags(running, ags, http)
    await put_row(running.settings.database_url, "first-login", "onboarding")

    assert (await claim(running, "onboarding", "first-login")).status_code == 200
    assert_error(await claim(running, "onboarding", "first-login"), 409, 6, "GOAL_ALREADY_CLAIMED")

    [credit] = ags.requests(PLATFORM)
    assert credit.path == f"/platform/admin/namespaces/accelbyte/users/{USER}/wallets/GOLD/credit"
    assert credit.json()["amount"] == 100


async def test_ags_unavailable_is_502_claimable_and_succeeds_on_the_next_claim(
    running: RunningService, ags: FakeAgs, http: httpx.AsyncClient
) -> None:
    # 429 means "not processed": a verified failure, retried by the next claim.
    url = running.settings.database_url
    use_ags(running, ags, http)
    await put_row(url, "first-login", "onboarding")
    ags.fail(PLATFORM, 429, times=4)

    assert_error(await claim(running, "onboarding", "first-login"), 502, 13, "REWARD_GRANT_FAILED")
    assert ags.count(PLATFORM) == 4
    assert await ledger_rows(url, "first-login") == [("", "failed", 1, "WALLET", "GOLD", 100)]
    assert await progress_status(url, "first-login") == ("completed", None)

    assert (await claim(running, "onboarding", "first-login")).status_code == 200
    assert ags.count(PLATFORM) == 5
    assert await ledger_rows(url, "first-login") == [("", "granted", 2, "WALLET", "GOLD", 100)]


async def test_ags_500_four_times_is_502_and_stays_claimable(
    running: RunningService, ags: FakeAgs, http: httpx.AsyncClient
) -> None:
    # AGS answering 500 says the grant failed: the goal stays claimable and the next claim grants.
    url = running.settings.database_url
    use_ags(running, ags, http)
    await put_row(url, "first-login", "onboarding")
    ags.fail(PLATFORM, 500, times=4)

    assert_error(await claim(running, "onboarding", "first-login"), 502, 13, "REWARD_GRANT_FAILED")
    assert ags.count(PLATFORM) == 4
    assert (await claim(running, "onboarding", "first-login")).status_code == 200
    assert ags.count(PLATFORM) == 5
    assert await ledger_rows(url, "first-login") == [("", "granted", 2, "WALLET", "GOLD", 100)]


async def test_ags_gateway_timeout_is_502_and_in_doubt(
    running: RunningService, ags: FakeAgs, http: httpx.AsyncClient
) -> None:
    # A 504 leaves open whether AGS applied the grant behind the gateway: no blind second grant.
    url = running.settings.database_url
    use_ags(running, ags, http)
    await put_row(url, "first-login", "onboarding")
    ags.fail(PLATFORM, 504)

    assert_error(await claim(running, "onboarding", "first-login"), 502, 13, "REWARD_GRANT_FAILED")
    assert_error(await claim(running, "onboarding", "first-login"), 409, 6, "GRANT_IN_DOUBT")
    assert ags.count(PLATFORM) == 1
    assert await ledger_rows(url, "first-login") == [("", "in_doubt", 1, "WALLET", "GOLD", 100)]


async def test_ags_400_is_502_and_claimable(
    running: RunningService, ags: FakeAgs, http: httpx.AsyncClient
) -> None:
    url = running.settings.database_url
    use_ags(running, ags, http)
    await put_row(url, "first-login", "onboarding")
    ags.fail(PLATFORM, 400, body={"errorCode": 20002, "errorMessage": "unknown currency"})

    body = assert_error(await claim(running, "onboarding", "first-login"), 502, 13, "REWARD_GRANT_FAILED")

    assert "HTTP 400" in body["message"]
    assert ags.count(PLATFORM) == 1  # a 4xx is not retried by the client
    assert await ledger_rows(url, "first-login") == [("", "failed", 1, "WALLET", "GOLD", 100)]
    assert (await claim(running, "onboarding", "first-login")).status_code == 200


@pytest.mark.parametrize("fault", ["drop", "hang", "apply_then_drop"])
async def test_ags_dropping_or_timing_out_is_in_doubt_and_never_granted_again(
    running: RunningService, ags: FakeAgs, http: httpx.AsyncClient, fault: str
) -> None:
    # One attempt, so the client itself does not retry an attempt that may have granted.
    url = running.settings.database_url
    use_ags(running, ags, http, attempts=1, budget_s=0.5)
    await put_row(url, "first-login", "onboarding")
    getattr(ags, fault)(PLATFORM)

    assert_error(await claim(running, "onboarding", "first-login"), 502, 13, "REWARD_GRANT_FAILED")
    for _ in range(2):
        assert_error(await claim(running, "onboarding", "first-login"), 409, 6, "GRANT_IN_DOUBT")

    assert ags.count(PLATFORM) == 1
    # AGS applied at most that one request (exactly one when it granted before dropping the answer).
    assert len(ags.applied) == (1 if fault == "apply_then_drop" else 0)
    assert await ledger_rows(url, "first-login") == [("", "in_doubt", 1, "WALLET", "GOLD", 100)]
    assert await progress_status(url, "first-login") == ("completed", None)

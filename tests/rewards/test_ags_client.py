from __future__ import annotations

import asyncio
import time

import pytest
from structlog.testing import capture_logs

from challenge_service.catalog.model import Reward
from challenge_service.rewards import AgsRewardClient, RewardClient, RewardGrantError, RewardSpec
from tests.fake_ags import TOKEN_PATH, FakeAgs, unused_local_url
from tests.helpers.rewards import CLIENT_SECRET, NAMESPACE, FakeSleep, MakeClient

GRANT_ID = "0123456789abcdef0123456789abcdef"
USER_PATH = f"/platform/admin/namespaces/{NAMESPACE}/users/user-1"
ITEM_PATH = f"/platform/v3/admin/namespaces/{NAMESPACE}/users/user-1/fulfillments/{GRANT_ID}"
ENTITLEMENT_PATH = f"{USER_PATH}/entitlements"
WALLET_PATH = f"{USER_PATH}/wallets/GOLD/credit"
PLATFORM = "/platform/*"
SWORD = RewardSpec("ITEM", "767d2217abe241aab2245794761e9dc4", 2)
GOLD = RewardSpec("WALLET", "GOLD", 50)


async def grant_error(client: AgsRewardClient, reward: RewardSpec = SWORD) -> RewardGrantError:
    with pytest.raises(RewardGrantError) as info:
        await client.grant("user-1", reward, GRANT_ID)
    return info.value


# -- happy paths ------------------------------------------------------------------------------------


async def test_item_grant_request(ags: FakeAgs, make_client: MakeClient) -> None:
    await make_client().grant("user-1", SWORD, GRANT_ID)

    [token_call] = ags.requests(TOKEN_PATH)
    assert token_call.method == "POST"
    assert token_call.form() == {"grant_type": "client_credentials"}
    assert token_call.headers["authorization"].startswith("Basic ")
    [call] = ags.requests(PLATFORM)
    # A fulfillment whose transaction id is the ledger row's grant id: AGS applies it once.
    assert (call.method, call.path) == ("PUT", ITEM_PATH)
    assert call.json() == {
        "items": [
            {
                "itemId": SWORD.reward_id,
                "quantity": 2,
                "source": "REWARD",
                "metadata": {"challengeGrantId": GRANT_ID},
            }
        ]
    }
    assert call.headers["content-type"] == "application/json"
    assert call.bearer == ags.issued_tokens[0]


async def test_item_grant_as_an_entitlement(ags: FakeAgs, make_client: MakeClient) -> None:
    """Where AGS offers no fulfillment by transaction id (Shared Cloud), ITEM rewards are entitlements."""
    await make_client(item_grant="entitlement").grant("user-1", SWORD, GRANT_ID)

    [call] = ags.requests(PLATFORM)
    assert (call.method, call.path) == ("POST", ENTITLEMENT_PATH)
    assert call.json() == [{"itemId": SWORD.reward_id, "itemNamespace": NAMESPACE, "quantity": 2}]


async def test_wallet_grant_request(ags: FakeAgs, make_client: MakeClient) -> None:
    await make_client().grant("user-1", GOLD, GRANT_ID)

    [call] = ags.requests(PLATFORM)
    assert (call.method, call.path) == ("PUT", WALLET_PATH)
    # The grant id marks the credit in the wallet's history, where `settle` looks it up.
    assert call.json() == {
        "amount": 50,
        "source": "REWARD",
        "reason": f"challengeGrantId:{GRANT_ID}",
        "metadata": {"challengeGrantId": GRANT_ID},
    }
    assert call.bearer == ags.issued_tokens[0]


async def test_path_segments_are_quoted(ags: FakeAgs, make_client: MakeClient) -> None:
    await make_client().grant("a/b c?#%", RewardSpec("WALLET", "GO/LD", 1), GRANT_ID)
    [call] = ags.requests(PLATFORM)
    assert (
        call.path == f"/platform/admin/namespaces/{NAMESPACE}/users/a%2Fb%20c%3F%23%25/wallets/GO%2FLD/credit"
    )


async def test_accepts_the_catalog_reward_struct(ags: FakeAgs, make_client: MakeClient) -> None:
    client: RewardClient = make_client()  # also a static check that it satisfies the protocol
    await client.grant("user-1", Reward(type="ITEM", reward_id="sword", quantity=1), GRANT_ID)
    assert ags.requests(PLATFORM)[0].json()["items"][0]["itemId"] == "sword"


# -- the service token ------------------------------------------------------------------------------


async def test_token_is_cached_across_grants(ags: FakeAgs, make_client: MakeClient) -> None:
    client = make_client()
    for reward in (SWORD, GOLD, SWORD):
        await client.grant("user-1", reward, GRANT_ID)
    assert ags.count(TOKEN_PATH) == 1
    assert {call.bearer for call in ags.requests(PLATFORM)} == {ags.issued_tokens[0]}


async def test_concurrent_grants_share_one_token_request(ags: FakeAgs, make_client: MakeClient) -> None:
    ags.delay(TOKEN_PATH, 0.1)
    client = make_client()
    await asyncio.gather(*(client.grant(f"user-{i}", SWORD, GRANT_ID) for i in range(10)))
    assert ags.count(TOKEN_PATH) == 1
    assert ags.count(PLATFORM) == 10


async def test_token_is_renewed_shortly_before_expiry(
    ags: FakeAgs, make_client: MakeClient, sleeper: FakeSleep
) -> None:
    ags.token_lifetime_s = 3600
    client = make_client()
    await client.grant("user-1", SWORD, GRANT_ID)
    sleeper.now += 3500  # inside the last minute of the token's life
    await client.grant("user-1", SWORD, GRANT_ID)
    assert ags.count(TOKEN_PATH) == 1
    sleeper.now += 45
    await client.grant("user-1", SWORD, GRANT_ID)
    assert ags.count(TOKEN_PATH) == 2
    assert ags.requests(PLATFORM)[-1].bearer == ags.issued_tokens[1]


async def test_revoked_token_is_renewed_once_on_401(
    ags: FakeAgs, make_client: MakeClient, sleeper: FakeSleep
) -> None:
    client = make_client()
    await client.grant("user-1", SWORD, GRANT_ID)
    ags.revoke_tokens()
    await client.grant("user-1", GOLD, GRANT_ID)

    assert ags.count(TOKEN_PATH) == 2
    calls = ags.requests(PLATFORM)
    assert [c.bearer for c in calls] == [ags.issued_tokens[0], ags.issued_tokens[0], ags.issued_tokens[1]]
    assert sleeper.delays == []  # a renewal is not a back-off


async def test_failed_renewal_after_401_is_not_in_doubt(
    ags: FakeAgs, make_client: MakeClient, sleeper: FakeSleep
) -> None:
    client = make_client()
    await client.grant("user-1", SWORD, GRANT_ID)
    ags.revoke_tokens()
    ags.fail(TOKEN_PATH, 503, times=10)
    error = await grant_error(client)
    # The only grant request that reached Platform was refused with 401, so nothing can have been granted.
    assert (error.retryable, error.in_doubt, error.status) == (True, False, 503)
    assert ags.count(PLATFORM) == 2
    assert sleeper.delays == [0.5, 1.0, 2.0]


async def test_second_401_is_final(ags: FakeAgs, make_client: MakeClient, sleeper: FakeSleep) -> None:
    ags.fail(PLATFORM, 401, times=2)
    error = await grant_error(make_client())
    assert (error.retryable, error.in_doubt, error.status) == (False, False, 401)
    assert ags.count(TOKEN_PATH) == 2
    assert ags.count(PLATFORM) == 2
    assert sleeper.delays == []


async def test_refused_client_credentials_fail_at_once(
    ags: FakeAgs, make_client: MakeClient, sleeper: FakeSleep
) -> None:
    error = await grant_error(make_client(client_secret="wrong"))
    assert (error.retryable, error.status) == (False, 401)
    assert "client credentials" in error.message
    assert ags.count(PLATFORM) == 0
    assert sleeper.delays == []


async def test_iam_outage_is_retried(ags: FakeAgs, make_client: MakeClient, sleeper: FakeSleep) -> None:
    ags.fail(TOKEN_PATH, 503, times=2)
    await make_client().grant("user-1", SWORD, GRANT_ID)
    assert ags.count(TOKEN_PATH) == 3
    assert sleeper.delays == [0.5, 1.0]


# -- retries ----------------------------------------------------------------------------------------


async def test_500_then_success(ags: FakeAgs, make_client: MakeClient, sleeper: FakeSleep) -> None:
    ags.fail(ITEM_PATH, 500, times=2)
    await make_client().grant("user-1", SWORD, GRANT_ID)
    assert ags.count(ITEM_PATH) == 3
    assert sleeper.delays == [0.5, 1.0]
    assert ags.count(TOKEN_PATH) == 1


async def test_persistent_5xx_uses_all_attempts(
    ags: FakeAgs, make_client: MakeClient, sleeper: FakeSleep
) -> None:
    ags.fail(ITEM_PATH, 502, times=100)
    with capture_logs() as logs:
        error = await grant_error(make_client())
    assert (error.retryable, error.in_doubt, error.status) == (True, False, 502)
    assert ags.count(ITEM_PATH) == 4
    assert sleeper.delays == [0.5, 1.0, 2.0]
    events = [e["event"] for e in logs]
    assert events == ["reward_grant_retry"] * 3 + ["reward_grant_failed"]


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
async def test_other_4xx_fail_at_once(
    ags: FakeAgs, make_client: MakeClient, sleeper: FakeSleep, status: int
) -> None:
    ags.fail(ITEM_PATH, status, body={"errorCode": 30341, "errorMessage": "item not found"})
    error = await grant_error(make_client())
    assert (error.retryable, error.in_doubt, error.status) == (False, False, status)
    assert "item not found" in error.message
    assert ags.count(ITEM_PATH) == 1
    assert sleeper.delays == []


@pytest.mark.parametrize("status", [408, 429])
async def test_408_and_429_are_retried(
    ags: FakeAgs, make_client: MakeClient, sleeper: FakeSleep, status: int
) -> None:
    ags.fail(WALLET_PATH, status)
    await make_client().grant("user-1", GOLD, GRANT_ID)
    assert ags.count(WALLET_PATH) == 2
    assert sleeper.delays == [0.5]


async def test_429_retry_after_is_honoured(ags: FakeAgs, make_client: MakeClient, sleeper: FakeSleep) -> None:
    ags.fail(ITEM_PATH, 429, headers={"Retry-After": "3"})
    await make_client().grant("user-1", SWORD, GRANT_ID)
    assert sleeper.delays == [3.0]


async def test_retry_after_beyond_the_budget_gives_up_at_once(
    ags: FakeAgs, make_client: MakeClient, sleeper: FakeSleep
) -> None:
    ags.fail(ITEM_PATH, 429, headers={"Retry-After": "60"})
    error = await grant_error(make_client())
    assert (error.retryable, error.in_doubt, error.status) == (True, False, 429)
    assert sleeper.delays == []


async def test_connection_refused_is_retried_then_fails(make_client: MakeClient, sleeper: FakeSleep) -> None:
    error = await grant_error(make_client(base_url=unused_local_url()))
    assert (error.retryable, error.in_doubt, error.status) == (True, False, None)
    assert "cannot connect" in error.message
    assert sleeper.delays == [0.5, 1.0, 2.0]


async def test_gateway_timeout_is_in_doubt_and_not_retried(
    ags: FakeAgs, make_client: MakeClient, sleeper: FakeSleep
) -> None:
    ags.fail(ITEM_PATH, 504, times=4)
    error = await grant_error(make_client())
    assert (error.in_doubt, error.status) == (True, 504)
    assert ags.count(ITEM_PATH) == 1
    assert sleeper.delays == []


async def test_a_dropped_connection_leaves_the_grant_in_doubt_without_a_retry(
    ags: FakeAgs, make_client: MakeClient, sleeper: FakeSleep
) -> None:
    # The request was on the wire: AGS may have applied it, so a second request could grant twice.
    ags.drop(ITEM_PATH, times=4)
    error = await grant_error(make_client())
    assert (error.retryable, error.in_doubt) == (True, True)
    assert ags.count(ITEM_PATH) == 1
    assert sleeper.delays == []


# -- time budget ------------------------------------------------------------------------------------


async def test_hang_is_cut_at_the_budget(ags: FakeAgs, make_client: MakeClient, sleeper: FakeSleep) -> None:
    ags.hang(ITEM_PATH, times=10)
    client = make_client(budget_s=0.5, clock=time.monotonic)
    started = time.monotonic()
    error = await grant_error(client)
    elapsed = time.monotonic() - started
    assert 0.45 <= elapsed < 1.5
    assert (error.retryable, error.in_doubt) == (True, True)
    assert "timed out" in error.message
    assert ags.count(ITEM_PATH) == 1
    assert sleeper.delays == []  # no budget left for another attempt


async def test_a_hung_attempt_times_out_in_doubt_without_a_retry(
    ags: FakeAgs, make_client: MakeClient, sleeper: FakeSleep
) -> None:
    ags.hang(ITEM_PATH)
    client = make_client(attempt_timeout_s=0.3, clock=time.monotonic)
    started = time.monotonic()
    error = await grant_error(client)
    assert time.monotonic() - started < 1.5
    assert error.in_doubt
    assert ags.count(ITEM_PATH) == 1
    assert sleeper.delays == []


async def test_slow_answers_shrink_the_remaining_budget(ags: FakeAgs, make_client: MakeClient) -> None:
    ags.fail(ITEM_PATH, 503, times=100)
    ags.delay(TOKEN_PATH, 0.4)
    client = make_client(budget_s=0.6, sleep=asyncio.sleep, clock=time.monotonic, backoff=(0.1,))
    started = time.monotonic()
    error = await grant_error(client)
    assert time.monotonic() - started < 1.2
    assert error.retryable


async def test_budget_exhaustion_stops_retrying(
    ags: FakeAgs, make_client: MakeClient, sleeper: FakeSleep
) -> None:
    ags.fail(ITEM_PATH, 500, times=100)
    # The fake sleep advances the fake clock: 0.5 + 1.0 fit in 2 s, the next 2 s back-off does not.
    error = await grant_error(make_client(budget_s=2.0))
    assert (error.retryable, error.status) == (True, 500)
    assert ags.count(ITEM_PATH) == 3
    assert sleeper.delays == [0.5, 1.0]


# -- validation and hygiene -------------------------------------------------------------------------


@pytest.mark.parametrize(("user_id", "reward"), [("", SWORD), ("user-1", RewardSpec("ITEM", "sword", 0))])
async def test_invalid_grants_never_reach_ags(
    ags: FakeAgs, make_client: MakeClient, user_id: str, reward: RewardSpec
) -> None:
    with pytest.raises(RewardGrantError) as info:
        await make_client().grant(user_id, reward, GRANT_ID)
    assert not info.value.retryable
    assert ags.count() == 0


async def test_secret_and_tokens_are_never_logged(
    ags: FakeAgs, make_client: MakeClient, sleeper: FakeSleep
) -> None:
    client = make_client()
    ags.fail(ITEM_PATH, 500)
    with capture_logs() as logs:
        await client.grant("user-1", SWORD, GRANT_ID)
        ags.revoke_tokens()
        await client.grant("user-1", GOLD, GRANT_ID)
        ags.fail(WALLET_PATH, 400, times=1)
        await grant_error(client, GOLD)
    text = repr(logs) + repr(client)
    assert logs
    for secret in (CLIENT_SECRET, *ags.issued_tokens):
        assert secret not in text

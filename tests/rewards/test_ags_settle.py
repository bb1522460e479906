"""`AgsRewardClient.settle`: a grant whose first answer was lost ends up applied exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from challenge_service.rewards import AgsRewardClient, RewardGrantError, RewardSpec
from challenge_service.rewards import ags as ags_client
from tests.fake_ags import FakeAgs
from tests.helpers.rewards import NAMESPACE, MakeClient

GRANT_ID = "0123456789abcdef0123456789abcdef"
USER_PATH = f"/platform/admin/namespaces/{NAMESPACE}/users/user-1"
ITEM_PATH = f"/platform/v3/admin/namespaces/{NAMESPACE}/users/user-1/fulfillments/{GRANT_ID}"
CREDIT_PATH = f"{USER_PATH}/wallets/GOLD/credit"
HISTORY_PATH = f"{USER_PATH}/wallets/currencies/GOLD/transactions"
SWORD = RewardSpec("ITEM", "sword", 2)
GOLD = RewardSpec("WALLET", "GOLD", 50)
SINCE = datetime.now(UTC) - timedelta(minutes=1)


async def in_doubt(client: AgsRewardClient, reward: RewardSpec) -> None:
    with pytest.raises(RewardGrantError) as info:
        await client.grant("user-1", reward, GRANT_ID)
    assert info.value.in_doubt


async def settle_error(client: AgsRewardClient, reward: RewardSpec) -> RewardGrantError:
    with pytest.raises(RewardGrantError) as info:
        await client.settle("user-1", reward, GRANT_ID, SINCE)
    return info.value


# -- ITEM: fulfillment by transaction id ----------------------------------------------------------------


async def test_a_lost_fulfillment_answer_is_repeated_and_ags_applies_it_once(
    ags: FakeAgs, make_client: MakeClient
) -> None:
    client = make_client()
    ags.apply_then_drop(ITEM_PATH)
    await in_doubt(client, SWORD)

    assert await client.settle("user-1", SWORD, GRANT_ID, SINCE) == "sent"
    assert ags.count(ITEM_PATH) == 2
    assert len(ags.applied) == 1


async def test_a_fulfillment_ags_never_saw_is_applied_by_the_settle(
    ags: FakeAgs, make_client: MakeClient
) -> None:
    client = make_client()
    ags.drop(ITEM_PATH)
    await in_doubt(client, SWORD)
    assert ags.applied == []

    assert await client.settle("user-1", SWORD, GRANT_ID, SINCE) == "sent"
    assert len(ags.applied) == 1


async def test_a_repeat_with_another_payload_is_refused_not_granted(
    ags: FakeAgs, make_client: MakeClient
) -> None:
    client = make_client()
    await client.grant("user-1", SWORD, GRANT_ID)
    error = await settle_error(client, RewardSpec("ITEM", "sword", 3))
    assert (error.retryable, error.in_doubt, error.status) == (False, False, 400)
    assert "38128" in error.message
    assert len(ags.applied) == 1


async def test_a_failed_fulfillment_is_a_clean_failure(ags: FakeAgs, make_client: MakeClient) -> None:
    ags.fail(ITEM_PATH, 200, times=4, body={"state": "FULFILL_FAILED", "stateReason": "item inactive"})
    with pytest.raises(RewardGrantError) as info:
        await make_client().grant("user-1", SWORD, GRANT_ID)
    assert (info.value.retryable, info.value.in_doubt) == (True, False)
    assert "FULFILL_FAILED: item inactive" in info.value.message


async def test_a_conflict_carrying_a_fulfilled_result_is_a_success(
    ags: FakeAgs, make_client: MakeClient
) -> None:
    # Fulfillment v2 documents 409 with the result of the earlier request for the same transaction id.
    ags.fail(ITEM_PATH, 409, body={"transactionId": GRANT_ID, "state": "FULFILLED"})
    await make_client().grant("user-1", SWORD, GRANT_ID)
    assert ags.count(ITEM_PATH) == 1


async def test_an_entitlement_grant_cannot_be_settled_automatically(
    ags: FakeAgs, make_client: MakeClient
) -> None:
    error = await settle_error(make_client(item_grant="entitlement"), SWORD)
    assert (error.retryable, error.in_doubt) == (False, True)
    assert "by hand" in error.message
    assert ags.count("/platform/*") == 0


# -- WALLET: the credit's mark in the wallet history ----------------------------------------------------


async def test_a_credit_whose_answer_was_lost_is_found_and_not_repeated(
    ags: FakeAgs, make_client: MakeClient
) -> None:
    client = make_client()
    ags.apply_then_drop(CREDIT_PATH)
    await in_doubt(client, GOLD)

    assert await client.settle("user-1", GOLD, GRANT_ID, SINCE) == "found"
    assert ags.count(CREDIT_PATH) == 1
    assert ags.count(HISTORY_PATH, "GET") == 1


async def test_a_credit_ags_never_saw_is_sent_once(ags: FakeAgs, make_client: MakeClient) -> None:
    client = make_client()
    await client.grant("user-1", GOLD, "f" * 32)  # another grant: the wallet exists, the mark differs
    ags.drop(CREDIT_PATH)
    await in_doubt(client, GOLD)

    assert await client.settle("user-1", GOLD, GRANT_ID, SINCE) == "sent"
    assert await client.settle("user-1", GOLD, GRANT_ID, SINCE) == "found"
    assert len(ags.applied) == 2


async def test_a_wallet_that_does_not_exist_was_never_credited(ags: FakeAgs, make_client: MakeClient) -> None:
    assert await make_client().settle("user-1", GOLD, GRANT_ID, SINCE) == "sent"
    [history] = ags.requests(HISTORY_PATH)
    assert history.query == "offset=0&limit=100"
    assert len(ags.applied) == 1


async def test_the_history_is_read_page_by_page(ags: FakeAgs, make_client: MakeClient) -> None:
    client = make_client()
    await client.grant("user-1", GOLD, GRANT_ID)
    for n in range(150):  # newer credits push the marked one to the second page
        await client.grant("user-1", RewardSpec("WALLET", "GOLD", 1), f"{n:032x}")

    assert await client.settle("user-1", GOLD, GRANT_ID, SINCE) == "found"
    assert [r.query for r in ags.requests(HISTORY_PATH)] == ["offset=0&limit=100", "offset=100&limit=100"]


async def test_the_search_stops_at_entries_older_than_the_first_attempt(
    ags: FakeAgs, make_client: MakeClient
) -> None:
    client = make_client()
    for n in range(100):
        await client.grant("user-1", RewardSpec("WALLET", "GOLD", 1), f"{n:032x}")
    later = datetime.now(UTC) + ags_client.CLOCK_SKEW + timedelta(minutes=1)

    assert await client.settle("user-1", GOLD, GRANT_ID, later) == "sent"
    assert ags.count(HISTORY_PATH) == 1


async def test_an_unreadable_history_sends_nothing(ags: FakeAgs, make_client: MakeClient) -> None:
    ags.fail(HISTORY_PATH, 503)
    error = await settle_error(make_client(), GOLD)
    assert (error.retryable, error.in_doubt, error.status) == (True, True, 503)
    assert ags.count(CREDIT_PATH) == 0


async def test_a_history_too_long_to_search_is_left_for_an_operator(
    ags: FakeAgs, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ags_client, "HISTORY_PAGE", 2)
    monkeypatch.setattr(ags_client, "MAX_HISTORY_PAGES", 2)
    client = make_client()
    for n in range(5):
        await client.grant("user-1", RewardSpec("WALLET", "GOLD", 1), f"{n:032x}")

    error = await settle_error(client, GOLD)
    assert (error.retryable, error.in_doubt) == (False, True)
    assert "by hand" in error.message
    assert ags.count(CREDIT_PATH) == 5

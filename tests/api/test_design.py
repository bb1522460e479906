"""Challenge design over REST on a real database: time windows (listing, state, refusals, the claim
grace), tags, several rewards per goal (with a partial failure), zoned and per-player rotation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from challenge_service.rewards import MockRewardClient
from tests.helpers.api import assert_error
from tests.helpers.claims import claim, use_mock_rewards
from tests.helpers.db import fetch, row
from tests.helpers.design import FRIDAY, MONDAY, SATURDAY, TUESDAY, design_service, events_of, initialize
from tests.helpers.service import RunningService, set_clock, user

HOUR = timedelta(hours=1)


@pytest.fixture
async def running(database_url: str) -> AsyncIterator[RunningService]:
    async with design_service(database_url) as service:
        yield service


async def listing(running: RunningService, query: str = "", player: str = "p1") -> list[dict[str, Any]]:
    response = await running.http.get(f"{running.base}/v1/challenges{query}", headers=user(player))
    assert response.status_code == 200, response.text
    challenges: list[dict[str, Any]] = response.json()["challenges"]
    return challenges


async def ids(running: RunningService, query: str = "") -> list[str]:
    return [c["challengeId"] for c in await listing(running, query)]


async def set_active(
    running: RunningService, challenge_id: str, goal_id: str, player: str, active: bool = True
) -> Any:
    return await running.http.put(
        f"{running.base}/v1/challenges/{challenge_id}/goals/{goal_id}/active",
        json={"is_active": active},
        headers=user(player),
    )


# -- listing ---------------------------------------------------------------------------------------------


async def test_the_default_listing_follows_the_window_and_its_grace(running: RunningService) -> None:
    clock = set_clock(running, FRIDAY)
    assert await ids(running) == ["tokyo-daily", "sprint"]
    clock.now = SATURDAY
    assert await ids(running) == ["weekend", "tokyo-daily", "sprint"]
    clock.now = MONDAY  # ended, its completed goals still claimable
    assert await ids(running) == ["weekend", "tokyo-daily", "sprint"]
    clock.now = TUESDAY
    assert await ids(running) == ["tokyo-daily", "sprint"]


async def test_state_and_tags_choose_other_challenges(running: RunningService) -> None:
    set_clock(running, FRIDAY)
    [weekend] = await listing(running, "?state=upcoming")
    assert {k: weekend[k] for k in ("challengeId", "tags", "startsAt", "endsAt", "state")} == {
        "challengeId": "weekend",
        "tags": ["event", "weekend"],
        "startsAt": "2026-07-04T00:00:00Z",
        "endsAt": "2026-07-06T00:00:00Z",
        "state": "upcoming",
    }
    assert await ids(running, "?state=upcoming,live") == ["weekend", "tokyo-daily", "sprint"]
    assert await ids(running, "?state=ended") == []
    # At least one of the tags; combined with the state filter.
    assert await ids(running, "?tags=pvp") == ["sprint"]
    assert await ids(running, "?tags=event,pvp&state=upcoming,live") == ["weekend", "sprint"]
    assert await ids(running, "?tags=weekend,daily&state=upcoming") == ["weekend"]
    # A challenge without a window has empty bounds and is live.
    sprint = (await listing(running, "?tags=pvp"))[0]
    assert (sprint["startsAt"], sprint["endsAt"], sprint["state"]) == ("", "", "live")
    # With active_only the challenges stay, their goals are the active ones.
    assert [c["goals"] for c in await listing(running, "?tags=pvp&active_only=true")] == [[]]


async def test_an_unknown_state_is_invalid_input(running: RunningService) -> None:
    response = await running.http.get(f"{running.base}/v1/challenges?state=live,soon", headers=user("p1"))
    assert_error(response, 400, 3, "INVALID_INPUT")


async def test_goals_show_their_tags_rewards_and_auto_claim(running: RunningService) -> None:
    set_clock(running, SATURDAY)
    goals = {g["goalId"]: g for c in await listing(running) for g in c["goals"]}
    wins = goals["weekend-wins"]
    assert wins["rewards"] == [
        {"type": "ITEM", "rewardId": "weekend-banner", "quantity": 1},
        {"type": "WALLET", "rewardId": "GOLD", "quantity": 500},
    ]
    assert wins["reward"] == wins["rewards"][0]
    assert (wins["tags"], wins["autoClaim"]) == (["pvp"], False)
    login = goals["tokyo-login"]
    assert (login["tags"], login["autoClaim"], login["reward"]) == ([], True, login["rewards"][0])
    # The Tokyo daily ends at 04:00 Tokyo time, 19:00 UTC.
    assert login["expiresAt"] == "2026-07-04T19:00:00Z"
    assert login["expiresInSeconds"] == 7 * 3600


# -- windows: choosing, events, claims ------------------------------------------------------------------


async def test_goals_of_a_challenge_that_is_not_live_cannot_be_chosen(running: RunningService) -> None:
    base = f"{running.base}/v1/challenges/weekend/goals"
    clock = set_clock(running, FRIDAY)
    message = "challenge is not live (state: upcoming): weekend"
    assert_error(
        await set_active(running, "weekend", "weekend-wins", "p1"), 400, 9, "CHALLENGE_NOT_LIVE", message
    )
    batch = await running.http.post(
        f"{base}/batch-select", json={"goal_ids": ["weekend-wins"]}, headers=user("p1")
    )
    assert_error(batch, 400, 9, "CHALLENGE_NOT_LIVE", message)
    random = await running.http.post(f"{base}/random-select", json={"count": 1}, headers=user("p1"))
    assert_error(random, 400, 9, "CHALLENGE_NOT_LIVE", message)
    # initialize assigns the default goals of live challenges only; the weekend's once it is live.
    body = await initialize(running, "p1")
    assert [g["goalId"] for g in body["assignedGoals"]] == ["tokyo-login"]
    assert await row(running.settings.database_url, "p1", "weekend-wins") is None
    clock.now = SATURDAY
    body = await initialize(running, "p1")
    assert body["newAssignments"] == 1
    assert [g["goalId"] for g in body["assignedGoals"]] == ["weekend-wins", "tokyo-login"]
    clock.now = MONDAY
    ended = await set_active(running, "weekend", "weekend-wins", "p1")
    assert_error(ended, 400, 9, "CHALLENGE_NOT_LIVE", "challenge is not live (state: ended): weekend")
    # Deactivating is always allowed.
    assert (await set_active(running, "weekend", "weekend-wins", "p1", active=False)).status_code == 200


async def test_events_move_goals_only_while_their_challenge_is_live(running: RunningService) -> None:
    clock = set_clock(running, SATURDAY)
    url = running.settings.database_url
    await initialize(running, "early")
    await initialize(running, "late")
    async with events_of(running) as events:
        await events.stat("early", "wins", 3)
        clock.now = MONDAY
        await events.stat("late", "wins", 3)
    early, late = await row(url, "early", "weekend-wins"), await row(url, "late", "weekend-wins")
    assert early is not None and (early.progress, early.status) == (3, "completed")
    assert late is not None and (late.progress, late.status) == (0, "not_started")


async def test_completed_goals_of_an_ended_challenge_are_claimable_until_the_grace_ends(
    running: RunningService,
) -> None:
    rewards = use_mock_rewards(running, SATURDAY)
    clock = set_clock(running, SATURDAY)
    for player in ("in-time", "too-late"):
        await initialize(running, player)
    async with events_of(running) as events:
        for player in ("in-time", "too-late"):
            await events.stat(player, "wins", 3)
    clock.now = MONDAY
    response = await claim(running, "weekend", "weekend-wins", user_id="in-time")
    assert response.status_code == 200, response.text
    clock.now = TUESDAY
    assert_error(
        await claim(running, "weekend", "weekend-wins", user_id="too-late"),
        400,
        9,
        "CHALLENGE_ENDED",
        "challenge has ended and its rewards could be claimed until 2026-07-07T00:00:00Z: weekend",
    )
    assert [grant.user_id for grant in rewards.grants] == ["in-time", "in-time"]


async def test_a_goal_of_an_upcoming_challenge_is_not_claimable(running: RunningService) -> None:
    set_clock(running, FRIDAY)
    assert_error(
        await claim(running, "weekend", "weekend-wins", user_id="p1"),
        400,
        9,
        "CHALLENGE_NOT_LIVE",
        "challenge is not live (state: upcoming): weekend",
    )


# -- several rewards -------------------------------------------------------------------------------------


async def ledger(running: RunningService, player: str, goal_id: str) -> list[tuple[Any, ...]]:
    return await fetch(
        running.settings.database_url,
        """SELECT reward_index, state, attempts, reward_type, reward_id, quantity FROM reward_grants
            WHERE user_id = %s AND goal_id = %s ORDER BY reward_index""",
        player,
        goal_id,
    )


async def test_a_claim_grants_every_reward_once_and_a_retry_only_what_failed(running: RunningService) -> None:
    rewards: MockRewardClient = use_mock_rewards(running, SATURDAY)
    await initialize(running, "p1")
    async with events_of(running) as events:
        await events.stat("p1", "wins", 3)

    rewards.fail_next()  # the first reward fails, the second is granted
    failed = await claim(running, "weekend", "weekend-wins", user_id="p1")
    body = assert_error(failed, 502, 13, "REWARD_GRANT_FAILED")
    assert "1 of 2 rewards not granted" in body["message"]
    assert await ledger(running, "p1", "weekend-wins") == [
        (0, "failed", 1, "ITEM", "weekend-banner", 1),
        (1, "granted", 1, "WALLET", "GOLD", 500),
    ]
    stored = await row(running.settings.database_url, "p1", "weekend-wins")
    assert stored is not None and stored.status == "completed"  # claimed only when all are granted

    retried = await claim(running, "weekend", "weekend-wins", user_id="p1")
    assert retried.status_code == 200, retried.text
    assert retried.json()["rewards"] == [
        {"type": "ITEM", "rewardId": "weekend-banner", "quantity": 1},
        {"type": "WALLET", "rewardId": "GOLD", "quantity": 500},
    ]
    assert [(g.reward.reward_id, g.reward.quantity) for g in rewards.grants] == [
        ("GOLD", 500),
        ("weekend-banner", 1),
    ]
    assert await ledger(running, "p1", "weekend-wins") == [
        (0, "granted", 2, "ITEM", "weekend-banner", 1),
        (1, "granted", 1, "WALLET", "GOLD", 500),
    ]
    again = await claim(running, "weekend", "weekend-wins", user_id="p1")
    assert_error(again, 409, 6, "GOAL_ALREADY_CLAIMED")
    assert len(rewards.grants) == 2


# -- rotation: zoned and per player ----------------------------------------------------------------------


async def rotation(running: RunningService, challenge_id: str, player: str = "p1") -> dict[str, Any]:
    response = await running.http.get(
        f"{running.base}/v1/challenges/{challenge_id}/rotation", headers=user(player)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["rotation"]
    return body


async def test_the_rotation_route_reports_a_zoned_calendar_in_utc(running: RunningService) -> None:
    set_clock(running, SATURDAY)  # 21:00 in Tokyo
    assert await rotation(running, "tokyo-daily") == {
        "enabled": True,
        "type": "global",
        "schedule": "daily",
        "resetTime": "04:00",
        "timezone": "Asia/Tokyo",
        "weekStart": "",
        "duration": "",
        "currentPeriod": {
            "startTime": "2026-07-03T19:00:00Z",
            "endTime": "2026-07-04T19:00:00Z",
            "expiresInSeconds": 7 * 3600,
        },
        "nextPeriod": {
            "startTime": "2026-07-04T19:00:00Z",
            "endTime": "2026-07-05T19:00:00Z",
            "expiresInSeconds": 31 * 3600,
        },
    }


async def test_a_per_player_period_starts_at_activation_and_deactivates_the_goal_when_over(
    running: RunningService,
) -> None:
    clock = set_clock(running, SATURDAY)
    empty = await rotation(running, "sprint")
    assert (empty["type"], empty["duration"], empty["currentPeriod"], empty["nextPeriod"]) == (
        "per_user",
        "24h",
        None,
        None,
    )

    assert (await set_active(running, "sprint", "sprint-kills", "p1")).status_code == 200
    clock.now = SATURDAY + HOUR
    own = await rotation(running, "sprint")
    assert own["currentPeriod"] == {
        "startTime": "2026-07-04T12:00:00Z",
        "endTime": "2026-07-05T12:00:00Z",
        "expiresInSeconds": 23 * 3600,
    }
    assert own["nextPeriod"] is None  # the next period starts when the player picks the goal again
    # Another player has no period running.
    assert (await rotation(running, "sprint", "p2"))["currentPeriod"] is None

    async with events_of(running) as events:
        await events.stat("p1", "enemy_kills", 4, 4)
        clock.now = SATURDAY + 25 * HOUR
        # The flush applies the expiry: the goal is reset and inactive, the event does not count.
        await events.stat("p1", "enemy_kills", 20, 16)
    stored = await row(running.settings.database_url, "p1", "sprint-kills")
    assert stored is not None
    assert (stored.is_active, stored.status, stored.baseline) == (False, "not_started", None)
    [sprint] = await listing(running, "?tags=pvp")
    goal = sprint["goals"][0]
    assert (goal["isActive"], goal["progress"], goal["expiresAt"], goal["expiresInSeconds"]) == (
        False,
        0,
        "",
        0,
    )

    assert (await set_active(running, "sprint", "sprint-kills", "p1")).status_code == 200
    [sprint] = await listing(running, "?tags=pvp")
    assert sprint["goals"][0]["expiresAt"] == "2026-07-06T13:00:00Z"


async def test_reads_show_a_per_player_expiry_before_anything_persists_it(running: RunningService) -> None:
    clock = set_clock(running, SATURDAY)
    await set_active(running, "sprint", "sprint-kills", "p1")
    clock.now = SATURDAY + 24 * HOUR
    [sprint] = await listing(running, "?tags=pvp")
    assert sprint["goals"][0]["isActive"] is False
    assert (await listing(running, "?tags=pvp&active_only=true"))[0]["goals"] == []
    stored = await row(running.settings.database_url, "p1", "sprint-kills")
    assert stored is not None and stored.is_active  # nothing written by the read

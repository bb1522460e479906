"""POST …/goals/batch-select and …/goals/random-select."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from grpclib.client import Channel

from tests.helpers.api import assert_error
from tests.helpers.assignments import INITIALIZE, T0
from tests.helpers.db import db_execute, db_rows
from tests.helpers.events import EventClient
from tests.helpers.service import RunningService, set_clock, user

BATCH = "/challenge/v1/challenges/{}/goals/batch-select"
RANDOM = "/challenge/v1/challenges/{}/goals/random-select"
ONBOARDING = [
    "first-login",
    "complete-tutorial",
    "first-match",
    "first-win",
    "win-10-matches",
    "first-100-kills",
]
CAREER = [
    "career-1000-kills",
    "career-10000-kills",
    "career-500-headshots",
    "career-100-wins",
    "career-500-matches",
]


@pytest.fixture(autouse=True)
def seeded_rng(running: RunningService) -> random.Random:
    assert running.service.services is not None
    running.service.services.rng = rng = random.Random(1234)
    return rng


# ----------------------------------------------------------------------------------------- batch-select


async def test_batch_select_activates_the_chosen_goals(running: RunningService) -> None:
    set_clock(running, T0)
    response = await running.http.post(
        BATCH.format("daily-challenges"),
        json={"goal_ids": ["daily-10-kills", "daily-1-wins"], "replace_existing": False},
        headers=user("u1"),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["challengeId"] == "daily-challenges"
    assert body["totalActiveGoals"] == 2
    assert body["replacedGoals"] == []
    first = body["selectedGoals"][0]
    assert first == {
        "goalId": "daily-10-kills",
        "name": first["name"],
        "description": first["description"],
        "requirement": {"statCode": "enemy_kills", "operator": ">=", "targetValue": 10},
        "reward": first["reward"],
        "rewards": [first["reward"]],
        "status": "not_started",
        "progress": 0,
        "target": 10,
        "isActive": True,
        "assignedAt": "2025-03-12T10:30:15Z",
        "expiresAt": "2025-03-13T00:00:00Z",
    }
    assert [g["goalId"] for g in body["selectedGoals"]] == ["daily-10-kills", "daily-1-wins"]
    rows = await db_rows(running.settings.database_url, "u1")
    assert sorted(rows) == ["daily-1-wins", "daily-10-kills"]
    assert all(
        r["is_active"] and r["assigned_at"] == T0 and r["status"] == "not_started" for r in rows.values()
    )


async def test_batch_select_adds_to_or_replaces_the_active_goals(running: RunningService) -> None:
    clock = set_clock(running, T0)
    db = running.settings.database_url
    # Active goals in another challenge are never replaced.
    await running.http.post(
        BATCH.format("career"), json={"goal_ids": ["career-500-matches"]}, headers=user("u1")
    )
    await running.http.post(
        BATCH.format("daily-challenges"),
        json={"goal_ids": ["daily-10-kills", "daily-1-wins"]},
        headers=user("u1"),
    )
    await db_execute(db, "UPDATE user_goal_progress SET progress = 9, baseline = 1, status = 'in_progress'")

    clock.now = T0 + timedelta(minutes=1)
    added = await running.http.post(
        BATCH.format("daily-challenges"),
        json={"goalIds": ["daily-5-wins", "daily-10-kills"]},
        headers=user("u1"),
    )
    body = added.json()
    assert (body["totalActiveGoals"], body["replacedGoals"]) == (3, [])
    kills = body["selectedGoals"][1]
    # The real progress of an already-started goal.
    assert (kills["goalId"], kills["status"], kills["progress"]) == ("daily-10-kills", "in_progress", 8)

    replaced = await running.http.post(
        BATCH.format("daily-challenges"),
        json={"goal_ids": ["daily-10-kills"], "replaceExisting": True},
        headers=user("u1"),
    )
    body = replaced.json()
    assert body["replacedGoals"] == ["daily-1-wins", "daily-5-wins"]  # challenge order
    assert body["totalActiveGoals"] == 1
    rows = await db_rows(db, "u1")
    assert {g: r["is_active"] for g, r in rows.items()} == {
        "career-500-matches": True,
        "daily-1-wins": False,
        "daily-10-kills": True,
        "daily-5-wins": False,
    }
    # Progress survives deactivation.
    assert (rows["daily-1-wins"]["progress"], rows["daily-1-wins"]["status"]) == (9, "in_progress")


async def test_batch_select_with_an_id_from_another_challenge_changes_nothing(
    running: RunningService,
) -> None:
    set_clock(running, T0)
    await running.http.post(
        BATCH.format("daily-challenges"), json={"goal_ids": ["daily-1-wins"]}, headers=user("u1")
    )
    before = await db_rows(running.settings.database_url, "u1")
    response = await running.http.post(
        BATCH.format("daily-challenges"),
        json={"goal_ids": ["daily-10-kills", "career-500-matches"], "replace_existing": True},
        headers=user("u1"),
    )
    assert_error(
        response, 404, 5, "GOAL_NOT_FOUND", "goal not found in challenge daily-challenges: career-500-matches"
    )
    assert await db_rows(running.settings.database_url, "u1") == before


async def test_batch_select_on_an_unknown_challenge_is_404(running: RunningService) -> None:
    response = await running.http.post(BATCH.format("nope"), json={"goal_ids": ["x"]}, headers=user("u1"))
    assert_error(response, 404, 5, "CHALLENGE_NOT_FOUND", "challenge not found: nope")


async def test_batch_select_persists_a_due_reset_of_a_selected_goal(running: RunningService) -> None:
    clock = set_clock(running, T0)
    db = running.settings.database_url
    await running.http.post(
        BATCH.format("weekly-challenges"), json={"goal_ids": ["weekly-10-wins"]}, headers=user("u1")
    )
    await db_execute(
        db,
        "UPDATE user_goal_progress SET progress = 20, baseline = 5, status = 'completed', completed_at = %s",
        (T0,),
    )
    clock.now = datetime(2025, 3, 17, 0, 0, 5, tzinfo=UTC)  # next Monday
    body = (
        await running.http.post(
            BATCH.format("weekly-challenges"), json={"goal_ids": ["weekly-10-wins"]}, headers=user("u1")
        )
    ).json()
    goal = body["selectedGoals"][0]
    assert (goal["status"], goal["progress"], goal["expiresAt"]) == ("not_started", 0, "2025-03-24T00:00:00Z")
    row = (await db_rows(db, "u1"))["weekly-10-wins"]
    assert (row["status"], row["baseline"], row["completed_at"]) == ("not_started", None, None)
    assert row["expires_at"] == datetime(2025, 3, 24, tzinfo=UTC)


async def test_batch_select_path_wins_over_body(running: RunningService) -> None:
    set_clock(running, T0)
    response = await running.http.post(
        BATCH.format("career"),
        json={"goal_ids": ["career-500-matches"], "challenge_id": "daily-challenges", "challengeId": "x"},
        headers=user("u1"),
    )
    assert response.status_code == 200
    assert response.json()["challengeId"] == "career"


# ---------------------------------------------------------------------------------------- random-select


async def test_random_select_draws_a_uniform_sample_without_repeats(running: RunningService) -> None:
    set_clock(running, T0)
    response = await running.http.post(
        RANDOM.format("daily-challenges"), json={"count": 3}, headers=user("u1")
    )
    assert response.status_code == 200
    body = response.json()
    ids = [g["goalId"] for g in body["selectedGoals"]]
    assert len(set(ids)) == 3
    assert body["totalActiveGoals"] == 3
    assert body["replacedGoals"] == []
    # Seeded: the same draw as random.sample over the pool in challenge order.
    challenges = (await running.http.get("/challenge/v1/challenges/daily-challenges")).json()
    pool = [g["goalId"] for g in challenges["goals"]]
    assert ids == random.Random(1234).sample(pool, 3)
    rows = await db_rows(running.settings.database_url, "u1")
    assert sorted(rows) == sorted(ids)
    assert all(r["is_active"] for r in rows.values())


async def test_random_select_excludes_completed_claimed_and_locked_goals(running: RunningService) -> None:
    set_clock(running, T0)
    db = running.settings.database_url
    # career: 1000-kills needs first-100-kills, 10000-kills needs 1000-kills, 100-wins needs
    # win-10-matches; 500-headshots is claimed and 500-matches is completed → nothing is available.
    await running.http.post(
        BATCH.format("career"),
        json={"goal_ids": ["career-500-headshots", "career-500-matches"]},
        headers=user("u1"),
    )
    await db_execute(
        db, "UPDATE user_goal_progress SET status = 'claimed' WHERE goal_id = 'career-500-headshots'"
    )
    await db_execute(
        db, "UPDATE user_goal_progress SET status = 'completed' WHERE goal_id = 'career-500-matches'"
    )
    before = await db_rows(db, "u1")
    response = await running.http.post(RANDOM.format("career"), json={"count": 2}, headers=user("u1"))
    assert_error(
        response,
        400,
        3,
        "INSUFFICIENT_GOALS",
        "INSUFFICIENT_GOALS: no goals available for selection (available: 0, requested: 2)",
    )
    assert await db_rows(db, "u1") == before

    # Completing the prerequisite (in another challenge) unlocks career-1000-kills only.
    await running.http.post(
        BATCH.format("onboarding"), json={"goal_ids": ["first-100-kills"]}, headers=user("u1")
    )
    await db_execute(
        db, "UPDATE user_goal_progress SET status = 'completed' WHERE goal_id = 'first-100-kills'"
    )
    response = await running.http.post(RANDOM.format("career"), json={"count": 5}, headers=user("u1"))
    assert response.status_code == 200
    body = response.json()
    # A pool smaller than count: the whole pool.
    assert [g["goalId"] for g in body["selectedGoals"]] == ["career-1000-kills"]
    assert body["totalActiveGoals"] == 3


async def test_random_select_on_onboarding_only_offers_unlocked_goals(running: RunningService) -> None:
    set_clock(running, T0)
    body = (
        await running.http.post(RANDOM.format("onboarding"), json={"count": 6}, headers=user("u1"))
    ).json()
    # Only first-login has no prerequisites.
    assert [g["goalId"] for g in body["selectedGoals"]] == ["first-login"]


async def test_random_select_exclude_active_and_replace_existing(running: RunningService) -> None:
    set_clock(running, T0)
    db = running.settings.database_url
    await running.http.post(
        BATCH.format("monthly-challenges"),
        json={"goal_ids": ["monthly-login-20", "monthly-40-wins"]},
        headers=user("u1"),
    )
    excluded = (
        await running.http.post(
            RANDOM.format("monthly-challenges"),
            json={"count": 10, "exclude_active": True},
            headers=user("u1"),
        )
    ).json()
    assert sorted(g["goalId"] for g in excluded["selectedGoals"]) == [
        "monthly-2000-kills",
        "monthly-400-headshots",
        "monthly-60-matches",
    ]
    assert excluded["totalActiveGoals"] == 5

    # Deactivate two of them, then replace: the pool is every inactive goal, the active ones are replaced.
    for goal_id in ("monthly-login-20", "monthly-40-wins"):
        await running.http.put(
            f"/challenge/v1/challenges/monthly-challenges/goals/{goal_id}/active",
            json={"is_active": False},
            headers=user("u1"),
        )
    replaced = (
        await running.http.post(
            RANDOM.format("monthly-challenges"),
            json={"count": 1, "replaceExisting": True},
            headers=user("u1"),
        )
    ).json()
    chosen = replaced["selectedGoals"][0]["goalId"]
    assert chosen in ("monthly-login-20", "monthly-40-wins")
    assert replaced["replacedGoals"] == ["monthly-2000-kills", "monthly-60-matches", "monthly-400-headshots"]
    assert replaced["totalActiveGoals"] == 1
    rows = await db_rows(db, "u1")
    assert [g for g, r in rows.items() if r["is_active"]] == [chosen]


async def test_random_select_without_exclude_may_pick_active_goals(running: RunningService) -> None:
    set_clock(running, T0)
    await running.http.post(
        BATCH.format("monthly-challenges"), json={"goal_ids": ["monthly-login-20"]}, headers=user("u1")
    )
    body = (
        await running.http.post(RANDOM.format("monthly-challenges"), json={"count": 5}, headers=user("u1"))
    ).json()
    assert len(body["selectedGoals"]) == 5
    assert body["totalActiveGoals"] == 5


async def test_random_select_counts_rotated_completed_goals_as_available(running: RunningService) -> None:
    clock = set_clock(running, T0)
    db = running.settings.database_url
    await running.http.post(
        BATCH.format("monthly-challenges"),
        json={
            "goal_ids": [
                "monthly-login-20",
                "monthly-2000-kills",
                "monthly-60-matches",
                "monthly-400-headshots",
                "monthly-40-wins",
            ]
        },
        headers=user("u1"),
    )
    await db_execute(db, "UPDATE user_goal_progress SET status = 'completed', completed_at = %s", (T0,))
    response = await running.http.post(
        RANDOM.format("monthly-challenges"), json={"count": 1}, headers=user("u1")
    )
    assert_error(response, 400, 3, "INSUFFICIENT_GOALS")
    clock.now = datetime(2025, 4, 1, tzinfo=UTC)  # a new month: every goal is reset, hence available
    response = await running.http.post(
        RANDOM.format("monthly-challenges"), json={"count": 1}, headers=user("u1")
    )
    assert response.status_code == 200
    chosen = response.json()["selectedGoals"][0]
    assert (chosen["status"], chosen["expiresAt"]) == ("not_started", "2025-05-01T00:00:00Z")
    row = (await db_rows(db, "u1"))[chosen["goalId"]]
    assert (row["status"], row["completed_at"]) == ("not_started", None)


async def test_random_select_on_an_unknown_challenge_is_404(running: RunningService) -> None:
    response = await running.http.post(RANDOM.format("nope"), json={"count": 1}, headers=user("u1"))
    assert_error(response, 404, 5, "CHALLENGE_NOT_FOUND")


# ------------------------------------------------------------------------------------------- concurrency


async def test_concurrent_random_selects_never_pick_the_same_goal_twice(running: RunningService) -> None:
    set_clock(running, T0)
    responses = await asyncio.gather(
        *(
            running.http.post(
                RANDOM.format("monthly-challenges"),
                json={"count": 1, "exclude_active": True},
                headers=user("u1"),
            )
            for _ in range(8)
        )
    )
    ok = [r for r in responses if r.status_code == 200]
    # Writes of one player are serialised: each draw sees the previous ones as active.
    assert len(ok) == 5
    assert len({r.json()["selectedGoals"][0]["goalId"] for r in ok}) == 5
    for refused in (r for r in responses if r.status_code != 200):
        assert_error(refused, 400, 3, "INSUFFICIENT_GOALS")
    rows = await db_rows(running.settings.database_url, "u1")
    assert len(rows) == 5 and all(r["is_active"] for r in rows.values())


async def test_selects_never_write_back_progress_older_than_a_concurrent_flush(
    running: RunningService,
) -> None:
    # Real clock: the event flusher and the REST writes update the same row concurrently.
    db = running.settings.database_url
    activated = await running.http.post(
        BATCH.format("career"), json={"goal_ids": ["career-500-matches"]}, headers=user("u1")
    )
    assert activated.status_code == 200
    channel = Channel("127.0.0.1", running.settings.grpc_port)
    events = EventClient(channel)

    async def send_events() -> None:
        for value in range(1, 31):
            await events.stat("u1", "games_played", value, inc=1)

    async def select_again() -> None:
        for _ in range(30):
            response = await running.http.post(
                BATCH.format("career"),
                json={"goal_ids": ["career-500-matches", "career-500-headshots"]},
                headers=user("u1"),
            )
            assert response.status_code == 200
            await running.http.post(INITIALIZE, headers=user("u1"))

    try:
        await asyncio.gather(send_events(), select_again())
    finally:
        channel.close()
    row = (await db_rows(db, "u1"))["career-500-matches"]
    # Durable acks: every event is committed; no select overwrote the row with a stale read.
    assert (row["progress"], row["status"], row["is_active"]) == (30, "in_progress", True)

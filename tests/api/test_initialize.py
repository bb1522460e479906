"""POST /v1/challenges/initialize over real HTTP on a real database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from challenge_service.settings import Settings
from tests.helpers.assignments import INITIALIZE, T0
from tests.helpers.db import db_execute, db_rows
from tests.helpers.service import REPO, RunningService, in_process, make_settings, set_clock, user

# The default goals of challenges.json, in catalog order.
DEFAULTS = [
    "first-login",
    "complete-tutorial",
    "daily-login",
    "weekly-login-5-days",
    "weekly-250-kills",
    "daily-login-bonus",
]


async def test_first_call_assigns_every_default_goal(running: RunningService) -> None:
    set_clock(running, T0)
    response = await running.http.post(INITIALIZE, headers=user("u1"))
    assert response.status_code == 200
    body = response.json()
    assert body["newAssignments"] == len(DEFAULTS)
    assert body["totalActive"] == len(DEFAULTS)
    assert [g["goalId"] for g in body["assignedGoals"]] == DEFAULTS
    daily = body["assignedGoals"][2]
    assert daily == {
        "challengeId": "daily-challenges",
        "goalId": "daily-login",
        "name": daily["name"],
        "description": daily["description"],
        "isActive": True,
        "assignedAt": "2025-03-12T10:30:15Z",
        "expiresAt": "2025-03-13T00:00:00Z",
        "progress": 0,
        "target": 1,
        "status": "not_started",
        "requirement": {"statCode": "login_count", "operator": ">=", "targetValue": 1},
        "reward": daily["reward"],
        "rewards": [daily["reward"]],
    }
    assert set(daily["reward"]) == {"type", "rewardId", "quantity"}
    onboarding = body["assignedGoals"][0]
    assert onboarding["challengeId"] == "onboarding"
    assert onboarding["expiresAt"] == ""  # no rotation
    weekly = body["assignedGoals"][3]
    assert weekly["expiresAt"] == "2025-03-17T00:00:00Z"  # next Monday

    rows = await db_rows(running.settings.database_url, "u1")
    assert sorted(rows) == sorted(DEFAULTS)
    for goal_id, row in rows.items():
        assert row["is_active"] is True
        assert row["status"] == "not_started"
        assert row["progress"] == 0
        assert row["baseline"] is None
        assert row["assigned_at"] == T0
        assert row["completed_at"] is None and row["claimed_at"] is None
        assert row["challenge_id"] == next(
            g["challengeId"] for g in body["assignedGoals"] if g["goalId"] == goal_id
        )
    assert rows["first-login"]["expires_at"] is None
    assert rows["daily-login"]["expires_at"] == datetime(2025, 3, 13, tzinfo=UTC)
    assert rows["weekly-250-kills"]["expires_at"] == datetime(2025, 3, 17, tzinfo=UTC)


async def test_repeat_calls_are_idempotent_and_keep_assigned_at(running: RunningService) -> None:
    clock = set_clock(running, T0)
    first = (await running.http.post(INITIALIZE, headers=user("u1"))).json()
    clock.now = T0 + timedelta(hours=2)
    second = await running.http.post(INITIALIZE, headers=user("u1"), content=b"{}")
    assert second.status_code == 200
    assert second.json() == {**first, "newAssignments": 0}
    assert all(g["assignedAt"] == "2025-03-12T10:30:15Z" for g in second.json()["assignedGoals"])
    rows = await db_rows(running.settings.database_url, "u1")
    assert all(row["assigned_at"] == T0 for row in rows.values())


async def test_players_are_independent(running: RunningService) -> None:
    set_clock(running, T0)
    assert (await running.http.post(INITIALIZE, headers=user("u1"))).json()["newAssignments"] == len(DEFAULTS)
    assert (await running.http.post(INITIALIZE, headers=user("u2"))).json()["newAssignments"] == len(DEFAULTS)
    assert len(await db_rows(running.settings.database_url, "u2")) == len(DEFAULTS)


async def test_concurrent_first_calls_report_the_assignments_once(running: RunningService) -> None:
    set_clock(running, T0)
    responses = await asyncio.gather(
        *(running.http.post(INITIALIZE, headers=user("racer")) for _ in range(10))
    )
    assert [r.status_code for r in responses] == [200] * 10
    assert sum(r.json()["newAssignments"] for r in responses) == len(DEFAULTS)
    assert all(r.json()["totalActive"] == len(DEFAULTS) for r in responses)
    assert len(await db_rows(running.settings.database_url, "racer")) == len(DEFAULTS)


async def test_returns_only_active_goals_and_does_not_reactivate_defaults(running: RunningService) -> None:
    set_clock(running, T0)
    await running.http.post(INITIALIZE, headers=user("u1"))
    put = await running.http.put(
        "/challenge/v1/challenges/daily-challenges/goals/daily-login/active",
        json={"is_active": False},
        headers=user("u1"),
    )
    assert put.status_code == 200
    select = await running.http.post(
        "/challenge/v1/challenges/career/goals/batch-select",
        json={"goal_ids": ["career-500-matches"]},
        headers=user("u1"),
    )
    assert select.status_code == 200
    body = (await running.http.post(INITIALIZE, headers=user("u1"))).json()
    ids = [g["goalId"] for g in body["assignedGoals"]]
    assert ids == [
        "first-login",
        "complete-tutorial",
        "weekly-login-5-days",
        "weekly-250-kills",
        "career-500-matches",
        "daily-login-bonus",
    ]
    assert body["newAssignments"] == 0
    assert body["totalActive"] == len(DEFAULTS)
    assert (await db_rows(running.settings.database_url, "u1"))["daily-login"]["is_active"] is False


async def _complete(
    database_url: str, user_id: str, goal_id: str, at: datetime, status: str = "completed"
) -> None:
    await db_execute(
        database_url,
        "UPDATE user_goal_progress SET progress = 7, baseline = 2, status = %s, completed_at = %s,"
        " claimed_at = CASE WHEN %s = 'claimed' THEN %s END WHERE user_id = %s AND goal_id = %s",
        (status, at, status, at, user_id, goal_id),
    )


@pytest.mark.parametrize(
    ("goal_id", "before_end", "after_end", "next_end"),
    [
        # daily: midnight UTC
        (
            "daily-login",
            datetime(2025, 3, 12, 23, 59, 59, tzinfo=UTC),
            datetime(2025, 3, 13, tzinfo=UTC),
            datetime(2025, 3, 14, tzinfo=UTC),
        ),
        # weekly: Sunday 23:59:59 is still this week; Monday 00:00 starts the next
        (
            "weekly-login-5-days",
            datetime(2025, 3, 16, 23, 59, 59, tzinfo=UTC),
            datetime(2025, 3, 17, tzinfo=UTC),
            datetime(2025, 3, 24, tzinfo=UTC),
        ),
    ],
)
async def test_initialize_persists_due_rotation_resets(
    running: RunningService, goal_id: str, before_end: datetime, after_end: datetime, next_end: datetime
) -> None:
    clock = set_clock(running, T0)
    url = running.settings.database_url
    await running.http.post(INITIALIZE, headers=user("u1"))
    await _complete(url, "u1", goal_id, T0)

    clock.now = before_end  # last second of the period: nothing rotates
    goal = next(
        g
        for g in (await running.http.post(INITIALIZE, headers=user("u1"))).json()["assignedGoals"]
        if g["goalId"] == goal_id
    )
    assert (goal["status"], goal["progress"]) == ("completed", 5)
    assert (await db_rows(url, "u1"))[goal_id]["status"] == "completed"

    clock.now = after_end
    body = (await running.http.post(INITIALIZE, headers=user("u1"))).json()
    goal = next(g for g in body["assignedGoals"] if g["goalId"] == goal_id)
    assert goal["status"] == "not_started"
    assert goal["progress"] == 0
    assert goal["expiresAt"] == next_end.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert goal["assignedAt"] == "2025-03-12T10:30:15Z"
    assert body["newAssignments"] == 0
    row = (await db_rows(url, "u1"))[goal_id]
    assert row["status"] == "not_started"
    assert row["baseline"] is None
    assert row["completed_at"] is None
    assert row["progress"] == 7  # raw value stays; the relative baseline is re-derived by the next event
    assert row["expires_at"] == next_end
    assert row["is_active"] is True


async def test_claimed_rotating_goal_comes_back_when_reselection_is_allowed(running: RunningService) -> None:
    clock = set_clock(running, T0)
    url = running.settings.database_url
    await running.http.post(INITIALIZE, headers=user("u1"))
    await _complete(url, "u1", "daily-login", T0, status="claimed")
    clock.now = datetime(2025, 3, 13, 0, 0, 1, tzinfo=UTC)
    await running.http.post(INITIALIZE, headers=user("u1"))
    row = (await db_rows(url, "u1"))["daily-login"]
    assert (row["status"], row["claimed_at"], row["completed_at"]) == ("not_started", None, None)


async def test_monthly_rows_rotate_on_the_first(running: RunningService) -> None:
    clock = set_clock(running, datetime(2025, 12, 31, 23, 0, tzinfo=UTC))
    url = running.settings.database_url
    select = await running.http.post(
        "/challenge/v1/challenges/monthly-challenges/goals/batch-select",
        json={"goalIds": ["monthly-40-wins"]},
        headers=user("u1"),
    )
    assert select.json()["selectedGoals"][0]["expiresAt"] == "2026-01-01T00:00:00Z"
    await _complete(url, "u1", "monthly-40-wins", clock.now)
    clock.now = datetime(2026, 1, 1, tzinfo=UTC)
    body = (await running.http.post(INITIALIZE, headers=user("u1"))).json()
    goal = next(g for g in body["assignedGoals"] if g["goalId"] == "monthly-40-wins")
    assert (goal["status"], goal["expiresAt"]) == ("not_started", "2026-02-01T00:00:00Z")
    row = (await db_rows(url, "u1"))["monthly-40-wins"]
    assert (row["status"], row["expires_at"]) == ("not_started", datetime(2026, 2, 1, tzinfo=UTC))


def _catalog_with_extra_default(tmp_path: Path) -> str:
    document = json.loads((REPO / "challenges.json").read_text())
    career = next(c for c in document["challenges"] if c["challengeId"] == "career")
    goal = next(g for g in career["goals"] if g["goalId"] == "career-500-headshots")
    goal["defaultAssigned"] = True
    path = tmp_path / "challenges.json"
    path.write_text(json.dumps(document))
    return str(path)


@asynccontextmanager
async def serving(settings: Settings, now: datetime) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process(settings) as running:
        set_clock(running, now)
        yield running.http


async def test_config_sync_assigns_default_goals_added_since(database_url: str, tmp_path: Path) -> None:
    async with serving(make_settings(database_url), T0) as http:
        assert (await http.post(INITIALIZE, headers=user("u1"))).json()["newAssignments"] == len(DEFAULTS)

    # The studio ships a catalog with one more default goal; the service restarts on the same database.
    later = T0 + timedelta(minutes=5)
    settings = make_settings(database_url, challenge_config_path=_catalog_with_extra_default(tmp_path))
    async with serving(settings, later) as http:
        body = (await http.post(INITIALIZE, headers=user("u1"))).json()
        assert body["newAssignments"] == 1
        assert body["totalActive"] == len(DEFAULTS) + 1
        added = next(g for g in body["assignedGoals"] if g["goalId"] == "career-500-headshots")
        assert added["assignedAt"] == "2025-03-12T10:35:15Z"
        assert (await http.post(INITIALIZE, headers=user("u1"))).json()["newAssignments"] == 0
    rows = await db_rows(database_url, "u1")
    assert rows["career-500-headshots"]["is_active"] is True
    assert rows["career-500-headshots"]["challenge_id"] == "career"
    assert rows["first-login"]["assigned_at"] == T0


async def test_initialize_rejects_a_malformed_body(running: RunningService) -> None:
    response = await running.http.post(INITIALIZE, content=b"{nope", headers=user("u1"))
    assert response.status_code == 400
    assert response.json()["errorCode"] == "INVALID_INPUT"
    assert await db_rows(running.settings.database_url, "u1") == {}

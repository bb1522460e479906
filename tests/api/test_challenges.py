"""GET /v1/challenges and /v1/challenges/{id}: the catalog merged with the player's rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

from tests.helpers.api import assert_error
from tests.helpers.db import seed
from tests.helpers.service import RunningService, set_clock

NOW = datetime(2026, 11, 25, 15, 30, 0, tzinfo=UTC)  # a Wednesday
TODAY_END = datetime(2026, 11, 26, tzinfo=UTC)
USER = {"X-Mock-User-Id": "reader"}


async def put(running: RunningService, goal_id: str, challenge_id: str, **columns: Any) -> None:
    columns = {"status": "in_progress", **columns}
    await seed(running.settings.database_url, "reader", goal_id, challenge_id=challenge_id, **columns)


def goals_of(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {goal["goalId"]: goal for challenge in body["challenges"] for goal in challenge["goals"]}


async def listing(running: RunningService, query: str = "") -> dict[str, Any]:
    set_clock(running, NOW)
    response = await running.http.get(f"/challenge/v1/challenges{query}", headers=USER)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


async def test_a_new_player_sees_the_whole_catalog_untouched(running: RunningService) -> None:
    body = await listing(running)
    assert [c["challengeId"] for c in body["challenges"]] == [
        "onboarding",
        "daily-challenges",
        "weekly-challenges",
        "monthly-challenges",
        "career",
        "login-bonus",
        "tokyo-daily",
        "sprint",
    ]  # not the weekend event: it has not started yet
    first_login = goals_of(body)["first-login"]
    assert first_login == {
        "goalId": "first-login",
        "name": first_login["name"],
        "description": first_login["description"],
        "requirement": {"statCode": "login_count", "operator": ">=", "targetValue": 1},
        "reward": first_login["reward"],
        "rewards": [first_login["reward"]],
        "prerequisites": [],
        "tags": first_login["tags"],
        "autoClaim": first_login["autoClaim"],
        "progress": 0,
        "status": "not_started",
        "locked": False,
        "completedAt": "",
        "claimedAt": "",
        "isActive": False,
        "expiresAt": "",
        "expiresInSeconds": 0,
    }
    # Prerequisite not completed → locked; rotating goals expire at the end of today/this week/month.
    goals = goals_of(body)
    assert goals["complete-tutorial"]["locked"] is True
    assert goals["daily-10-kills"]["expiresAt"] == "2026-11-26T00:00:00Z"
    assert goals["daily-10-kills"]["expiresInSeconds"] == int((TODAY_END - NOW).total_seconds())
    assert goals["weekly-250-kills"]["expiresAt"] == "2026-11-30T00:00:00Z"
    assert goals["monthly-40-wins"]["expiresAt"] == "2026-12-01T00:00:00Z"


async def test_rows_show_displayed_progress_status_and_timestamps(running: RunningService) -> None:
    completed = datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=UTC)
    await put(
        running,
        "first-login",
        "onboarding",
        progress=1,
        status="claimed",
        completed_at=completed,
        claimed_at=completed,
    )
    await put(
        running, "complete-tutorial", "onboarding", progress=1, status="completed", completed_at=completed
    )
    # Relative goal: displayed = raw − baseline.
    await put(running, "daily-10-kills", "daily-challenges", progress=57, baseline=50, expires_at=TODAY_END)
    goals = goals_of(await listing(running))

    assert goals["first-login"]["status"] == "claimed"
    assert goals["first-login"]["claimedAt"] == "2026-11-25T10:00:00Z"
    assert (goals["complete-tutorial"]["status"], goals["complete-tutorial"]["progress"]) == ("completed", 1)
    assert goals["complete-tutorial"]["completedAt"] == "2026-11-25T10:00:00Z"
    assert goals["complete-tutorial"]["locked"] is False  # its prerequisite is claimed
    assert goals["first-match"]["locked"] is False  # its prerequisite is completed
    assert goals["first-win"]["locked"] is True
    assert (goals["daily-10-kills"]["progress"], goals["daily-10-kills"]["isActive"]) == (7, True)


async def test_a_due_rotation_reset_shows_before_it_is_persisted(running: RunningService) -> None:
    yesterday_end = datetime(2026, 11, 25, tzinfo=UTC)
    await put(
        running,
        "daily-10-kills",
        "daily-challenges",
        progress=80,
        baseline=60,
        status="completed",
        completed_at=datetime(2026, 11, 24, 20, tzinfo=UTC),
        expires_at=yesterday_end,
    )
    goal = goals_of(await listing(running))["daily-10-kills"]
    assert (goal["progress"], goal["status"], goal["completedAt"]) == (0, "not_started", "")
    async with await psycopg.AsyncConnection.connect(running.settings.database_url) as conn:
        cursor = await conn.execute("SELECT status FROM user_goal_progress WHERE goal_id = 'daily-10-kills'")
        assert await cursor.fetchone() == ("completed",)  # a read writes nothing


async def test_active_only_keeps_every_challenge_but_only_active_goals(running: RunningService) -> None:
    await put(running, "daily-10-kills", "daily-challenges", expires_at=TODAY_END)
    await put(running, "daily-25-kills", "daily-challenges", is_active=False, expires_at=TODAY_END)
    body = await listing(running, "?active_only=true")
    assert len(body["challenges"]) == 8
    assert goals_of(body).keys() == {"daily-10-kills"}


async def test_one_challenge_and_an_unknown_one(running: RunningService) -> None:
    set_clock(running, NOW)
    response = await running.http.get("/challenge/v1/challenges/career", headers=USER)
    assert response.status_code == 200
    body = response.json()
    assert body["challengeId"] == "career"
    assert [goal["goalId"] for goal in body["goals"]][:2] == ["career-1000-kills", "career-10000-kills"]

    missing = await running.http.get("/challenge/v1/challenges/no-such-thing", headers=USER)
    assert_error(missing, 404, 5, "CHALLENGE_NOT_FOUND", "challenge not found: no-such-thing")


async def test_players_only_see_their_own_rows(running: RunningService) -> None:
    await put(running, "first-login", "onboarding", progress=1, status="completed")
    response = await running.http.get("/challenge/v1/challenges", headers={"X-Mock-User-Id": "someone-else"})
    assert goals_of(response.json())["first-login"]["status"] == "not_started"


async def test_bad_query_values_are_invalid_input(running: RunningService) -> None:
    response = await running.http.get("/challenge/v1/challenges?active_only=perhaps", headers=USER)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "INVALID_INPUT"

"""PUT /v1/challenges/{cid}/goals/{gid}/active."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers.assignments import T0
from tests.helpers.db import db_execute, db_rows
from tests.helpers.service import RunningService, set_clock, user


def url(challenge_id: str, goal_id: str) -> str:
    return f"/challenge/v1/challenges/{challenge_id}/goals/{goal_id}/active"


async def test_activating_a_missing_goal_creates_its_row(running: RunningService) -> None:
    set_clock(running, T0)
    response = await running.http.put(url("daily-challenges", "daily-10-kills"), json={"is_active": True})
    assert response.status_code == 200
    assert response.json() == {
        "challengeId": "daily-challenges",
        "goalId": "daily-10-kills",
        "isActive": True,
        "assignedAt": "2025-03-12T10:30:15Z",
        "message": "Goal activated successfully",
    }
    # No X-Mock-User-Id: mock auth's default player.
    rows = await db_rows(running.settings.database_url, "test-user-id")
    assert list(rows) == ["daily-10-kills"]
    row = rows["daily-10-kills"]
    assert (row["challenge_id"], row["progress"], row["baseline"], row["status"], row["is_active"]) == (
        "daily-challenges",
        0,
        None,
        "not_started",
        True,
    )
    assert row["assigned_at"] == T0
    assert row["expires_at"] == datetime(2025, 3, 13, tzinfo=UTC)


async def test_deactivating_a_missing_goal_creates_an_inactive_row(running: RunningService) -> None:
    set_clock(running, T0)
    response = await running.http.put(
        url("career", "career-500-matches"), json={"isActive": False}, headers=user("u1")
    )
    assert response.status_code == 200
    assert response.json() == {
        "challengeId": "career",
        "goalId": "career-500-matches",
        "isActive": False,
        "assignedAt": "",
        "message": "Goal deactivated successfully",
    }
    row = (await db_rows(running.settings.database_url, "u1"))["career-500-matches"]
    assert (row["is_active"], row["status"], row["assigned_at"], row["expires_at"]) == (
        False,
        "not_started",
        None,
        None,
    )


async def test_progress_survives_toggling_and_activation_resets_assigned_at(running: RunningService) -> None:
    clock = set_clock(running, T0)
    db = running.settings.database_url
    await running.http.put(url("career", "career-500-matches"), json={"is_active": True}, headers=user("u1"))
    await db_execute(
        db,
        "UPDATE user_goal_progress SET progress = 42, status = 'in_progress' WHERE user_id = 'u1'",
    )
    clock.now = T0 + timedelta(hours=1)
    off = await running.http.put(
        url("career", "career-500-matches"), json={"is_active": False}, headers=user("u1")
    )
    assert off.json()["assignedAt"] == "2025-03-12T10:30:15Z"  # deactivating keeps it
    row = (await db_rows(db, "u1"))["career-500-matches"]
    assert (row["is_active"], row["progress"], row["status"]) == (False, 42, "in_progress")

    clock.now = T0 + timedelta(hours=2)
    on = await running.http.put(
        url("career", "career-500-matches"), json={"is_active": True}, headers=user("u1")
    )
    assert on.json()["assignedAt"] == "2025-03-12T12:30:15Z"
    row = (await db_rows(db, "u1"))["career-500-matches"]
    assert (row["is_active"], row["progress"], row["status"]) == (True, 42, "in_progress")
    assert row["assigned_at"] == T0 + timedelta(hours=2)
    listing = await running.http.get("/challenge/v1/challenges/career", headers=user("u1"))
    goal = next(g for g in listing.json()["goals"] if g["goalId"] == "career-500-matches")
    assert (goal["progress"], goal["isActive"]) == (42, True)


async def test_activating_a_rotated_goal_persists_its_reset(running: RunningService) -> None:
    clock = set_clock(running, T0)
    db = running.settings.database_url
    await running.http.put(
        url("daily-challenges", "daily-10-kills"), json={"is_active": True}, headers=user("u1")
    )
    await db_execute(
        db,
        "UPDATE user_goal_progress SET progress = 30, baseline = 5, status = 'completed', completed_at = %s"
        " WHERE user_id = 'u1'",
        (T0,),
    )
    await running.http.put(
        url("daily-challenges", "daily-10-kills"), json={"is_active": False}, headers=user("u1")
    )
    clock.now = datetime(2025, 3, 13, 8, 0, tzinfo=UTC)  # the next day
    await running.http.put(
        url("daily-challenges", "daily-10-kills"), json={"is_active": True}, headers=user("u1")
    )
    row = (await db_rows(db, "u1"))["daily-10-kills"]
    assert (row["status"], row["baseline"], row["completed_at"], row["is_active"]) == (
        "not_started",
        None,
        None,
        True,
    )
    assert row["expires_at"] == datetime(2025, 3, 14, tzinfo=UTC)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{}",
        b"null",
        b'{"is_active": null}',
        b'{"is_active": 1}',
        b'{"is_active": "true"}',
        b'{"active": true}',
        b"[true]",
        b"{bad json",
    ],
)
async def test_is_active_must_be_a_boolean(running: RunningService, body: bytes) -> None:
    response = await running.http.put(
        url("career", "career-500-matches"),
        content=body,
        headers={**user("u1"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == 3
    assert payload["errorCode"] == "INVALID_INPUT"
    assert payload["details"] == []
    assert payload["message"]
    assert await db_rows(running.settings.database_url, "u1") == {}


@pytest.mark.parametrize(
    ("challenge_id", "goal_id", "error_code", "message"),
    [
        ("nope", "daily-10-kills", "CHALLENGE_NOT_FOUND", "challenge not found: nope"),
        ("career", "nope", "GOAL_NOT_FOUND", "goal not found in challenge career: nope"),
        # The goal exists, but in another challenge.
        ("career", "daily-10-kills", "GOAL_NOT_FOUND", "goal not found in challenge career: daily-10-kills"),
    ],
)
async def test_unknown_challenge_or_goal_is_404(
    running: RunningService, challenge_id: str, goal_id: str, error_code: str, message: str
) -> None:
    response = await running.http.put(
        url(challenge_id, goal_id), json={"is_active": True}, headers=user("u1")
    )
    assert response.status_code == 404
    assert response.json() == {"code": 5, "errorCode": error_code, "message": message, "details": []}
    assert await db_rows(running.settings.database_url, "u1") == {}


async def test_path_wins_over_body(running: RunningService) -> None:
    set_clock(running, T0)
    response = await running.http.put(
        url("career", "career-500-matches"),
        json={"is_active": True, "challengeId": "daily-challenges", "goal_id": "daily-10-kills"},
        headers=user("u1"),
    )
    assert response.status_code == 200
    assert (response.json()["challengeId"], response.json()["goalId"]) == ("career", "career-500-matches")
    assert list(await db_rows(running.settings.database_url, "u1")) == ["career-500-matches"]


async def test_wrong_method_is_405(running: RunningService) -> None:
    response = await running.http.get(url("career", "career-500-matches"))
    assert response.status_code == 405

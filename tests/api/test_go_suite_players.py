"""A Go suite deployment switched over: only the Go suite's environment, its database, its players.

The service starts on the database of tests/fixtures/go_suite (upgraded at start-up) with the settings
a Go deployment already has, and every player sees what the Go suite showed them; events and claims
carry on from there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from psycopg.conninfo import conninfo_to_dict

from challenge_service import demo
from challenge_service.app import Service
from challenge_service.rewards import MockRewardClient
from challenge_service.settings import Settings, load_settings
from tests.helpers.go_suite import NOW, REFERENCE_CATALOG, create_go_database, fetch
from tests.helpers.service import free_port

PASSWORD = "go-suite-secret"
NAMESPACE = "mygame"


def go_environment(database_url: str) -> dict[str, str]:
    """What the Go suite's deployment sets (its DB_* names), plus dev-mode auth and rewards."""
    where = conninfo_to_dict(database_url)
    return {
        "DB_HOST": str(where["host"]),
        "DB_NAME": str(where["dbname"]),
        "DB_USER": str(where["user"]),
        "DB_PASSWORD": PASSWORD,
        "DB_SSLMODE": "disable",
        "AB_NAMESPACE": NAMESPACE,
        "BASE_PATH": "/challenge",
        "CHALLENGE_CONFIG_PATH": str(REFERENCE_CATALOG),
        "PLUGIN_GRPC_SERVER_AUTH_ENABLED": "false",
        "REWARD_CLIENT_MODE": "mock",
        "HTTP_PORT": str(free_port()),
        "GRPC_PORT": str(free_port()),
        "METRICS_PORT": "0",
    }


@dataclass
class Switched:
    settings: Settings
    service: Service
    http: httpx.AsyncClient
    database_url: str

    async def goals(self, user: str) -> dict[str, dict[str, Any]]:
        response = await self.http.get("/challenge/v1/challenges", headers={"X-Mock-User-Id": user})
        assert response.status_code == 200
        return {goal["goalId"]: goal for c in response.json()["challenges"] for goal in c["goals"]}

    async def claim(self, user: str, challenge_id: str, goal_id: str) -> httpx.Response:
        path = f"/challenge/v1/challenges/{challenge_id}/goals/{goal_id}/claim"
        return await self.http.post(path, headers={"X-Mock-User-Id": user})

    @property
    def grpc(self) -> str:
        return f"127.0.0.1:{self.settings.grpc_port}"

    @property
    def rewards(self) -> MockRewardClient:
        assert self.service.services is not None
        rewards = self.service.services.rewards
        assert isinstance(rewards, MockRewardClient)
        return rewards


@pytest.fixture
async def switched(empty_database_url: str) -> AsyncIterator[Switched]:
    await create_go_database(empty_database_url)
    settings = load_settings(go_environment(empty_database_url))
    service = Service(settings, host="127.0.0.1")
    await service.start()
    assert service.services is not None
    service.services.clock = lambda: NOW
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.http_port}", timeout=10) as http:
            yield Switched(settings, service, http, empty_database_url)
    finally:
        await service.stop()


def shown(goal: dict[str, Any]) -> tuple[Any, ...]:
    return (
        goal["progress"],
        goal["status"],
        goal["isActive"],
        goal["completedAt"],
        goal["claimedAt"],
        goal["expiresAt"],
    )


# (player, goal) → what the Go suite showed at NOW: (progress, status, isActive, completedAt, claimedAt,
# expiresAt). Rows whose period ended show the rotation reset their goal's onExpiry asks for.
EXPECTED = {
    ("go-new", "challenge-001-goal-01"): (0, "not_started", True, "", "", ""),
    ("go-new", "complete-tutorial"): (0, "not_started", True, "", "", ""),
    ("go-progress", "kill-10-snowmen"): (7, "in_progress", True, "", "", ""),
    ("go-progress", "reach-level-5"): (3, "in_progress", False, "", "", ""),
    ("go-progress", "daily-extra-challenge-001-goal-02"): (1, "in_progress", True, "", "", ""),
    ("go-completed", "complete-tutorial"): (1, "completed", True, "2025-03-11T23:59:59Z", "", ""),
    ("go-completed", "challenge-001-goal-01"): (1, "completed", True, "2025-03-11T20:00:01Z", "", ""),
    ("go-claimed", "kill-10-snowmen"): (
        12,
        "claimed",
        True,
        "2025-03-10T12:00:00Z",
        "2025-03-10T12:05:30Z",
        "",
    ),
    ("go-relative", "daily-challenges-goal-01"): (4, "in_progress", True, "", "", "2025-03-13T00:00:00Z"),
    ("go-relative", "daily-challenges-goal-02"): (
        3,
        "completed",
        True,
        "2025-03-12T09:00:00Z",
        "",
        "2025-03-13T00:00:00Z",
    ),
    ("go-relative", "weekly-challenges-goal-01"): (4, "in_progress", True, "", "", "2025-03-17T00:00:00Z"),
    ("go-relative", "daily-login-rotation"): (0, "not_started", True, "", "", "2025-03-13T00:00:00Z"),
    ("go-relative", "monthly-kills-goal"): (0, "not_started", True, "", "", "2025-04-01T00:00:00Z"),
    # resetProgress: a new period from scratch.
    ("go-rotated", "daily-challenges-goal-01"): (0, "not_started", True, "", "", "2025-03-13T00:00:00Z"),
    ("go-rotated", "monthly-kills-goal"): (0, "not_started", True, "", "", "2025-04-01T00:00:00Z"),
    # No reselection: a claimed goal stays claimed into the new period.
    ("go-rotated", "daily-wins-no-reselect"): (
        3,
        "claimed",
        True,
        "2025-03-10T15:00:00Z",
        "2025-03-10T15:30:00Z",
        "2025-03-13T00:00:00Z",
    ),
    # No reset: progress carries into the new period.
    ("go-rotated", "weekly-wins-no-reset"): (2, "in_progress", True, "", "", "2025-03-17T00:00:00Z"),
}


async def test_every_player_sees_what_the_go_suite_showed(switched: Switched) -> None:
    players = sorted({user for user, _ in EXPECTED})
    seen = {}
    for user in players:
        goals = await switched.goals(user)
        seen.update({(user, goal_id): shown(goals[goal_id]) for u, goal_id in EXPECTED if u == user})
    assert seen == EXPECTED
    # Goals a player never had rows for read as fresh, inactive ones, as in the Go suite.
    untouched = (await switched.goals("go-new"))["kill-10-snowmen"]
    assert shown(untouched) == (0, "not_started", False, "", "", "")


async def test_the_go_suite_environment_is_enough_and_its_password_stays_secret(
    switched: Switched, capsys: pytest.CaptureFixture[str]
) -> None:
    assert switched.settings.database.url.startswith("dbname=")
    assert PASSWORD not in repr(switched.settings)
    assert (await switched.http.get("/challenge/healthz")).status_code == 200
    out, err = capsys.readouterr()
    assert PASSWORD not in out + err
    migrated = await fetch(switched.database_url, "SELECT version, dirty FROM schema_migrations")
    assert migrated == [(2, False)]


async def test_events_move_the_upgraded_players(switched: Switched) -> None:
    await demo.send_stat(switched.grpc, "go-progress", NAMESPACE, "snowmen_killed", 10, 3)
    await demo.send_login(switched.grpc, "go-progress", NAMESPACE)
    goals = await switched.goals("go-progress")
    assert shown(goals["kill-10-snowmen"])[:2] == (10, "completed")
    assert shown(goals["daily-extra-challenge-001-goal-02"])[:2] == (2, "completed")
    assert shown(goals["reach-level-5"])[:2] == (3, "in_progress")  # inactive: does not move

    # Relative goals with progress keep counting as the Go suite did (the stat's latest value) until
    # their period ends; those without progress count from their first event, as a new player's do.
    await demo.send_stat(switched.grpc, "go-relative", NAMESPACE, "kills", 6, 2)
    await demo.send_login(switched.grpc, "go-relative", NAMESPACE)
    goals = await switched.goals("go-relative")
    assert shown(goals["daily-challenges-goal-01"])[:2] == (6, "in_progress")
    assert shown(goals["weekly-challenges-goal-01"])[:2] == (6, "in_progress")
    assert shown(goals["monthly-kills-goal"])[:2] == (2, "in_progress")
    assert shown(goals["daily-login-rotation"])[:2] == (1, "completed")

    # A rotated row is reset by its next event, as it is shown.
    await demo.send_stat(switched.grpc, "go-rotated", NAMESPACE, "kills", 500, 1)
    goals = await switched.goals("go-rotated")
    assert shown(goals["daily-challenges-goal-01"])[:2] == (1, "in_progress")


async def test_claims_grant_once_and_never_what_the_go_suite_granted(switched: Switched) -> None:
    first = await switched.claim("go-completed", "winter-challenge-2025", "complete-tutorial")
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "claimed"
    again = await switched.claim("go-completed", "winter-challenge-2025", "complete-tutorial")
    assert (again.status_code, again.json()["errorCode"]) == (409, "GOAL_ALREADY_CLAIMED")

    relative = await switched.claim("go-relative", "rotation-daily", "daily-challenges-goal-02")
    assert relative.status_code == 200, relative.text

    claimed_in_go = await switched.claim("go-claimed", "winter-challenge-2025", "kill-10-snowmen")
    assert (claimed_in_go.status_code, claimed_in_go.json()["errorCode"]) == (409, "GOAL_ALREADY_CLAIMED")
    rotated = await switched.claim("go-rotated", "rotation-daily", "daily-challenges-goal-01")
    assert (rotated.status_code, rotated.json()["errorCode"]) == (400, "GOAL_ROTATED")

    granted = [(grant.user_id, grant.reward.reward_id) for grant in switched.rewards.grants]
    assert len(granted) == 2
    assert [user for user, _ in granted] == ["go-completed", "go-relative"]

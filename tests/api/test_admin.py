"""The operator routes over real HTTP in mock-auth mode (`X-Mock-Admin: true` stands for the permission):
find a player, see why a goal is stuck, fix it, settle a grant, and see who changed what."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers.api import assert_error
from tests.helpers.claims import NOW, USER, claim, put_grant, put_row, use_mock_rewards
from tests.helpers.db import db_execute, fetch
from tests.helpers.service import RunningService, operator, user

OPERATOR = "ops-1"
ADMIN = operator(OPERATOR)
PLAYER = user(USER)


async def admin(running: RunningService, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {**ADMIN, **kwargs.pop("headers", {})}
    return await running.http.request(method, f"{running.base}/v1/admin{path}", headers=headers, **kwargs)


async def set_progress(
    running: RunningService, goal_id: str, body: Any, user_id: str = USER
) -> httpx.Response:
    return await admin(running, "PUT", f"/users/{user_id}/goals/{goal_id}/progress", json=body)


async def player_goal(running: RunningService, challenge_id: str, goal_id: str) -> dict[str, Any]:
    """The goal as the player sees it."""
    response = await running.http.get(f"{running.base}/v1/challenges/{challenge_id}", headers=PLAYER)
    assert response.status_code == 200
    [goal] = [g for g in response.json()["goals"] if g["goalId"] == goal_id]
    return goal  # type: ignore[no-any-return]


async def put_in_doubt_grant(running: RunningService) -> str:
    """The player's first-login grant, in doubt after a timeout; its grant id."""
    return await put_grant(running.settings.database_url, "in_doubt", last_error="timed out")


@pytest.fixture
def clocked(running: RunningService) -> RunningService:
    use_mock_rewards(running)
    return running


# -- who may call ---------------------------------------------------------------------------------------


async def admin_routes(running: RunningService) -> list[tuple[str, str]]:
    spec = (await running.http.get(f"{running.base}/openapi/openapi.json")).json()
    routes = [
        (method.upper(), path.format(user_id=USER, goal_id="first-login", grant_id="0" * 32))
        for path, operations in spec["paths"].items()
        if "/v1/admin/" in path
        for method in operations
    ]
    assert len(routes) == 6
    return routes


async def test_a_player_gets_403_on_every_admin_route(clocked: RunningService) -> None:
    for method, path in await admin_routes(clocked):
        for headers in (PLAYER, {**PLAYER, "X-Mock-Admin": "false"}, {**PLAYER, "X-Mock-Admin": "yes"}):
            response = await clocked.http.request(
                method, path, headers=headers, json={"progress": 1, "as": "failed"}
            )
            body = assert_error(response, 403, 7, "PERMISSION_DENIED")
            assert "ADMIN:NAMESPACE:accelbyte:CHALLENGE" in body["message"]
    # Nothing was written on the way.
    assert await fetch(clocked.settings.database_url, "SELECT count(*) FROM admin_audit") == [(0,)]


async def test_player_routes_are_unchanged_for_an_operator(clocked: RunningService) -> None:
    response = await clocked.http.post(f"{clocked.base}/v1/challenges/initialize", headers=ADMIN)
    assert response.status_code == 200
    assert response.json()["newAssignments"] > 0  # the operator is a player of their own too


# -- look at a player -----------------------------------------------------------------------------------


async def test_an_unknown_player_is_an_empty_state(clocked: RunningService) -> None:
    response = await admin(clocked, "GET", "/users/nobody-ever/challenges")
    assert response.status_code == 200
    body = response.json()
    assert body["userId"] == "nobody-ever"
    goals = [goal for challenge in body["challenges"] for goal in challenge["goals"]]
    assert len(goals) == len(clocked.service.services.catalog.goals)  # type: ignore[union-attr]
    assert {(goal["status"], goal["progress"], goal["stored"]) for goal in goals} == {
        ("not_started", 0, None)
    }


async def test_the_state_shows_the_goal_as_the_player_sees_it_and_the_row_behind_it(
    clocked: RunningService,
) -> None:
    url = clocked.settings.database_url
    await put_row(
        url, "daily-login", "daily-challenges", "in_progress", expires_at=NOW.replace(day=13, hour=0)
    )
    await db_execute(
        url, "UPDATE user_goal_progress SET progress = 7, baseline = 5 WHERE goal_id = 'daily-login'"
    )

    body = (await admin(clocked, "GET", f"/users/{USER}/challenges")).json()

    [daily] = [c for c in body["challenges"] if c["challengeId"] == "daily-challenges"]
    [goal] = [g for g in daily["goals"] if g["goalId"] == "daily-login"]
    seen = await player_goal(clocked, "daily-challenges", "daily-login")
    assert {key: goal[key] for key in seen} == seen
    assert (goal["progress"], goal["stored"]["progress"], goal["stored"]["baseline"]) == (2, 7, 5)
    assert goal["stored"]["updatedAt"].endswith("Z") and goal["stored"]["challengeId"] == "daily-challenges"


@pytest.mark.parametrize("user_id", ["x" * 101, "tab%09here"])
async def test_a_bad_user_id_is_400(clocked: RunningService, user_id: str) -> None:
    assert_error(await admin(clocked, "GET", f"/users/{user_id}/challenges"), 400, 3, "INVALID_INPUT")


# -- fix a goal -----------------------------------------------------------------------------------------


async def test_setting_progress_completes_the_goal_for_the_player(clocked: RunningService) -> None:
    url = clocked.settings.database_url
    await put_row(url, "first-100-kills", "onboarding", "in_progress")

    response = await set_progress(clocked, "first-100-kills", {"progress": 100})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["userId"], body["challengeId"], body["goalId"]) == (USER, "onboarding", "first-100-kills")
    assert (body["progress"], body["status"]) == (100, "completed")
    assert (body["before"]["progress"], body["before"]["status"]) == (5, "in_progress")
    assert (body["after"]["progress"], body["after"]["status"]) == (100, "completed")
    seen = await player_goal(clocked, "onboarding", "first-100-kills")
    assert (seen["progress"], seen["status"], seen["completedAt"]) == (
        100,
        "completed",
        "2025-03-12T10:00:00Z",
    )


async def test_setting_a_relative_goal_moves_its_baseline(clocked: RunningService) -> None:
    url = clocked.settings.database_url
    await put_row(
        url, "daily-10-kills", "daily-challenges", "in_progress", expires_at=NOW.replace(day=13, hour=0)
    )
    await db_execute(
        url, "UPDATE user_goal_progress SET progress = 40, baseline = 38 WHERE goal_id = 'daily-10-kills'"
    )

    body = (await set_progress(clocked, "daily-10-kills", {"progress": 6})).json()

    assert (body["progress"], body["after"]["progress"], body["after"]["baseline"]) == (6, 40, 34)
    assert (await player_goal(clocked, "daily-challenges", "daily-10-kills"))["progress"] == 6


async def test_setting_progress_of_a_goal_without_a_row_creates_it_inactive(clocked: RunningService) -> None:
    body = (await set_progress(clocked, "first-100-kills", {"progress": 3}, user_id="newcomer")).json()
    assert body["before"] is None
    assert (body["after"]["progress"], body["after"]["status"], body["after"]["isActive"]) == (
        3,
        "in_progress",
        False,
    )


@pytest.mark.parametrize(
    "body", [{"progress": -1}, {"progress": 1.5}, {"progress": "3"}, {"progress": True}, {}, None, [3]]
)
async def test_bad_progress_is_400_and_changes_nothing(clocked: RunningService, body: Any) -> None:
    await put_row(clocked.settings.database_url, "first-100-kills", "onboarding", "in_progress")
    assert_error(await set_progress(clocked, "first-100-kills", body), 400, 3, "INVALID_INPUT")
    assert (await player_goal(clocked, "onboarding", "first-100-kills"))["progress"] == 5


async def test_an_unknown_goal_is_404(clocked: RunningService) -> None:
    body = assert_error(
        await set_progress(clocked, "no-such-goal", {"progress": 1}), 404, 5, "GOAL_NOT_FOUND"
    )
    assert body["message"] == "goal not found: no-such-goal"
    response = await admin(clocked, "POST", f"/users/{USER}/goals/no-such-goal/reset")
    assert_error(response, 404, 5, "GOAL_NOT_FOUND")


async def test_reset_reopens_a_claimed_goal_but_never_pays_twice(clocked: RunningService) -> None:
    url = clocked.settings.database_url
    await put_row(url, "first-login", "onboarding")
    assert (await claim(clocked, "onboarding", "first-login")).status_code == 200

    response = await admin(clocked, "POST", f"/users/{USER}/goals/first-login/reset")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["before"]["status"], body["after"]["status"], body["progress"]) == (
        "claimed",
        "not_started",
        0,
    )
    assert (body["after"]["baseline"], body["after"]["completedAt"], body["after"]["claimedAt"]) == (
        None,
        "",
        "",
    )
    # The goal can be completed again, but its reward for this period is already in the ledger.
    await put_row(url, "first-login", "onboarding")
    assert_error(await claim(clocked, "onboarding", "first-login"), 409, 6, "GOAL_ALREADY_CLAIMED")


# -- grants ---------------------------------------------------------------------------------------------


async def test_grants_are_listed_by_state_oldest_first(clocked: RunningService) -> None:
    grant_id = await put_in_doubt_grant(clocked)

    listed = (await admin(clocked, "GET", "/grants")).json()["grants"]
    assert [(g["grantId"], g["state"], g["attempts"], g["lastError"]) for g in listed] == [
        (grant_id, "in_doubt", 1, "timed out")
    ]
    assert listed[0]["reward"] == {"type": "WALLET", "rewardId": "GOLD", "quantity": 100}
    assert (await admin(clocked, "GET", "/grants", params={"state": "granted,failed"})).json() == {
        "grants": []
    }
    mine = await admin(clocked, "GET", "/grants", params={"state": "in_doubt", "userId": USER, "limit": 1})
    assert len(mine.json()["grants"]) == 1
    others = await admin(clocked, "GET", "/grants", params={"userId": "someone-else"})
    assert others.json() == {"grants": []}


@pytest.mark.parametrize(
    "params", [{"state": "lost"}, {"state": ""}, {"state": "granted,nope"}, {"limit": 0}, {"limit": 1001}]
)
async def test_bad_grant_listings_are_400(clocked: RunningService, params: dict[str, Any]) -> None:
    assert_error(await admin(clocked, "GET", "/grants", params=params), 400, 3, "INVALID_INPUT")


async def test_resolving_a_grant_in_doubt_claims_the_goal(clocked: RunningService) -> None:
    await put_row(clocked.settings.database_url, "first-login", "onboarding")
    grant_id = await put_in_doubt_grant(clocked)

    response = await admin(clocked, "POST", f"/grants/{grant_id}/resolve", json={"as": "granted"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["grant"]["grantId"], body["grant"]["state"], body["goalMarkedClaimed"]) == (
        grant_id,
        "granted",
        True,
    )
    assert (await player_goal(clocked, "onboarding", "first-login"))["status"] == "claimed"
    again = await admin(clocked, "POST", f"/grants/{grant_id}/resolve", json={"as": "failed"})
    body = assert_error(again, 409, 9, "GRANT_ALREADY_RESOLVED")
    assert body["message"] == "grant is already granted; only pending or in_doubt grants are resolved"


@pytest.mark.parametrize(
    ("grant_id", "body", "status", "error_code"),
    [
        ("f" * 32, {"as": "granted"}, 404, "GRANT_NOT_FOUND"),
        ("not-a-grant-id", {"as": "granted"}, 400, "INVALID_INPUT"),
        (None, {"as": "maybe"}, 400, "INVALID_INPUT"),
        (None, {}, 400, "INVALID_INPUT"),
    ],
)
async def test_bad_resolutions_are_refused(
    clocked: RunningService, grant_id: str | None, body: dict[str, Any], status: int, error_code: str
) -> None:
    real = await put_in_doubt_grant(clocked)
    response = await admin(clocked, "POST", f"/grants/{grant_id or real}/resolve", json=body)
    assert response.status_code == status, response.text
    assert response.json()["errorCode"] == error_code
    [(state,)] = await fetch(clocked.settings.database_url, "SELECT state FROM reward_grants")
    assert state == "in_doubt"


# -- the audit trail ------------------------------------------------------------------------------------


async def test_every_write_is_audited_newest_first(clocked: RunningService) -> None:
    url = clocked.settings.database_url
    await put_row(url, "first-login", "onboarding")
    grant_id = await put_in_doubt_grant(clocked)
    assert (await set_progress(clocked, "first-100-kills", {"progress": 7})).status_code == 200
    assert (await admin(clocked, "POST", f"/users/{USER}/goals/first-100-kills/reset")).status_code == 200
    assert (
        await admin(clocked, "POST", f"/grants/{grant_id}/resolve", json={"as": "failed"})
    ).status_code == 200
    assert (
        await set_progress(clocked, "first-100-kills", {"progress": 1}, user_id="other")
    ).status_code == 200

    entries = (await admin(clocked, "GET", "/audit", params={"userId": USER})).json()["entries"]

    assert [(e["action"], e["goalId"], e["actor"], e["request"]) for e in entries] == [
        ("resolve_grant", "first-login", f"mock:{OPERATOR}", {"as": "failed"}),
        ("reset_goal", "first-100-kills", f"mock:{OPERATOR}", {}),
        ("set_progress", "first-100-kills", f"mock:{OPERATOR}", {"progress": 7}),
    ]
    resolve, reset, first = entries
    assert (resolve["grantId"], resolve["before"]["state"], resolve["after"]["state"]) == (
        grant_id,
        "in_doubt",
        "failed",
    )
    assert (reset["before"]["progress"], reset["after"]["progress"]) == (7, 0)
    assert (first["before"], first["after"]["status"]) == (None, "in_progress")
    assert all(e["userId"] == USER and e["at"].endswith("Z") for e in entries)
    assert len((await admin(clocked, "GET", "/audit")).json()["entries"]) == 4


async def test_the_audit_trail_pages_backwards(clocked: RunningService) -> None:
    for value in range(5):
        assert (await set_progress(clocked, "first-100-kills", {"progress": value})).status_code == 200

    seen: list[int] = []
    before: int | None = None
    while True:
        params = {"limit": 2, **({"before": before} if before else {})}
        page = (await admin(clocked, "GET", "/audit", params=params)).json()
        seen += [entry["request"]["progress"] for entry in page["entries"]]
        before = page["nextBefore"]
        if not before:
            break
    assert seen == [4, 3, 2, 1, 0]


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 501}, {"before": 0}, {"before": -1}, {"before": 2**63}, {"before": "x"}],
)
async def test_bad_audit_pages_are_400(clocked: RunningService, params: dict[str, Any]) -> None:
    assert_error(await admin(clocked, "GET", "/audit", params=params), 400, 3, "INVALID_INPUT")

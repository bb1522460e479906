"""`DELETE /v1/users/me/data` (GDPR): the caller's progress and ledger rows go, nobody else's."""

from __future__ import annotations

import psycopg

from tests.helpers.service import RunningService, operator

ME, OTHER = "gdpr-user", "other-user"


async def counts(database_url: str, user_id: str) -> tuple[int, int]:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        goals = await (
            await conn.execute("SELECT count(*) FROM user_goal_progress WHERE user_id = %s", (user_id,))
        ).fetchone()
        grants = await (
            await conn.execute("SELECT count(*) FROM reward_grants WHERE user_id = %s", (user_id,))
        ).fetchone()
    assert goals is not None and grants is not None
    return goals[0], grants[0]


async def add_grant(database_url: str, user_id: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(
            """INSERT INTO reward_grants (user_id, goal_id, period, reward_type, reward_id, quantity, state)
               VALUES (%s, 'first-login', '', 'WALLET', 'GOLD', 100, 'granted')""",
            (user_id,),
        )


async def test_delete_removes_only_the_callers_data(running: RunningService) -> None:
    url = running.settings.database_url
    for user in (ME, OTHER):
        response = await running.http.post(
            f"{running.base}/v1/challenges/initialize", headers={"X-Mock-User-Id": user}
        )
        assert response.status_code == 200
        await add_grant(url, user)
    my_goals, _ = await counts(url, ME)
    assert my_goals > 0
    before_other = await counts(url, OTHER)

    response = await running.http.delete(f"{running.base}/v1/users/me/data", headers={"X-Mock-User-Id": ME})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "userId": ME,
        "deletedGoals": my_goals,
        "deletedGrants": 1,
        "anonymisedAuditEntries": 0,
    }
    assert await counts(url, ME) == (0, 0)
    assert await counts(url, OTHER) == before_other


async def test_delete_twice_answers_zero_counts(running: RunningService) -> None:
    response = await running.http.delete(f"{running.base}/v1/users/me/data", headers={"X-Mock-User-Id": ME})
    assert response.status_code == 200
    assert response.json() == {
        "userId": ME,
        "deletedGoals": 0,
        "deletedGrants": 0,
        "anonymisedAuditEntries": 0,
    }


async def test_the_player_gets_everything_stored_about_them(running: RunningService) -> None:
    url = running.settings.database_url
    me = {"X-Mock-User-Id": ME}
    for user in (ME, OTHER):
        headers = {"X-Mock-User-Id": user}
        assert (
            await running.http.post(f"{running.base}/v1/challenges/initialize", headers=headers)
        ).status_code == 200
        await add_grant(url, user)
    admin = operator("ops")
    changed = await running.http.put(
        f"{running.base}/v1/admin/users/{ME}/goals/first-100-kills/progress",
        headers=admin,
        json={"progress": 9},
    )
    assert changed.status_code == 200

    response = await running.http.get(f"{running.base}/v1/users/me/data", headers=me)

    assert response.status_code == 200
    data = response.json()
    goals, _ = await counts(url, ME)
    assert data["userId"] == ME
    assert len(data["progress"]) == goals and "first-100-kills" in {row["goalId"] for row in data["progress"]}
    assert all(row["createdAt"].endswith("Z") and row["updatedAt"].endswith("Z") for row in data["progress"])
    assert [(g["goalId"], g["state"], g["userId"]) for g in data["grants"]] == [
        ("first-login", "granted", ME)
    ]
    [change] = data["audit"]
    assert (change["action"], change["goalId"], change["request"], change["after"]["progress"]) == (
        "set_progress",
        "first-100-kills",
        {"progress": 9},
        9,
    )
    assert change["actor"] == ""  # the operator's id is not the player's data


async def test_a_player_never_seen_gets_empty_data(running: RunningService) -> None:
    response = await running.http.get(f"{running.base}/v1/users/me/data", headers={"X-Mock-User-Id": "new"})
    assert response.status_code == 200
    assert response.json() == {"userId": "new", "progress": [], "grants": [], "audit": []}


async def test_erasure_anonymises_the_audit_rows_about_the_player(running: RunningService) -> None:
    admin = operator("ops")
    for user in (ME, OTHER):
        path = f"{running.base}/v1/admin/users/{user}/goals/first-100-kills/progress"
        assert (await running.http.put(path, headers=admin, json={"progress": 2})).status_code == 200

    response = await running.http.delete(f"{running.base}/v1/users/me/data", headers={"X-Mock-User-Id": ME})

    assert response.json()["anonymisedAuditEntries"] == 1
    audit = (await running.http.get(f"{running.base}/v1/admin/audit", headers=admin)).json()["entries"]
    kept = sorted((e["userId"], e["actor"], e["before"] is None, e["after"] is None) for e in audit)
    # What the operator did stays; whom it was about, and the rows, go.
    assert kept == [("", "mock:ops", True, True), (OTHER, "mock:ops", True, False)]

"""`DELETE /v1/users/me/data` (GDPR): the caller's progress and ledger rows go, nobody else's."""

from __future__ import annotations

import psycopg

from tests.helpers.service import RunningService

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
    assert response.json() == {"userId": ME, "deletedGoals": my_goals, "deletedGrants": 1}
    assert await counts(url, ME) == (0, 0)
    assert await counts(url, OTHER) == before_other


async def test_delete_twice_answers_zero_counts(running: RunningService) -> None:
    response = await running.http.delete(f"{running.base}/v1/users/me/data", headers={"X-Mock-User-Id": ME})
    assert response.status_code == 200
    assert response.json() == {"userId": ME, "deletedGoals": 0, "deletedGrants": 0}

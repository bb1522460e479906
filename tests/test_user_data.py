"""Erasing one player's data (`user_data.py`): their progress and ledger rows go, nobody else's."""

from __future__ import annotations

import psycopg

from challenge_service.store.database import create_pool
from challenge_service.user_data import Erased, erase


async def test_erase_removes_only_that_players_rows(database_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        for user, goals in (("gone", ("daily-login", "first-login")), ("stays", ("first-login",))):
            for goal in goals:
                await conn.execute(
                    "INSERT INTO user_goal_progress (user_id, goal_id, challenge_id) VALUES (%s, %s, 'c')",
                    (user, goal),
                )
            await conn.execute(
                """INSERT INTO reward_grants
                          (user_id, goal_id, period, reward_type, reward_id, quantity, state)
                   VALUES (%s, 'first-login', '', 'WALLET', 'GOLD', 100, 'granted')""",
                (user,),
            )
        pool = create_pool(database_url, max_size=1)
        await pool.open(wait=True)
        try:
            assert await erase(pool, "gone") == Erased(goals=2, grants=1, audit_entries=0)
            assert await erase(pool, "gone") == Erased(goals=0, grants=0, audit_entries=0)
        finally:
            await pool.close()
        progress = await (await conn.execute("SELECT user_id, goal_id FROM user_goal_progress")).fetchall()
        grants = await (await conn.execute("SELECT user_id FROM reward_grants")).fetchall()
    assert progress == [("stays", "first-login")]
    assert grants == [("stays",)]

"""The real command (`challenge-service serve`) as a subprocess, and the rows of one goal that the
tests which kill it seed and count."""

from __future__ import annotations

import subprocess
from collections import Counter

import psycopg

from tests.conftest import free_port
from tests.test_lifecycle import COMMAND, _wait_healthy


async def start_serving(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start the command on fresh ports (written into `env`) and wait until it is healthy."""
    env.update(HTTP_PORT=str(free_port()), GRPC_PORT=str(free_port()))
    process = subprocess.Popen([*COMMAND, "serve"], env=env, stderr=subprocess.DEVNULL)  # noqa: ASYNC220
    try:
        await _wait_healthy(f"http://127.0.0.1:{env['HTTP_PORT']}/challenge/healthz", process)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process


async def seed_goal(database_url: str, users: list[str], goal: str, challenge: str = "onboarding") -> None:
    """An active, in-progress row of `goal` for each of `users`."""
    async with (
        await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn,
        conn.cursor() as cursor,
    ):
        await cursor.executemany(
            "INSERT INTO user_goal_progress (user_id, goal_id, challenge_id, status, is_active, assigned_at)"
            " VALUES (%s, %s, %s, 'in_progress', true, now())",
            [(user, goal, challenge) for user in users],
        )


async def progress_of(database_url: str, goal: str) -> Counter[str]:
    """Raw progress of `goal` per user."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT user_id, progress FROM user_goal_progress WHERE goal_id = %s", (goal,)
        )
        return Counter(dict(await cursor.fetchall()))

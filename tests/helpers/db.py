"""Rows put in and read back with plain SQL, so a test depends only on the path it exercises."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from challenge_service.rules.progress import Progress

_COLUMNS = (
    "user_id",
    "goal_id",
    "challenge_id",
    "progress",
    "baseline",
    "status",
    "is_active",
    "assigned_at",
    "completed_at",
    "claimed_at",
    "expires_at",
)
# A second seed of the same (user, goal) replaces the row, as a test that rewrites a row means.
_UPSERT = (
    f"INSERT INTO user_goal_progress ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
    " ON CONFLICT (user_id, goal_id) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in _COLUMNS[2:])
)


def with_dbname(conninfo: str, dbname: str) -> str:
    return make_conninfo(conninfo, dbname=dbname)


async def seed(database_url: str, user_id: str, goal_id: str, **columns: Any) -> None:
    """One progress row as initialize, set-active or the event path would have left it."""
    await seed_many(database_url, [(user_id, goal_id)], **columns)


async def seed_many(
    database_url: str,
    keys: Iterable[tuple[str, str]],
    *,
    challenge_id: str = "c",
    progress: int = 0,
    baseline: int | None = None,
    status: str = "not_started",
    is_active: bool = True,
    assigned_at: datetime | None = None,
    completed_at: datetime | None = None,
    claimed_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> None:
    """The same row for every (user, goal) in `keys`, in one round trip."""
    values = (challenge_id, progress, baseline, status, is_active, assigned_at, completed_at, claimed_at)
    async with (
        await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn,
        conn.cursor() as cursor,
    ):
        await cursor.executemany(_UPSERT, [(user, goal, *values, expires_at) for user, goal in keys])


async def row(database_url: str, user_id: str, goal_id: str) -> Progress | None:
    """One progress row as the rules see it, or None when there is none."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cursor = await conn.execute(
            """SELECT progress, baseline, status, is_active, assigned_at, completed_at, claimed_at, expires_at
               FROM user_goal_progress WHERE user_id = %s AND goal_id = %s""",
            (user_id, goal_id),
        )
        record = await cursor.fetchone()
    return None if record is None else Progress(*record)


async def progress(database_url: str, user_id: str, goal_id: str) -> int | None:
    """The stored progress of one row, or None when there is none."""
    stored = await row(database_url, user_id, goal_id)
    return None if stored is None else stored.progress


async def db_rows(database_url: str, user_id: str) -> dict[str, dict[str, Any]]:
    """The player's rows exactly as stored, by goal id."""
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cursor = conn.cursor(row_factory=dict_row)
        await cursor.execute(
            "SELECT goal_id, challenge_id, progress, baseline, status, is_active, assigned_at, completed_at,"
            " claimed_at, expires_at FROM user_goal_progress WHERE user_id = %s ORDER BY goal_id",
            (user_id,),
        )
        return {record["goal_id"]: record for record in await cursor.fetchall()}


async def db_execute(database_url: str, sql: str, params: tuple[Any, ...] = ()) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(sql, params)


async def fetch(database_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cursor = await conn.execute(sql, params)
        return await cursor.fetchall()


async def progress_of(database_url: str, goal_id: str) -> Counter[str]:
    """Raw progress of one goal per user."""
    rows = await fetch(
        database_url, "SELECT user_id, progress FROM user_goal_progress WHERE goal_id = %s", goal_id
    )
    return Counter(dict(rows))

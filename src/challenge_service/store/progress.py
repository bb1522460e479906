"""Reads and writes of `user_goal_progress` made by the REST API."""

from __future__ import annotations

from typing import Any

import psycopg

from challenge_service.rules.progress import Progress

_COLUMNS = "goal_id, progress, baseline, status, is_active, assigned_at, completed_at, claimed_at, expires_at"


def _row(record: tuple[Any, ...]) -> tuple[str, Progress]:
    goal_id, *values = record
    return goal_id, Progress(*values)


async def user_rows(conn: psycopg.AsyncConnection[Any], user_id: str) -> dict[str, Progress]:
    """Every row of one player: one index range scan on the primary key."""
    cursor = await conn.execute(
        f"SELECT {_COLUMNS} FROM user_goal_progress WHERE user_id = %s", (user_id,), prepare=True
    )
    return dict(_row(record) for record in await cursor.fetchall())


# Shared with the write path (`store/assignments.py`), which reads the same columns under row locks.
COLUMNS = _COLUMNS
row_from_record = _row

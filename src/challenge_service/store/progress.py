"""Reads and writes of `user_goal_progress` made by the REST API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from challenge_service.rules.progress import Progress

# In `Progress` field order, after the goal id.
_COLUMNS = (
    "goal_id, progress, baseline, status, is_active, assigned_at, completed_at, claimed_at, expires_at, "
    "auto_claim_at"
)


def _row(record: tuple[Any, ...]) -> tuple[str, Progress]:
    goal_id, *values = record
    return goal_id, Progress(*values)


async def user_rows(conn: psycopg.AsyncConnection[Any], user_id: str) -> dict[str, Progress]:
    """Every row of one player: one index range scan on the primary key."""
    cursor = await conn.execute(
        f"SELECT {_COLUMNS} FROM user_goal_progress WHERE user_id = %s", (user_id,), prepare=True
    )
    return dict(_row(record) for record in await cursor.fetchall())


@dataclass(frozen=True, slots=True)
class StoredRow:
    """A row with what only operators and data-access requests look at: its challenge and timestamps."""

    goal_id: str
    challenge_id: str
    row: Progress
    created_at: datetime
    updated_at: datetime


async def stored_rows(
    conn: psycopg.AsyncConnection[Any], user_id: str, goal_id: str | None = None, *, lock: bool = False
) -> list[StoredRow]:
    """Every row of one player (or its row of `goal_id`) with all its columns, by goal id; `lock` holds
    the rows until the transaction ends."""
    cursor = await conn.execute(
        f"""SELECT goal_id, challenge_id, {_COLUMNS.removeprefix("goal_id, ")}, created_at, updated_at
              FROM user_goal_progress
             WHERE user_id = %s AND (%s::text IS NULL OR goal_id = %s)
             ORDER BY goal_id {"FOR UPDATE" if lock else ""}""",
        (user_id, goal_id, goal_id),
    )
    return [
        StoredRow(goal_id, challenge_id, Progress(*values), created_at, updated_at)
        for goal_id, challenge_id, *values, created_at, updated_at in await cursor.fetchall()
    ]


# Shared with the write path (`store/assignments.py`), which reads the same columns under row locks.
COLUMNS = _COLUMNS
row_from_record = _row

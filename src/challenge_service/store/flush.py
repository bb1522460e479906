"""The event flush in SQL (SPEC §8): the staging table, the one COPY per flush, event-id dedup.

A flush is one statement on one pooled connection, in autocommit: a binary `COPY` of one row per
(user, goal) into `flush_staging`, a per-connection TEMPORARY table (`ON COMMIT DELETE ROWS`: no
catalog churn, no WAL for the staged rows). A statement-level trigger on that table
(`apply_flush_batch`, sql/005_flush_apply.sql) records the batch's event ids and runs the one
set-based `UPDATE user_goal_progress … FROM` the staged rows, computing the new state from each
row's *current* values so replicas writing the same rows stay correct. Statement, trigger and UPDATE
share one transaction: the COPY commits all of it or none.

The goal's parameters travel in the staging row (computed in Python from the catalog), so the SQL
needs no catalog table.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

# (user_id, goal_id, value, add, inc, target, relative, rotating, period_end, reset_progress,
#  allow_reselection) — see STAGING_DDL for what each column means.
StagingRow = tuple[str, str, int | None, int, int, int, bool, bool, datetime | None, bool, bool]

# One transaction (a multi-statement simple query is one): a connection has both or neither.
STAGING_DDL = """
CREATE TEMPORARY TABLE flush_staging (
    user_id           text        NOT NULL,
    goal_id           text        NOT NULL,
    value             bigint,              -- stat goals: the latest value; NULL for login goals
    add               bigint      NOT NULL, -- login goals: logins to add to the raw count
    inc               bigint      NOT NULL, -- the batch's increments (relative-mode baseline)
    target            bigint      NOT NULL, -- requirement.targetValue
    relative          boolean     NOT NULL, -- requirement.progressMode = relative
    rotating          boolean     NOT NULL, -- rotation.enabled
    period_end        timestamptz,          -- rotating goals: end of the period containing now
    reset_progress    boolean     NOT NULL, -- rotation.onExpiry.resetProgress
    allow_reselection boolean     NOT NULL, -- rotation.onExpiry.allowReselection
    flush_time        timestamptz NOT NULL, -- the flusher's clock: rotation check, completed_at
    event_ids         text[]                -- first row only: the ids of the batch's events
) ON COMMIT DELETE ROWS;
CREATE TRIGGER apply_batch AFTER INSERT ON flush_staging
    REFERENCING NEW TABLE AS staged
    FOR EACH STATEMENT EXECUTE FUNCTION apply_flush_batch();
"""

_STAGING_TYPES = [
    "text",
    "text",
    "int8",
    "int8",
    "int8",
    "int8",
    "bool",
    "bool",
    "timestamptz",
    "bool",
    "bool",
    "timestamptz",
    "text[]",
]

_COPY = (
    "COPY flush_staging (user_id, goal_id, value, add, inc, target, relative, rotating, period_end,"
    " reset_progress, allow_reselection, flush_time, event_ids) FROM STDIN (FORMAT BINARY)"
)

# SQLSTATE raised by apply_flush_batch when some of the batch's event ids were processed before.
REPLAYED_EVENTS = "CS001"

_RECORD_IDS = """
INSERT INTO processed_events (event_id)
SELECT unnest(%s::text[])
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""

# Connections that already have the staging table. A temporary table lives as long as its session, so
# "once per connection" is enough; a reconnect is a new connection object and creates it again.
_staged: weakref.WeakSet[psycopg.AsyncConnection[Any]] = weakref.WeakSet()


async def ensure_staging(conn: psycopg.AsyncConnection[Any]) -> None:
    if conn not in _staged:
        await conn.execute(STAGING_DDL)
        _staged.add(conn)


def replayed(error: psycopg.Error) -> bool:
    """True when `apply_batch` refused a batch because some of its events were processed before."""
    return error.sqlstate == REPLAYED_EVENTS


async def apply_batch(
    conn: psycopg.AsyncConnection[Any], rows: Sequence[StagingRow], now: datetime, event_ids: Sequence[str]
) -> None:
    """COPY `rows` (sorted by user, goal); the trigger records `event_ids` and applies the rows.
    In autocommit this is the whole flush; inside a transaction it is part of it."""
    ids: list[str] | None = list(event_ids) or None
    async with conn.cursor() as cursor, cursor.copy(_COPY) as copy:
        copy.set_types(_STAGING_TYPES)
        for row in rows:
            await copy.write_row((*row, now, ids))
            ids = None


async def record_event_ids(conn: psycopg.AsyncConnection[Any], event_ids: Sequence[str]) -> set[str]:
    """Record ids as processed; return those that were new (the events this flush may apply)."""
    cursor = await conn.execute(_RECORD_IDS, (list(event_ids),))
    return {row[0] for row in await cursor.fetchall()}

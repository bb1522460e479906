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

`create_staging_table` is the pool's `configure` callback (`store.database.create_pool`): every
connection the pool opens — REST and the flusher share them, and a reconnect opens a new one — has
the table before its first use, so a flush keeps no record of which connections have it. The
migrations must have run first: the table's trigger calls `apply_flush_batch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, NamedTuple, get_args

import psycopg


class Column(NamedTuple):
    name: str
    type: str  # the PostgreSQL type, which also names the binary COPY's encoding
    not_null: bool
    about: str = ""


# A row of `flush_staging`, one value per column in COPY order. The table's only definition: the DDL,
# the COPY statement and the binary types below are derived from it. A plain tuple, not a NamedTuple:
# a flush builds one per (user, goal), and a NamedTuple costs three times as much to build
# (bench/micro_event_path.py); nothing reads a row back in Python.
StagingRow = tuple[
    Annotated[str, Column("user_id", "text", True)],
    Annotated[str, Column("goal_id", "text", True)],
    Annotated[int | None, Column("value", "bigint", False, "stat goals: the latest value; NULL for logins")],
    Annotated[int, Column("add", "bigint", True, "login goals: logins to add to the raw count")],
    Annotated[int, Column("inc", "bigint", True, "the batch's increments (relative-mode baseline)")],
    Annotated[int, Column("target", "bigint", True, "requirement.targetValue")],
    Annotated[bool, Column("relative", "boolean", True, "requirement.progressMode = relative")],
    Annotated[bool, Column("rotating", "boolean", True, "rotation.enabled")],
    Annotated[
        datetime | None,
        Column("period_end", "timestamptz", False, "rotating goals: end of the current period"),
    ],
    Annotated[bool, Column("reset_progress", "boolean", True, "rotation.onExpiry.resetProgress")],
    Annotated[bool, Column("allow_reselection", "boolean", True, "rotation.onExpiry.allowReselection")],
    Annotated[
        datetime, Column("flush_time", "timestamptz", True, "the flusher's clock: rotation, completed_at")
    ],
    Annotated[
        list[str] | None, Column("event_ids", "text[]", False, "first row only: the batch's event ids")
    ],
]


# The goal's part of a staging row, `target` … `allow_reselection`, the same for all rows of a goal;
# mypy checks it against `StagingRow` where the flusher splices it into a row. A plain tuple too:
# splicing a NamedTuple goes through its iterator: 4 % more instructions per event, measured.
GoalColumns = tuple[int, bool, bool, datetime | None, bool, bool]

COLUMNS: tuple[Column, ...] = tuple(get_args(annotated)[1] for annotated in get_args(StagingRow))


def _columns_ddl() -> str:
    lines = []
    for number, column in enumerate(COLUMNS, start=1):
        constraint = " NOT NULL" if column.not_null else ""
        comma = "," if number < len(COLUMNS) else ""
        about = f" -- {column.about}" if column.about else ""
        lines.append(f"    {column.name} {column.type}{constraint}{comma}{about}")
    return "\n".join(lines)


# One transaction (a multi-statement simple query is one): a connection has both or neither.
STAGING_DDL = f"""
CREATE TEMPORARY TABLE flush_staging (
{_columns_ddl()}
) ON COMMIT DELETE ROWS;
CREATE TRIGGER apply_batch AFTER INSERT ON flush_staging
    REFERENCING NEW TABLE AS staged
    FOR EACH STATEMENT EXECUTE FUNCTION apply_flush_batch();
"""

_STAGING_TYPES = [column.type for column in COLUMNS]
_COPY = f"COPY flush_staging ({', '.join(c.name for c in COLUMNS)}) FROM STDIN (FORMAT BINARY)"

# SQLSTATE raised by apply_flush_batch when some of the batch's event ids were processed before.
REPLAYED_EVENTS = "CS001"

_RECORD_IDS = """
INSERT INTO processed_events (event_id)
SELECT unnest(%s::text[])
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""


async def create_staging_table(conn: psycopg.AsyncConnection[Any]) -> None:
    """Give a new connection its `flush_staging`: a temporary table lives as long as its session."""
    await conn.execute(STAGING_DDL)
    if not conn.autocommit:
        await conn.commit()  # the pool takes a configured connection only when it is idle


def replayed(error: psycopg.Error) -> bool:
    """True when `apply_batch` refused a batch because some of its events were processed before."""
    return error.sqlstate == REPLAYED_EVENTS


async def apply_batch(conn: psycopg.AsyncConnection[Any], rows: Sequence[StagingRow]) -> None:
    """COPY `rows` (sorted by user, goal); the trigger records the first row's `event_ids` and
    applies the rows. In autocommit this is the whole flush; inside a transaction it is part of it."""
    async with conn.cursor() as cursor, cursor.copy(_COPY) as copy:
        copy.set_types(_STAGING_TYPES)
        for row in rows:
            await copy.write_row(row)


async def record_event_ids(conn: psycopg.AsyncConnection[Any], event_ids: Sequence[str]) -> set[str]:
    """Record ids as processed; return those that were new (the events this flush may apply)."""
    cursor = await conn.execute(_RECORD_IDS, (list(event_ids),))
    return {row[0] for row in await cursor.fetchall()}

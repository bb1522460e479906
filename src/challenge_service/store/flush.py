"""The event flush in SQL: the staging table, the one COPY per flush, event-id dedup.

A flush is one statement on one pooled connection, in autocommit: a binary `COPY` of one row per
(player, key) — a stat code, or NULL for logins — into `flush_staging`, a per-connection TEMPORARY
table (`ON COMMIT DELETE ROWS`: no catalog churn, no WAL for the staged rows). A statement-level
trigger on that table (`apply_flush_by_key`, sql/020_flush_by_key.sql) records the batch's event ids
and runs the one set-based `UPDATE user_goal_progress … FROM` the staged rows, fanning each row out to
every goal of its key and computing the new state from each progress row's *current* values, so
replicas writing the same rows stay correct. Statement, trigger and UPDATE share one transaction: the
COPY commits all of it or none. A batch whose goals use per-user periods, deactivation on expiry or
auto-claim goes to `flush_staging_extended` instead, the same table with the extended statement's
trigger (`apply_flush_extended`, sql/021_challenge_design.sql), which costs more per row.

The batch's header rides on its first row: the event ids, the flush time, and the parameters of the
goals of the batch's keys (computed in Python from the catalog, as a JSON array the flusher caches per
key), so the SQL needs no catalog table and a catalog reload applies from the next flush.

`create_staging_table` is the pool's `configure` callback (`store.database.create_pool`): every
connection the pool opens — REST and the flusher share them, and a reconnect opens a new one — has
the table before its first use, so a flush keeps no record of which connections have it. The
migrations must have run first: the tables' triggers call their functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, NamedTuple, get_args

import msgspec
import psycopg


class Column(NamedTuple):
    name: str
    type: str  # the PostgreSQL type, which also names the binary COPY's encoding
    not_null: bool
    about: str = ""


# A row of `flush_staging`, one value per column in COPY order. The table's only definition: the DDL,
# the COPY statement and the binary types below are derived from it. A plain tuple, not a NamedTuple:
# a flush builds one per (player, key), and a NamedTuple costs three times as much to build
# (bench/micro_event_path.py); nothing reads a row back in Python.
StagingRow = tuple[
    Annotated[str, Column("user_id", "text", True)],
    Annotated[str | None, Column("stat_code", "text", False, "the key: a stat code; NULL for logins")],
    Annotated[int | None, Column("value", "bigint", False, "stat goals: the latest value; NULL for logins")],
    Annotated[int, Column("add", "bigint", True, "login goals: logins to add to the raw count")],
    Annotated[int, Column("inc", "bigint", True, "the batch's increments (relative-mode baseline)")],
    # The header: first row only, NULL on the others.
    Annotated[
        str | None, Column("event_ids", "text", False, "header: the batch's event ids, joined by U+001F")
    ],
    Annotated[datetime | None, Column("flush_time", "timestamptz", False, "header: the flusher's clock")],
    Annotated[
        str | None, Column("goals", "text", False, "header: the goals of the batch's keys (JSON, KeyGoals)")
    ],
]


# Between the ids in the header: a control character, which the handlers refuse in an id.
ID_SEPARATOR = "\x1f"


class KeyGoals(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    """The live goals of one key (a stat code; None for logins) in goal id order, their parameters as
    parallel lists: an object of the header's JSON array, whose fields are the record the flush SQL
    reads it into. The last three are left out (None) when no goal of the key uses them; a batch with
    any of them set goes to the extended flush (`apply_batch(…, extended=True)`)."""

    key: str | None
    goal_ids: list[str]
    targets: list[int]  # requirement.targetValue
    relative: list[bool]  # requirement.progressMode = relative
    rotating: list[bool]  # rotation.enabled
    period_ends: list[datetime | None]  # global rotation: the end of the current period
    reset_progress: list[bool]  # rotation.onExpiry.resetProgress
    allow_reselection: list[bool]  # rotation.onExpiry.allowReselection
    durations: list[int | None] | None = None  # per-user rotation: a period in seconds
    deactivate: list[bool] | None = None  # rotation.onExpiry.deactivate, with its default
    auto_claim: list[bool] | None = None  # autoClaim

    @property
    def extended(self) -> bool:
        """True when only the extended flush statement applies these goals."""
        return self.durations is not None or self.deactivate is not None or self.auto_claim is not None


def goals_header(keys: Sequence[bytes]) -> str:
    """The header's JSON array from the keys' objects, each encoded once (`encode_key`)."""
    return (b"[" + b",".join(keys) + b"]").decode()


def encode_key(goals: KeyGoals) -> bytes:
    return msgspec.json.encode(goals)


def with_header(row: StagingRow, event_ids: Sequence[str], flush_time: datetime, goals: str) -> StagingRow:
    """`row` (the batch's first) carrying the header: the event ids, the flush time and the goals of
    the batch's keys (`goals_header`)."""
    return (row[0], row[1], row[2], row[3], row[4], ID_SEPARATOR.join(event_ids) or None, flush_time, goals)


COLUMNS: tuple[Column, ...] = tuple(get_args(annotated)[1] for annotated in get_args(StagingRow))


def _columns_ddl() -> str:
    lines = []
    for number, column in enumerate(COLUMNS, start=1):
        constraint = " NOT NULL" if column.not_null else ""
        comma = "," if number < len(COLUMNS) else ""
        about = f" -- {column.about}" if column.about else ""
        lines.append(f"    {column.name} {column.type}{constraint}{comma}{about}")
    return "\n".join(lines)


# One transaction (a multi-statement simple query is one): a connection has all or none of it.
STAGING_DDL = f"""
CREATE TEMPORARY TABLE flush_staging (
{_columns_ddl()}
) ON COMMIT DELETE ROWS;
CREATE TRIGGER apply_batch AFTER INSERT ON flush_staging
    REFERENCING NEW TABLE AS staged
    FOR EACH STATEMENT EXECUTE FUNCTION apply_flush_by_key();
CREATE TEMPORARY TABLE flush_staging_extended (LIKE flush_staging) ON COMMIT DELETE ROWS;
CREATE TRIGGER apply_batch AFTER INSERT ON flush_staging_extended
    REFERENCING NEW TABLE AS staged
    FOR EACH STATEMENT EXECUTE FUNCTION apply_flush_extended();
"""

_STAGING_TYPES = [column.type for column in COLUMNS]
_COPY = "COPY {table} (" + ", ".join(c.name for c in COLUMNS) + ") FROM STDIN (FORMAT BINARY)"
_COPY_PLAIN = _COPY.format(table="flush_staging")
_COPY_EXTENDED = _COPY.format(table="flush_staging_extended")

# SQLSTATE raised by both flush functions when some of the batch's event ids were processed before.
REPLAYED_EVENTS = "CS001"

_RECORD_IDS = """
INSERT INTO processed_events (event_id)
SELECT unnest(%s::text[])
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""


async def create_staging_table(conn: psycopg.AsyncConnection[Any]) -> None:
    """Give a new connection its staging tables: a temporary table lives as long as its session."""
    await conn.execute(STAGING_DDL)
    if not conn.autocommit:
        await conn.commit()  # the pool takes a configured connection only when it is idle


def replayed(error: psycopg.Error) -> bool:
    """True when `apply_batch` refused a batch because some of its events were processed before."""
    return error.sqlstate == REPLAYED_EVENTS


async def apply_batch(
    conn: psycopg.AsyncConnection[Any], rows: Sequence[StagingRow], *, extended: bool = False
) -> None:
    """COPY `rows` (the first carries the header); the trigger records the header's event ids and
    applies the rows — with the extended statement when some goal of the header is `KeyGoals.extended`.
    In autocommit this is the whole flush; inside a transaction it is part of it."""
    async with conn.cursor() as cursor, cursor.copy(_COPY_EXTENDED if extended else _COPY_PLAIN) as copy:
        copy.set_types(_STAGING_TYPES)
        for row in rows:
            await copy.write_row(row)


async def record_event_ids(conn: psycopg.AsyncConnection[Any], event_ids: Sequence[str]) -> set[str]:
    """Record ids as processed; return those that were new (the events this flush may apply)."""
    cursor = await conn.execute(_RECORD_IDS, (list(event_ids),))
    return {row[0] for row in await cursor.fetchall()}

"""The Go Extend Challenge Suite's database: how to recognise it, check it and move its rows into ours.

The Go suite keeps one table, `user_goal_progress`, created by two golang-migrate migrations, which
record their state in golang-migrate's own `schema_migrations (version bigint, dirty boolean)`; a fully
migrated database holds the single row (2, false). Its table has the same name and key as ours but
naive UTC timestamps, `int` progress, `is_active` defaulting to true, a `namespace` column and an unused
`baseline_value`. The upgrade (run by store/migrations.py inside the transaction that also applies our
migrations) sets the Go rows aside, drops the Go table, lets migration 001 create ours and copies every
row into it; golang-migrate's bookkeeping table is never touched. docs/migrating-from-go-suite.md
explains each mapping to operators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

TABLE = "user_goal_progress"
# The Go suite's rows while its table is replaced by ours, within the upgrade's transaction.
SET_ASIDE = "go_suite_rows"
GOLANG_MIGRATE_VERSION = 2

# information_schema.columns.data_type of every column of the Go suite's table at version 2.
_VARCHAR, _INT, _TIMESTAMP = "character varying", "integer", "timestamp without time zone"
COLUMNS: dict[str, str] = {
    "user_id": _VARCHAR,
    "goal_id": _VARCHAR,
    "challenge_id": _VARCHAR,
    "namespace": _VARCHAR,
    "progress": _INT,
    "status": _VARCHAR,
    "completed_at": _TIMESTAMP,
    "claimed_at": _TIMESTAMP,
    "created_at": _TIMESTAMP,
    "updated_at": _TIMESTAMP,
    "is_active": "boolean",
    "assigned_at": _TIMESTAMP,
    "expires_at": _TIMESTAMP,
    "baseline_value": _INT,
}
GOLANG_MIGRATE_COLUMNS: dict[str, str] = {"version": "bigint", "dirty": "boolean"}

# Rows our rules cannot carry over, each with the reason printed for it. The Go schema allows them; our
# rules assume a displayed progress of at least 0 and a completion time on every claimed goal.
_PROBLEMS = {
    "negative progress": "progress < 0",
    "claimed without completed_at": "status = 'claimed' AND completed_at IS NULL",
}
# How many offending keys the refusal lists (the count is always complete).
SHOWN_PROBLEMS = 20

_OFFENDING = (
    "WITH bad AS ("
    + " UNION ALL ".join(
        f"SELECT {i} AS rank, user_id, goal_id FROM {TABLE} WHERE {condition}"
        for i, condition in enumerate(_PROBLEMS.values())
    )
    + f") SELECT rank, user_id, goal_id, count(*) OVER () FROM bad ORDER BY rank, user_id, goal_id"
    f" LIMIT {SHOWN_PROBLEMS}"
)

# The rows wait in a temporary table (no WAL, gone at commit) while the Go table is dropped and migration
# 001 creates ours: two tables of that name at once would also mean two sets of index and constraint
# names, and ours would get different ones than a fresh install has.
#
# Every player keeps what the Go suite showed: the Go suite displays `progress` as it is, and so do our
# rules for absolute goals and, with a baseline of 0, for relative ones; with that baseline a relative
# row also keeps moving as the Go suite moved it (the raw stat value, or the login count) until its next
# rotation reset gives it a real one. A row without progress gets no baseline, so its first event
# starts it as it would a new player's. `baseline_value` is not used: the Go suite never read it, so it
# never changed what a player saw. Naive timestamps were written in UTC.
SET_ASIDE_SQL = f"""
CREATE TEMPORARY TABLE {SET_ASIDE} ON COMMIT DROP AS
SELECT user_id, goal_id, challenge_id, progress,
       CASE WHEN progress = 0 THEN NULL ELSE 0 END AS baseline,
       status, is_active,
       assigned_at AT TIME ZONE 'UTC' AS assigned_at, completed_at AT TIME ZONE 'UTC' AS completed_at,
       claimed_at AT TIME ZONE 'UTC' AS claimed_at, expires_at AT TIME ZONE 'UTC' AS expires_at,
       created_at AT TIME ZONE 'UTC' AS created_at, updated_at AT TIME ZONE 'UTC' AS updated_at
FROM {TABLE};
DROP TABLE {TABLE};
"""

# Sorted by the primary key, every insert appends to the right edge of the new index.
COPY_SQL = f"""
INSERT INTO {TABLE} (user_id, goal_id, challenge_id, progress, baseline, status, is_active,
                     assigned_at, completed_at, claimed_at, expires_at, created_at, updated_at)
SELECT user_id, goal_id, challenge_id, progress, baseline, status, is_active,
       assigned_at, completed_at, claimed_at, expires_at, created_at, updated_at
FROM {SET_ASIDE}
ORDER BY user_id, goal_id;
ANALYZE {TABLE};
"""


@dataclass(frozen=True, slots=True)
class Offending:
    problem: str
    user_id: str
    goal_id: str


@dataclass(frozen=True, slots=True)
class Census:
    """What the upgrade would carry over, for the dry run and the log."""

    rows: int
    with_baseline_value: int


async def offending_rows(conn: psycopg.AsyncConnection[Any]) -> tuple[list[Offending], int]:
    """The first `SHOWN_PROBLEMS` rows that break our rules, by problem then key, and how many there are."""
    cursor = await conn.execute(_OFFENDING)
    records = await cursor.fetchall()
    reasons = list(_PROBLEMS)
    shown = [Offending(reasons[rank], user_id, goal_id) for rank, user_id, goal_id, _ in records]
    return shown, records[0][3] if records else 0


def refusal(shown: list[Offending], total: int) -> str:
    """One line naming the offending rows, grouped by problem, and what to do about them."""
    groups: dict[str, list[str]] = {}
    for row in shown:
        groups.setdefault(row.problem, []).append(f"({row.user_id}, {row.goal_id})")
    listed = "; ".join(f"{problem}: {', '.join(keys)}" for problem, keys in groups.items())
    first = f" (the first {len(shown)})" if total > len(shown) else ""
    return (
        f"the Go suite's {TABLE} has {total} row(s) this service cannot carry over{first} — {listed}; "
        "correct or delete them in the Go database (user_id, goal_id) and start again. Nothing was changed"
    )


async def census(conn: psycopg.AsyncConnection[Any]) -> Census:
    cursor = await conn.execute(f"SELECT count(*), count(baseline_value) FROM {TABLE}")
    record = await cursor.fetchone()
    assert record is not None
    return Census(rows=record[0], with_baseline_value=record[1])


def unrecognised(golang_migrate: list[tuple[int, bool]], columns: dict[str, str] | None) -> str:
    """Why golang-migrate's rows and the progress table's columns are not a migrated Go suite database,
    in one line with what to do; empty when they are."""
    restore = "restore the backup taken before the upgrade or repair the Go database, then start again"
    if len(golang_migrate) != 1:
        return (
            f"golang-migrate's schema_migrations holds {len(golang_migrate)} rows, not the one row "
            f"({GOLANG_MIGRATE_VERSION}, false) of a migrated Go suite database; {restore}"
        )
    ((version, dirty),) = golang_migrate
    if dirty:
        return (
            f"golang-migrate's schema_migrations says version {version} is dirty (a Go suite migration "
            "stopped halfway); finish or undo it with the Go suite's migrate tool (migrate force), "
            "then start again"
        )
    if version != GOLANG_MIGRATE_VERSION:
        return (
            f"the Go suite's database is at golang-migrate version {version}; this service upgrades "
            f"version {GOLANG_MIGRATE_VERSION} only: run the Go suite's own migrations to "
            f"version {GOLANG_MIGRATE_VERSION} first"
        )
    if columns is None:
        return f"golang-migrate's schema_migrations says version {version} but {TABLE} is missing; {restore}"
    mismatch = column_mismatch(columns)
    if mismatch:
        return (
            f"{TABLE} is not the Go suite's version-{version} table ({mismatch}): a half-applied "
            f"upgrade or a hand-made change; {restore}"
        )
    return ""


def column_mismatch(found: dict[str, str]) -> str:
    """How `found` (column → data type) differs from the Go suite's table; empty when it does not."""
    missing = sorted(set(COLUMNS) - set(found))
    unexpected = sorted(set(found) - set(COLUMNS))
    changed = sorted(name for name in set(COLUMNS) & set(found) if found[name] != COLUMNS[name])
    parts = [
        f"{label} {', '.join(names)}"
        for label, names in (("missing", missing), ("unexpected", unexpected), ("changed type of", changed))
        if names
    ]
    return "; ".join(parts)

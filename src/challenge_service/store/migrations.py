"""Ordered SQL migrations from `sql/`, applied at start-up and recorded in `challenge_schema_migrations`.

Files are named `NNN_description.sql` and applied in numeric order, each in its own transaction. An
advisory lock serialises replicas starting at the same time; a recorded checksum catches a migration
edited after it was applied, which would otherwise leave databases silently different.

Before anything is applied the runner recognises what it is looking at, and refuses what it does not
recognise with one line (a `MigrationError`) before changing anything:

- an empty database: our migrations, from 001;
- ours: `challenge_schema_migrations` says what is applied. Earlier versions of this service kept the
  same records in a table called `schema_migrations`; it is renamed, since that name belongs to
  golang-migrate;
- the Go Extend Challenge Suite's: golang-migrate's `schema_migrations` at (2, false) and the Go suite's
  `user_goal_progress`. It is upgraded in ONE transaction together with all our migrations (see
  store/go_suite.py), so a failure at any step leaves the Go database exactly as it was.

`plan` inspects and decides without changing anything; `migrate --dry-run` prints its steps.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import psycopg
import structlog

from challenge_service.store import go_suite

log = structlog.get_logger(__name__)

_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
# Any constant works; it only has to be the same in every replica.
_LOCK_ID = 0x6368616C  # "chal"
BOOKKEEPING = "challenge_schema_migrations"
# What earlier versions of this service called BOOKKEEPING, and the name golang-migrate uses.
LEGACY_BOOKKEEPING = "schema_migrations"
_BOOKKEEPING_COLUMNS = {"version", "name", "checksum", "applied_at"}
# The Go suite's table is replaced by the one this migration creates.
_CREATES_PROGRESS_TABLE = 1
# A Go service still writing to its table would make the upgrade wait for its locks indefinitely.
LOCK_TIMEOUT_S = 10.0

Conn = psycopg.AsyncConnection[Any]


class MigrationError(RuntimeError):
    """The database cannot be migrated as it is; the message is one line saying what and what to do."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations_dir() -> Path:
    """`sql/` of the source tree, or the copy baked into an installed wheel."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "sql", package.parents[1] / "sql"):
        if candidate.is_dir():
            return candidate
    raise MigrationError(f"no sql/ directory found near {package}")


def discover(directory: Path) -> list[Migration]:
    migrations = []
    for path in sorted(directory.iterdir()):
        match = _NAME.match(path.name)
        if match is None:
            if path.suffix == ".sql":
                raise MigrationError(f"{path.name}: migration files are named NNN_description.sql")
            continue
        migrations.append(Migration(int(match.group(1)), path.name, path.read_text()))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration numbers in {directory}")
    return migrations


# -- what the database holds ---------------------------------------------------------------------------

Kind = Literal["empty", "ours", "ours-legacy-name", "go-suite"]


@dataclass(frozen=True, slots=True)
class Found:
    """The tables the runner decides by: column name → data type, per table present."""

    tables: dict[str, dict[str, str]]
    # golang-migrate's rows, when `schema_migrations` is golang-migrate's table.
    golang_migrate: list[tuple[int, bool]] = field(default_factory=list)


async def _inspect(conn: Conn) -> Found:
    cursor = await conn.execute(
        """SELECT table_name, column_name, data_type FROM information_schema.columns
           WHERE table_schema = current_schema() AND table_name = ANY(%s)""",
        ([BOOKKEEPING, LEGACY_BOOKKEEPING, go_suite.TABLE],),
    )
    tables: dict[str, dict[str, str]] = {}
    for table, column, data_type in await cursor.fetchall():
        tables.setdefault(table, {})[column] = data_type
    rows: list[tuple[int, bool]] = []
    if tables.get(LEGACY_BOOKKEEPING) == go_suite.GOLANG_MIGRATE_COLUMNS:
        cursor = await conn.execute(f"SELECT version, dirty FROM {LEGACY_BOOKKEEPING} ORDER BY version")
        rows = [(version, dirty) for version, dirty in await cursor.fetchall()]
    return Found(tables, rows)


def recognise(found: Found) -> Kind:
    """Which database this is, or a `MigrationError` saying what was found and what to do."""
    tables = found.tables
    legacy = tables.get(LEGACY_BOOKKEEPING)
    if BOOKKEEPING in tables:
        if legacy is not None and set(legacy) == _BOOKKEEPING_COLUMNS:
            raise MigrationError(
                f"both {BOOKKEEPING} and {LEGACY_BOOKKEEPING} hold this service's migration records; "
                f"keep the one that matches the schema and drop the other"
            )
        return "ours"
    if legacy is not None and set(legacy) == _BOOKKEEPING_COLUMNS:
        return "ours-legacy-name"
    if legacy == go_suite.GOLANG_MIGRATE_COLUMNS:
        problem = go_suite.unrecognised(found.golang_migrate, tables.get(go_suite.TABLE))
        if problem:
            raise MigrationError(problem)
        return "go-suite"
    if legacy is not None:
        raise MigrationError(
            f"a table {LEGACY_BOOKKEEPING} with columns ({', '.join(sorted(legacy))}) that neither this "
            "service nor golang-migrate wrote; point the service at its own database"
        )
    if go_suite.TABLE in tables:
        raise MigrationError(
            f"{go_suite.TABLE} exists but no record of how it was made ({BOOKKEEPING}, or golang-migrate's "
            f"{LEGACY_BOOKKEEPING}); restore the records or the backup, or point the service at another "
            "database"
        )
    return "empty"


# -- what would change -----------------------------------------------------------------------------------

Execute = Callable[[Conn], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Step:
    would: str  # for the dry run: "apply 002_reward_grants.sql"
    done: str  # for the log and the command's output: "applied 002_reward_grants.sql"
    run: Execute
    details: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    found: str  # what the database is, in words
    steps: list[Step]
    # Everything in one transaction (the Go upgrade), or one transaction per step.
    atomic: bool = False
    # The migrations this plan applies, by file name.
    applying: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        """What `migrate --dry-run` prints."""
        if not self.steps:
            return [f"found {self.found}; the schema is up to date"]
        lines = [f"found {self.found}", "would, in one transaction:" if self.atomic else "would:"]
        for step in self.steps:
            lines.append(f"  {step.would}")
            lines.extend(f"    {detail}" for detail in step.details)
        return lines


async def plan(conn: Conn, migrations: Sequence[Migration], lock_timeout_s: float = LOCK_TIMEOUT_S) -> Plan:
    """Inspect the database and decide every step; changes nothing."""
    found = await _inspect(conn)
    kind = recognise(found)
    if kind == "ours":
        pending = _pending(migrations, await _applied(conn, BOOKKEEPING))
        return Plan("this service's database", [_apply(m) for m in pending], applying=_names(pending))
    if kind == "ours-legacy-name":
        pending = _pending(migrations, await _applied(conn, LEGACY_BOOKKEEPING))
        steps = [_rename_bookkeeping(), *(_apply(m) for m in pending)]
        return Plan("this service's database (an earlier version's)", steps, applying=_names(pending))
    if kind == "empty":
        steps = [_create_bookkeeping(), *(_apply(m) for m in migrations)]
        return Plan("an empty database", steps, applying=_names(migrations))
    return await _go_suite_plan(conn, migrations, lock_timeout_s)


def _names(migrations: Sequence[Migration]) -> list[str]:
    return [m.name for m in migrations]


async def _applied(conn: Conn, table: str) -> dict[int, tuple[str, str]]:
    cursor = await conn.execute(f"SELECT version, name, checksum FROM {table}")
    return {version: (name, checksum) for version, name, checksum in await cursor.fetchall()}


def _pending(migrations: Sequence[Migration], applied: dict[int, tuple[str, str]]) -> list[Migration]:
    pending = []
    for migration in migrations:
        if migration.version not in applied:
            pending.append(migration)
            continue
        name, checksum = applied[migration.version]
        if checksum != migration.checksum:
            raise MigrationError(
                f"{migration.name} changed after it was applied as {name}; "
                "add a new migration instead of editing an applied one"
            )
    return pending


def _apply(migration: Migration) -> Step:
    async def run(conn: Conn) -> None:
        await conn.execute(migration.sql.encode())
        await conn.execute(
            f"INSERT INTO {BOOKKEEPING} (version, name, checksum) VALUES (%s, %s, %s)",
            (migration.version, migration.name, migration.checksum),
        )

    return Step(f"apply {migration.name}", f"applied {migration.name}", run)


def _create_bookkeeping() -> Step:
    async def run(conn: Conn) -> None:
        await conn.execute(
            f"""CREATE TABLE {BOOKKEEPING} (
                    version    integer PRIMARY KEY,
                    name       text        NOT NULL,
                    checksum   text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())"""
        )

    return Step(f"create {BOOKKEEPING} (this service's migration records)", f"created {BOOKKEEPING}", run)


def _rename_bookkeeping() -> Step:
    async def run(conn: Conn) -> None:
        await conn.execute(f"ALTER TABLE {LEGACY_BOOKKEEPING} RENAME TO {BOOKKEEPING}")
        await conn.execute(
            f"ALTER TABLE {BOOKKEEPING} RENAME CONSTRAINT {LEGACY_BOOKKEEPING}_pkey TO {BOOKKEEPING}_pkey"
        )

    rename = f"{LEGACY_BOOKKEEPING} to {BOOKKEEPING}"
    return Step(
        f"rename this service's migration records {rename} (the old name is golang-migrate's)",
        f"renamed the migration records {rename}",
        run,
    )


async def _go_suite_plan(conn: Conn, migrations: Sequence[Migration], lock_timeout_s: float) -> Plan:
    shown, total = await go_suite.offending_rows(conn)
    if total:
        raise MigrationError(go_suite.refusal(shown, total))
    census = await go_suite.census(conn)
    first, rest = migrations[0], list(migrations[1:])
    if first.version != _CREATES_PROGRESS_TABLE:
        raise MigrationError(f"{first.name}: the first migration must create {go_suite.TABLE}")

    async def lock(conn: Conn) -> None:
        await conn.execute(f"SET LOCAL lock_timeout = {int(lock_timeout_s * 1000)}")
        try:
            await conn.execute(f"LOCK TABLE {go_suite.TABLE} IN ACCESS EXCLUSIVE MODE")
        except psycopg.errors.LockNotAvailable:
            raise MigrationError(
                f"{go_suite.TABLE} stayed in use by another session for {lock_timeout_s:g} s: stop the Go "
                "suite's services before the upgrade. Nothing was changed"
            ) from None
        # The check above ran before the lock; a Go service that was still writing may have added rows.
        shown, total = await go_suite.offending_rows(conn)
        if total:
            raise MigrationError(go_suite.refusal(shown, total))

    async def set_aside(conn: Conn) -> None:
        await conn.execute(go_suite.SET_ASIDE_SQL.encode())

    async def copy(conn: Conn) -> None:
        await conn.execute(go_suite.COPY_SQL.encode())

    rows = f"{census.rows} row(s)"
    steps = [
        Step(f"lock {go_suite.TABLE} and check its rows again", "locked the Go suite's table", lock),
        Step(
            f"set the Go suite's {rows} aside in a temporary table and drop its {go_suite.TABLE}",
            f"set the Go suite's {rows} aside and dropped its table",
            set_aside,
        ),
        _create_bookkeeping(),
        _apply(first),
        Step(
            f"copy the {rows} into the new {go_suite.TABLE}",
            f"copied the Go suite's {rows} into {go_suite.TABLE}",
            copy,
            (
                "every status, claim, activation and expiry is kept; timestamps are read as UTC",
                "progress is kept as it is; baseline 0 where progress > 0 (relative goals show the same "
                "value and keep counting as in the Go suite until their next rotation reset), none "
                "where progress = 0",
                f"baseline_value is not used ({census.with_baseline_value} row(s) have one); namespace "
                "is dropped",
                f"golang-migrate's {LEGACY_BOOKKEEPING} is left as it is",
            ),
        ),
        *(_apply(m) for m in rest),
    ]
    found = (
        f"the Go Extend Challenge Suite's database (golang-migrate version "
        f"{go_suite.GOLANG_MIGRATE_VERSION}, {rows} in {go_suite.TABLE})"
    )
    return Plan(found, steps, atomic=True, applying=_names(migrations))


# -- applying it -----------------------------------------------------------------------------------------


async def _execute(conn: Conn, plan: Plan) -> list[str]:
    done: list[str] = []
    if plan.atomic:
        async with conn.transaction():
            for step in plan.steps:
                await _run(conn, step, "the whole upgrade was rolled back: nothing changed")
                done.append(step.done)
    else:
        for step in plan.steps:
            async with conn.transaction():
                await _run(conn, step, "that step was rolled back")
            done.append(step.done)
    for line in done:
        log.info("migration step", step=line)
    return done


async def _run(conn: Conn, step: Step, rolled_back: str) -> None:
    try:
        await step.run(conn)
    except psycopg.OperationalError:
        raise  # the server went away: the command reports it as unreachable
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise MigrationError(f"could not {step.would}: {reason}; {rolled_back}") from error


@dataclass(frozen=True, slots=True)
class Result:
    applied: list[str]  # migration file names applied by this call
    done: list[str]  # every step, in words, as `migrate` prints them
    dry_run: list[str]  # what `migrate --dry-run` prints; empty unless asked for


async def run_migrations(
    conninfo: str,
    directory: Path | None = None,
    *,
    dry_run: bool = False,
    lock_timeout_s: float = LOCK_TIMEOUT_S,
) -> Result:
    """Apply pending migrations (or, with `dry_run`, only describe them), under the replicas' lock."""
    migrations = discover(directory or migrations_dir())
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            decided = await plan(conn, migrations, lock_timeout_s)
            if dry_run:
                return Result([], [], decided.describe())
            done = await _execute(conn, decided)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
    return Result(decided.applying if done else [], done, [])


async def migrate(conninfo: str, directory: Path | None = None) -> list[str]:
    """Apply pending migrations; return the names applied by this call."""
    return (await run_migrations(conninfo, directory)).applied

"""A database as the Go Extend Challenge Suite leaves it, and a way to see that nothing changed in one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "go_suite"
REFERENCE_CATALOG = Path(__file__).resolve().parents[1] / "fixtures" / "reference_challenges.json"
# When the fixture's players are looked at: a Wednesday, inside every current period of players.sql.
NOW = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)
# Sessions of the test databases run in a zone far from UTC, so a conversion that read the Go suite's
# naive UTC timestamps in the session's zone would move them by hours.
SESSION_TIMEZONE = "America/Los_Angeles"


async def create_go_database(database_url: str, *, players: bool = True) -> None:
    """The Go suite's schema at golang-migrate version 2 (tests/fixtures/go_suite), with its players."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cursor = await conn.execute("SELECT current_database()")
        (name,) = await cursor.fetchone() or ("",)
        await conn.execute(f"ALTER DATABASE {name} SET timezone = '{SESSION_TIMEZONE}'")
        await conn.execute((FIXTURES / "schema.sql").read_bytes())
        if players:
            await conn.execute((FIXTURES / "players.sql").read_bytes())


async def execute(database_url: str, sql: str) -> None:
    """Run SQL statements as they are (no parameters), in autocommit."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(sql.encode())


async def fetch(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cursor = await conn.execute(sql.encode())
        return await cursor.fetchall()


async def snapshot(database_url: str) -> dict[str, object]:
    """Every table, column, index and constraint of the schema, and every row of the tables the
    upgrade touches: equal snapshots mean nothing changed."""
    tables = await fetch(
        database_url,
        """SELECT table_name, column_name, data_type, column_default, is_nullable
           FROM information_schema.columns WHERE table_schema = 'public'
           ORDER BY table_name, ordinal_position""",
    )
    indexes = await fetch(
        database_url, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
    )
    constraints = await fetch(
        database_url,
        """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
           WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2""",
    )
    names = {table for table, *_ in tables}
    rows = {
        table: await fetch(database_url, f"SELECT * FROM {table} ORDER BY 1, 2")
        for table in ("user_goal_progress", "schema_migrations")
        if table in names
    }
    return {"tables": tables, "indexes": indexes, "constraints": constraints, "rows": rows}

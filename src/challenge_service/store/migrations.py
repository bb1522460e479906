"""Ordered SQL migrations from `sql/`, applied at start-up and recorded in `schema_migrations`.

Files are named `NNN_description.sql` and applied in numeric order, each in its own transaction. An
advisory lock serialises replicas starting at the same time; a recorded checksum catches a migration
edited after it was applied, which would otherwise leave databases silently different.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg
import structlog

log = structlog.get_logger(__name__)

_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
# Any constant works; it only has to be the same in every replica.
_LOCK_ID = 0x6368616C  # "chal"


class MigrationError(RuntimeError):
    pass


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


async def migrate(conninfo: str, directory: Path | None = None) -> list[str]:
    """Apply pending migrations; return the names applied by this call."""
    pending = discover(directory or migrations_dir())
    applied_now: list[str] = []
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            await conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       version    integer PRIMARY KEY,
                       name       text        NOT NULL,
                       checksum   text        NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            cursor = await conn.execute("SELECT version, name, checksum FROM schema_migrations")
            done = {version: (name, checksum) for version, name, checksum in await cursor.fetchall()}
            for migration in pending:
                if migration.version in done:
                    name, checksum = done[migration.version]
                    if checksum != migration.checksum:
                        raise MigrationError(
                            f"{migration.name} changed after it was applied as {name}; "
                            "add a new migration instead of editing an applied one"
                        )
                    continue
                async with conn.transaction():
                    await conn.execute(migration.sql.encode())
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                log.info("migration applied", migration=migration.name)
                applied_now.append(migration.name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
    return applied_now

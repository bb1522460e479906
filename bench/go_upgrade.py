"""How long the in-place upgrade of a Go Extend Challenge Suite database takes, for N progress rows.

Creates a Go suite database (the schema of tests/fixtures/go_suite/schema.sql) in its own embedded
PostgreSQL (or on DATABASE_URL's server, in a scratch database it drops afterwards), fills it with
--rows rows spread over every status, active and inactive, relative goals with and without
baseline_value and rotated periods, then times `migrate --dry-run` and the upgrade itself (the same
`run_migrations` the service runs at start-up), and checks that every row arrived.

    .venv/bin/python bench/go_upgrade.py                  # 1,000,000 rows
    .venv/bin/python bench/go_upgrade.py --rows 100000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import structlog
from psycopg.conninfo import make_conninfo

from challenge_service.store.embedded import EmbeddedPostgres
from challenge_service.store.migrations import run_migrations

REPO = Path(__file__).resolve().parents[1]
GO_SCHEMA = REPO / "tests" / "fixtures" / "go_suite" / "schema.sql"
GOALS_PER_USER = 10

# Ten goals per player from the reference catalog; statuses, activity, expiries and baselines follow
# the row number so every combination occurs. Timestamps are naive UTC, as the Go suite writes them.
FILL = f"""
INSERT INTO user_goal_progress (user_id, goal_id, challenge_id, namespace, progress, status, completed_at,
                                claimed_at, created_at, updated_at, is_active, assigned_at, expires_at,
                                baseline_value)
SELECT format('user-%s', lpad((n / {GOALS_PER_USER})::text, 7, '0')),
       goal.id, goal.challenge, 'bench',
       CASE status WHEN 'not_started' THEN 0 ELSE n % 97 + 1 END,
       status,
       CASE WHEN status IN ('completed', 'claimed') THEN stamp + interval '2 hours' END,
       CASE WHEN status = 'claimed' THEN stamp + interval '3 hours' END,
       stamp, stamp + interval '3 hours', n % 7 <> 0, stamp,
       CASE WHEN goal.rotating THEN date_trunc('day', stamp) + interval '1 day' END,
       CASE WHEN goal.rotating AND n % 3 = 0 THEN n % 500 END
FROM generate_series(0, %(rows)s - 1) AS n
CROSS JOIN LATERAL (
    SELECT (ARRAY['not_started', 'in_progress', 'completed', 'claimed'])[n % 4 + 1] AS status,
           timestamp '2025-03-01' + (n % 20000) * interval '1 minute' AS stamp
) AS s
CROSS JOIN LATERAL (
    SELECT (ARRAY['challenge-001-goal-01', 'complete-tutorial', 'kill-10-snowmen', 'reach-level-5',
                  'daily-login', 'daily-10-kills', 'daily-challenges-goal-01', 'daily-challenges-goal-02',
                  'weekly-challenges-goal-01', 'monthly-kills-goal'])[n % {GOALS_PER_USER} + 1] AS id,
           (ARRAY['challenge-001', 'winter-challenge-2025', 'winter-challenge-2025',
                  'winter-challenge-2025', 'daily-challenges', 'daily-challenges', 'rotation-daily',
                  'rotation-daily', 'weekly-challenges', 'monthly-challenges'])[n % {GOALS_PER_USER} + 1]
               AS challenge,
           n % {GOALS_PER_USER} >= 6 AS rotating
) AS goal
-- Players' rows arrive interleaved over time, not in key order.
ORDER BY md5(n::text)
"""


@contextlib.contextmanager
def server() -> Iterator[str]:
    """Admin conninfo of DATABASE_URL's server, or of an embedded one in a temporary directory."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    with tempfile.TemporaryDirectory(prefix="go-upgrade-") as directory:
        embedded = EmbeddedPostgres(Path(directory) / "pg")
        conninfo = embedded.start()
        try:
            yield conninfo
        finally:
            embedded.stop()


async def measure(admin: str, rows: int) -> dict[str, object]:
    name = f"go_upgrade_{uuid.uuid4().hex[:8]}"
    async with await psycopg.AsyncConnection.connect(admin, autocommit=True) as conn:
        await conn.execute(f"CREATE DATABASE {name}")
    url = make_conninfo(admin, dbname=name)
    try:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute(GO_SCHEMA.read_bytes())
            started = time.perf_counter()
            await conn.execute(FILL.encode().replace(b"%(rows)s", str(rows).encode()))
            await conn.execute("VACUUM ANALYZE user_goal_progress")
            fill_s = time.perf_counter() - started
            cursor = await conn.execute("SELECT pg_total_relation_size('user_goal_progress')")
            (go_bytes,) = await cursor.fetchone() or (0,)

        started = time.perf_counter()
        planned = await run_migrations(url, dry_run=True)
        dry_run_s = time.perf_counter() - started
        started = time.perf_counter()
        result = await run_migrations(url)
        upgrade_s = time.perf_counter() - started

        async with await psycopg.AsyncConnection.connect(url) as conn:
            cursor = await conn.execute(
                "SELECT count(*), pg_total_relation_size('user_goal_progress') FROM user_goal_progress"
            )
            (copied, our_bytes) = await cursor.fetchone() or (0, 0)
        assert copied == rows, f"{copied} rows after the upgrade, {rows} before"
        assert result.applied, "the upgrade applied nothing"
        return {
            "rows": rows,
            "fill_s": round(fill_s, 2),
            "dry_run_s": round(dry_run_s, 2),
            "upgrade_s": round(upgrade_s, 2),
            "rows_per_s": round(rows / upgrade_s),
            "go_table_mb": round(go_bytes / 2**20, 1),
            "upgraded_table_mb": round(our_bytes / 2**20, 1),
            "found": planned.dry_run[0],
        }
    finally:
        async with await psycopg.AsyncConnection.connect(admin, autocommit=True) as conn:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="Go suite progress rows (default 1,000,000)"
    )
    args = parser.parse_args()
    if args.rows < GOALS_PER_USER:
        parser.error(f"--rows must be at least {GOALS_PER_USER}")
    # The runner logs each step; this script prints one summary instead.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with server() as admin:
        summary = asyncio.run(measure(admin, args.rows))
    print(json.dumps(summary, indent=2))
    print(f"command: .venv/bin/python bench/go_upgrade.py --rows {args.rows}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

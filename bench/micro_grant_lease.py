"""What the grant reconciler costs the database when nothing, or little, is in doubt.

Every replica runs the reconciler's lease statement and its backlog count every 10 s, whatever the
ledger's size. This fills a fresh database with --granted settled ledger rows and --unresolved rows in
doubt (aged past the reconciler's thresholds), then times the two statements the way a cycle runs them
(the lease inside a transaction that is rolled back, so every run sees the same rows) and prints the
median of --runs runs and the plan of each.

    .venv/bin/python bench/micro_grant_lease.py                               # 1,000,000 + 1,000 rows
    .venv/bin/python bench/micro_grant_lease.py --granted 100000 --unresolved 0 --runs 50

It starts its own embedded PostgreSQL in a temporary directory (or uses --database-url).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from challenge_service.claims import ledger
from challenge_service.claims.reconciler import ReconcilePolicy
from challenge_service.store.embedded import EmbeddedPostgres
from challenge_service.store.migrations import migrate

_FILL = """
INSERT INTO reward_grants (user_id, goal_id, period, reward_type, reward_id, quantity, state, updated_at)
SELECT 'user-' || n, 'goal-' || (n %% 50), '', 'WALLET', 'GOLD', 1,
       CASE WHEN n <= %(unresolved)s THEN 'in_doubt' ELSE 'granted' END, now() - interval '1 hour'
  FROM generate_series(1, %(total)s) AS n
"""


async def timed(conn: psycopg.AsyncConnection[Any], runs: int, statement: Any) -> tuple[float, int]:
    """Median milliseconds of `statement(conn)` over `runs` rolled-back transactions, and its row count."""
    samples, rows = [], 0
    for _ in range(runs):
        async with conn.transaction(force_rollback=True):
            started = time.perf_counter()
            rows = len(await statement(conn))
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), rows


async def plan(conn: psycopg.AsyncConnection[Any], sql: str, params: Any) -> str:
    async with conn.transaction(force_rollback=True):
        cursor = await conn.execute(f"EXPLAIN (COSTS OFF) {sql}", params)
        return "\n".join(f"    {line}" for (line,) in await cursor.fetchall())


async def run(database_url: str, granted: int, unresolved: int, runs: int) -> None:
    await migrate(database_url)
    policy = ReconcilePolicy()
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(_FILL, {"unresolved": unresolved, "total": granted + unresolved})
        await conn.execute("VACUUM ANALYZE reward_grants")

        async def lease(c: psycopg.AsyncConnection[Any]) -> list[ledger.Grant]:
            return await ledger.lease_due(
                c,
                settle_after_s=policy.settle_after_s,
                pending_after_s=policy.pending_after_s,
                lease_s=policy.lease_s,
                limit=policy.batch,
            )

        async def backlog(c: psycopg.AsyncConnection[Any]) -> list[ledger.Backlog]:
            return [await ledger.backlog(c)]

        lease_ms, leased = await timed(conn, runs, lease)
        backlog_ms, _ = await timed(conn, runs, backlog)
        params = {"settle_after_s": 60, "pending_after_s": 120, "lease_s": 120, "limit": policy.batch}
        print(f"ledger: {granted:,} granted rows, {unresolved:,} in doubt; median of {runs} runs")
        print(f"  lease of up to {policy.batch} due rows: {lease_ms:.2f} ms ({leased} leased)")
        print(await plan(conn, ledger.LEASE_DUE, params))
        print(f"  backlog count and age: {backlog_ms:.2f} ms")
        print(
            await plan(
                conn,
                "SELECT count(*), min(updated_at) FROM reward_grants WHERE state = ANY(%s)",
                (list(ledger.UNRESOLVED),),
            )
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--granted", type=int, default=1_000_000)
    parser.add_argument("--unresolved", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", default="", help="an empty database to fill (default: embedded)")
    args = parser.parse_args()
    print("command:", " ".join([".venv/bin/python", *sys.argv]))
    if args.database_url:
        asyncio.run(run(args.database_url, args.granted, args.unresolved, args.runs))
        return 0
    with tempfile.TemporaryDirectory(prefix="grant-lease-") as scratch:
        server = EmbeddedPostgres(Path(scratch) / "pg")
        try:
            asyncio.run(run(server.start(), args.granted, args.unresolved, args.runs))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

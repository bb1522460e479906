"""Retention: expired rotating rows are deleted in bounded batches; rows that guard a reward against a
second claim are kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from challenge_service.catalog import load_catalog
from challenge_service.maintenance.retention import (
    _DELETE_EXPIRED,
    RetentionTask,
    delete_expired_batch,
    reselectable_goal_ids,
)
from challenge_service.store.database import create_pool
from tests.helpers.service import REPO, RunningService
from tests.helpers.waiting import eventually

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
CUTOFF = NOW - timedelta(days=7)
OLD = CUTOFF - timedelta(days=1)  # a period that ended 8 days ago
RECENT = CUTOFF + timedelta(days=1)  # ended 6 days ago: still inside the retention window
# From challenges.json: a reselectable daily goal, a non-reselectable weekly one, a goal without rotation.
RESELECTABLE, NON_RESELECTABLE, NO_ROTATION = "daily-login", "weekly-25-wins", "first-login"


async def put(
    conn: psycopg.AsyncConnection[object],
    user_id: str,
    goal_id: str,
    expires_at: datetime | None,
    status: str = "in_progress",
) -> None:
    await conn.execute(
        """INSERT INTO user_goal_progress (user_id, goal_id, challenge_id, status, expires_at, claimed_at)
           VALUES (%s, %s, 'c', %s, %s, %s)""",
        (user_id, goal_id, status, expires_at, expires_at if status == "claimed" else None),
    )


async def remaining(conn: psycopg.AsyncConnection[object]) -> set[tuple[str, str]]:
    cursor = await conn.execute("SELECT user_id, goal_id FROM user_goal_progress")
    return {(user, goal) for user, goal in await cursor.fetchall()}


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[psycopg.AsyncConnection[object]]:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[AsyncConnectionPool]:
    pool = create_pool(database_url, max_size=2)
    await pool.open(wait=True)
    try:
        yield pool
    finally:
        await pool.close()


async def test_the_migration_creates_the_partial_expiry_index(conn: psycopg.AsyncConnection[object]) -> None:
    cursor = await conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'user_goal_progress_expires_at_idx'"
    )
    record = await cursor.fetchone()
    assert record is not None
    assert "(expires_at, user_id, goal_id)" in record[0]
    assert "WHERE (expires_at IS NOT NULL)" in record[0]


async def test_old_rotating_rows_go_recent_and_guarding_rows_stay(
    conn: psycopg.AsyncConnection[object],
) -> None:
    await put(conn, "u1", RESELECTABLE, OLD)  # expired, not claimed → deleted
    await put(conn, "u2", RESELECTABLE, OLD, "claimed")  # claimed but reselectable → deleted
    await put(conn, "u3", NON_RESELECTABLE, OLD, "completed")  # not claimed → deleted
    await put(conn, "u4", NON_RESELECTABLE, OLD, "claimed")  # guards the reward → kept
    await put(conn, "u5", RESELECTABLE, RECENT)  # inside the window → kept
    await put(conn, "u6", NO_ROTATION, None, "claimed")  # no rotation → kept
    await put(conn, "u7", NO_ROTATION, None)  # no rotation → kept
    await put(conn, "u8", "removed-goal", OLD, "claimed")  # claimed, goal unknown → kept (safe side)

    deleted, last = await delete_expired_batch(conn, CUTOFF, [RESELECTABLE], limit=100)

    assert deleted == 3
    assert last is not None and last.expires_at == OLD
    assert await remaining(conn) == {
        ("u4", NON_RESELECTABLE),
        ("u5", RESELECTABLE),
        ("u6", NO_ROTATION),
        ("u7", NO_ROTATION),
        ("u8", "removed-goal"),
    }


async def test_a_row_with_an_unresolved_grant_is_kept(conn: psycopg.AsyncConnection[object]) -> None:
    await put(conn, "u1", RESELECTABLE, OLD, "completed")
    await put(conn, "u2", RESELECTABLE, OLD, "completed")
    await conn.execute(
        """INSERT INTO reward_grants (user_id, goal_id, period, expires_at, reward_type, reward_id, quantity,
                                      state)
           VALUES ('u1', %s, 'p', %s, 'WALLET', 'GOLD', 1, 'in_doubt')""",
        (RESELECTABLE, OLD),
    )
    deleted, _ = await delete_expired_batch(conn, CUTOFF, [RESELECTABLE], limit=100)
    assert deleted == 1
    assert await remaining(conn) == {("u1", RESELECTABLE)}


async def test_a_row_owing_an_automatic_claim_is_kept(conn: psycopg.AsyncConnection[object]) -> None:
    await put(conn, "u1", RESELECTABLE, OLD, "completed")
    await put(conn, "u2", RESELECTABLE, OLD, "completed")
    await conn.execute("UPDATE user_goal_progress SET auto_claim_at = %s WHERE user_id = 'u1'", (OLD,))
    deleted, _ = await delete_expired_batch(conn, CUTOFF, [RESELECTABLE], limit=100)
    assert deleted == 1
    assert await remaining(conn) == {("u1", RESELECTABLE)}


async def test_a_batch_deletes_at_most_its_limit_oldest_first(conn: psycopg.AsyncConnection[object]) -> None:
    for day in range(5):
        await put(conn, f"u{day}", RESELECTABLE, OLD - timedelta(days=day))
    deleted, last = await delete_expired_batch(conn, CUTOFF, [RESELECTABLE], limit=2)
    assert deleted == 2
    assert last is not None and last.expires_at == OLD - timedelta(days=3)
    assert await remaining(conn) == {("u0", RESELECTABLE), ("u1", RESELECTABLE), ("u2", RESELECTABLE)}
    # The next batch continues after the last deleted row.
    deleted, _ = await delete_expired_batch(conn, CUTOFF, [RESELECTABLE], limit=2, after=last)
    assert deleted == 2
    assert await remaining(conn) == {("u0", RESELECTABLE)}


async def test_the_batch_query_uses_the_expiry_index(conn: psycopg.AsyncConnection[object]) -> None:
    await conn.execute(
        """INSERT INTO user_goal_progress (user_id, goal_id, challenge_id, expires_at)
           SELECT 'u' || i, 'g' || (i %% 10), 'c', %s + make_interval(hours => i)
             FROM generate_series(1, 20000) AS i""",
        (OLD - timedelta(days=1000),),
    )
    await conn.execute("ANALYZE user_goal_progress")
    cursor = await conn.execute(
        "EXPLAIN " + _DELETE_EXPIRED,
        {
            "cutoff": CUTOFF,
            "after_expires": "-infinity",
            "after_user": "",
            "after_goal": "",
            "reselectable": [RESELECTABLE],
            "limit": 1000,
        },
    )
    plan = "\n".join(row[0] for row in await cursor.fetchall())
    assert "user_goal_progress_expires_at_idx" in plan


async def test_the_task_cycle_uses_the_injected_clock_and_the_catalog(
    pool: AsyncConnectionPool, conn: psycopg.AsyncConnection[object]
) -> None:
    catalog = load_catalog(REPO / "challenges.json")
    assert RESELECTABLE in reselectable_goal_ids(catalog)
    assert NON_RESELECTABLE not in reselectable_goal_ids(catalog)
    assert NO_ROTATION not in reselectable_goal_ids(catalog)
    await put(conn, "u1", RESELECTABLE, OLD, "claimed")
    await put(conn, "u2", NON_RESELECTABLE, OLD, "claimed")
    await put(conn, "u3", RESELECTABLE, RECENT)

    now = NOW
    task = RetentionTask(pool, lambda: catalog, lambda: now, retention_days=7)
    assert await task.run_once() == 1
    assert await remaining(conn) == {("u2", NON_RESELECTABLE), ("u3", RESELECTABLE)}

    now = NOW + timedelta(days=2)  # u3's period is now 8 days old as well
    assert await task.run_once() == 1
    assert await remaining(conn) == {("u2", NON_RESELECTABLE)}


async def test_a_cycle_is_bounded_by_its_batches(
    pool: AsyncConnectionPool, conn: psycopg.AsyncConnection[object]
) -> None:
    for number in range(5):
        await put(conn, f"u{number}", RESELECTABLE, OLD)
    catalog = load_catalog(REPO / "challenges.json")
    task = RetentionTask(pool, lambda: catalog, lambda: NOW, retention_days=7, batch=2, max_batches=1)
    assert await task.run_once() == 2
    assert len(await remaining(conn)) == 3
    task = RetentionTask(pool, lambda: catalog, lambda: NOW, retention_days=7, batch=2, max_batches=10)
    assert await task.run_once() == 3
    assert await remaining(conn) == set()


async def test_a_database_error_does_not_stop_the_task(pool: AsyncConnectionPool) -> None:
    catalog = load_catalog(REPO / "challenges.json")
    calls = 0

    def failing_clock() -> datetime:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise psycopg.OperationalError("database down")
        return NOW

    task = RetentionTask(
        pool, lambda: catalog, failing_clock, retention_days=7, interval_s=0.01, first_delay_s=0
    )
    task.start()
    try:
        await eventually(lambda: calls >= 2)  # the failed cycle was logged and the next one ran
    finally:
        await task.stop()


async def test_the_service_runs_retention_and_event_id_cleanup(running: RunningService) -> None:
    maintenance = running.service._maintenance
    assert maintenance is not None
    assert maintenance.retention.retention.days == running.settings.retention_days
    assert maintenance.event_ids.dedup_hours == running.settings.event_dedup_hours
    # One cycle of each on an empty database deletes nothing and does not fail.
    assert await maintenance.retention.run_once() == 0
    assert await maintenance.event_ids.run_once() == 0

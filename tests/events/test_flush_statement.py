"""The flush as one statement (store/flush.py, sql/020 and 021), on the real database.

A batch is one COPY in autocommit whose trigger records the event ids and applies the rows. A batch
holding an event processed before (a redelivery after a restart, or another replica's event) is
refused whole and applied again without that event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import psycopg
import pytest
from prometheus_client import REGISTRY
from psycopg_pool import AsyncConnectionPool

from challenge_service.catalog import load_catalog
from challenge_service.events.buffer import Buffer, Event
from challenge_service.events.flusher import Flusher
from challenge_service.store.database import create_pool
from challenge_service.store.flush import create_staging_table
from tests.helpers.db import row, seed
from tests.helpers.service import REPO
from tests.helpers.waiting import eventually

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[AsyncConnectionPool]:
    async with create_pool(database_url, max_size=1, configure=create_staging_table) as pool:
        yield pool


def _flusher(pool: AsyncConnectionPool) -> tuple[Buffer, Flusher]:
    catalog = load_catalog(REPO / "challenges.json")
    buffer = Buffer(10_000, durable=False)
    return buffer, Flusher(buffer, pool, lambda: catalog, lambda: NOW, interval_s=0.0)


def _statements() -> float:
    return REGISTRY.get_sample_value("challenge_flush_statements_total") or 0.0


def _replayed() -> float:
    labels = {"outcome": "deduplicated", "reason": "processed_before"}
    return REGISTRY.get_sample_value("challenge_events_total", labels) or 0.0


async def _processed(database_url: str) -> set[str]:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cursor = await conn.execute("SELECT event_id FROM processed_events")
        return {event_id for (event_id,) in await cursor.fetchall()}


async def test_a_flush_is_one_statement_that_records_ids_and_applies(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    await seed(database_url, "u1", "first-login")
    await seed(database_url, "u2", "first-login")
    buffer, flusher = _flusher(pool)
    buffer.add(Event("e1", "u1", None, None, 1, 1))
    buffer.add(Event("e2", "u1", None, None, 1, 1))
    buffer.add(Event("e3", "u2", None, None, 1, 1))
    before = _statements()
    assert await flusher.flush_once()
    assert _statements() - before == 1
    assert (await row(database_url, "u1", "first-login")).progress == 2  # type: ignore[union-attr]
    assert (await row(database_url, "u2", "first-login")).progress == 1  # type: ignore[union-attr]
    assert await _processed(database_url) == {"e1", "e2", "e3"}


async def test_a_batch_with_an_event_processed_before_applies_only_the_new_ones(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    await seed(database_url, "u1", "first-login")
    await seed(database_url, "u2", "first-login")
    async with pool.connection() as conn:  # applied before a restart, or by another replica
        await conn.execute("INSERT INTO processed_events (event_id) VALUES ('old')")
    buffer, flusher = _flusher(pool)
    buffer.add(Event("old", "u1", None, None, 1, 1))
    buffer.add(Event("new-1", "u1", None, None, 1, 1))
    buffer.add(Event("new-2", "u2", None, None, 1, 1))
    replayed = _replayed()
    assert await flusher.flush_once()
    assert (await row(database_url, "u1", "first-login")).progress == 1  # type: ignore[union-attr]
    assert (await row(database_url, "u2", "first-login")).progress == 1  # type: ignore[union-attr]
    assert await _processed(database_url) == {"old", "new-1", "new-2"}
    assert _replayed() - replayed == 1
    assert buffer.duplicate("old") is True  # answered from memory from now on


async def test_a_batch_of_only_replayed_events_changes_nothing(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    await seed(database_url, "u1", "first-login")
    async with pool.connection() as conn:
        await conn.execute("INSERT INTO processed_events (event_id) VALUES ('old')")
    buffer, flusher = _flusher(pool)
    buffer.add(Event("old", "u1", None, None, 1, 1))
    assert await flusher.flush_once()
    assert (await row(database_url, "u1", "first-login")).progress == 0  # type: ignore[union-attr]
    assert buffer.empty


async def _has_staging_table(pool: AsyncConnectionPool) -> bool:
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT to_regclass('pg_temp.flush_staging') IS NOT NULL"
            " AND to_regclass('pg_temp.flush_staging_extended') IS NOT NULL"
        )
        found = await cursor.fetchone()
    return found is not None and found[0] is True


async def test_a_connection_opened_after_the_database_dropped_one_gets_the_staging_table(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    await seed(database_url, "u1", "first-login")
    assert await _has_staging_table(pool)  # any pooled connection, used by REST or the flusher
    async with pool.connection() as conn:
        dropped = conn.info.backend_pid
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as admin:
        await admin.execute("SELECT pg_terminate_backend(%s)", (dropped,))
    buffer, flusher = _flusher(pool)
    buffer.add(Event("e1", "u1", None, None, 1, 1))
    # The first attempt meets the dead connection: a transient failure; the batch waits for the next.
    await eventually(flusher.flush_once, timeout_s=10)
    assert flusher.failures == 1
    async with pool.connection() as conn:
        assert conn.info.backend_pid != dropped
    assert await _has_staging_table(pool)
    assert (await row(database_url, "u1", "first-login")).progress == 1  # type: ignore[union-attr]


# Both flush functions replaced by stand-ins that only note they were called.
_RECORDING = """
CREATE TABLE flush_calls (name text NOT NULL);
CREATE OR REPLACE FUNCTION apply_flush_by_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO flush_calls VALUES ('apply_flush_by_key'); RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION apply_flush_extended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO flush_calls VALUES ('apply_flush_extended'); RETURN NULL; END $$;
"""


@pytest.mark.parametrize(
    ("events", "called"),
    [
        # In the shipped catalog the login bonus is auto-claimed and `sprint-50-kills` (enemy_kills)
        # has a per-player period; the `headshots` and `wins` goals use none of that.
        ([Event("h", "u1", "headshots", 3, 0, 3)], "apply_flush_by_key"),
        ([Event("h", "u1", "headshots", 3, 0, 3), Event("w", "u2", "wins", 1, 0, 1)], "apply_flush_by_key"),
        ([Event("l", "u1", None, None, 1, 1)], "apply_flush_extended"),
        ([Event("k", "u1", "enemy_kills", 5, 0, 5)], "apply_flush_extended"),
        (
            [Event("h", "u1", "headshots", 3, 0, 3), Event("k", "u2", "enemy_kills", 5, 0, 5)],
            "apply_flush_extended",
        ),
    ],
)
async def test_only_a_batch_using_the_extended_keys_runs_the_extended_statement(
    pool: AsyncConnectionPool, database_url: str, events: list[Event], called: str
) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(_RECORDING)
    buffer, flusher = _flusher(pool)
    for event in events:
        buffer.add(event)

    assert await flusher.flush_once()

    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cursor = await conn.execute("SELECT name FROM flush_calls")
        assert [name for (name,) in await cursor.fetchall()] == [called]

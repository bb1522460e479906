"""Processed event ids are forgotten once they are older than the deduplication window."""

from __future__ import annotations

import psycopg

from challenge_service.maintenance.event_ids import EventIdCleanup
from challenge_service.store.database import create_pool


async def test_processed_ids_older_than_the_window_are_cleaned_up_in_batches(database_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(
            """INSERT INTO processed_events (event_id, processed_at)
               SELECT 'old-' || i, now() - interval '25 hours' FROM generate_series(1, 5) AS i
               UNION ALL SELECT 'new-' || i, now() - interval '23 hours' FROM generate_series(1, 3) AS i"""
        )
        pool = create_pool(database_url, max_size=1)
        await pool.open(wait=True)
        try:
            # Batches of 2: three statements delete the five old ids, the last one finds fewer than 2.
            assert await EventIdCleanup(pool, dedup_hours=24, batch=2).run_once() == 5
        finally:
            await pool.close()
        cursor = await conn.execute("SELECT event_id FROM processed_events ORDER BY event_id")
        assert [r[0] for r in await cursor.fetchall()] == ["new-1", "new-2", "new-3"]

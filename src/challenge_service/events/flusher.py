"""The flusher task (docs/reliability.md): writes the buffer to PostgreSQL, one statement per generation.

Cadence. A generation is flushed once its first event has waited `FLUSH_INTERVAL_MS`, or as soon as
it holds `FLUSH_BATCH_EVENTS` events (or 5,000 entries, one per player and stat code), or on
shutdown. Flushes never overlap: under load a flush ends with the next generation already due, so the
next one starts immediately and batches grow with the load (group commit); when idle, a lone event
waits at most the interval.

Failures. A transient failure (connection lost, pool timeout, deadlock, …) restores the batch into
the buffer before the newer entries and retries with back-off; durable callers keep waiting for the
commit (and give up with UNAVAILABLE after their bounded wait, their entries staying buffered). A
data error (a value the columns refuse) bisects the batch by user; a single user whose entries still
fail is logged and dropped so it cannot block the others forever (its callers get INTERNAL).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from datetime import datetime

import psycopg
import structlog
from psycopg_pool import AsyncConnectionPool

from challenge_service import metrics
from challenge_service.catalog import Catalog, Goal
from challenge_service.events.buffer import Batch, Buffer, Key, refold
from challenge_service.rules.progress import next_expiry
from challenge_service.rules.windows import is_live, next_change
from challenge_service.store import flush as sql

log = structlog.get_logger(__name__)

# Errors caused by the rows themselves: retrying the same batch would fail forever, so bisect.
_DATA_ERRORS = (psycopg.errors.DataError, psycopg.errors.IntegrityError)
BACKOFF_MIN_S = 0.05
BACKOFF_MAX_S = 1.0


class Flusher:
    def __init__(
        self,
        buffer: Buffer,
        pool: AsyncConnectionPool,
        catalog: Callable[[], Catalog],
        clock: Callable[[], datetime],
        *,
        interval_s: float,
        on_owed: Callable[[], None] | None = None,
    ) -> None:
        self.buffer = buffer
        self.pool = pool
        self.catalog = catalog
        self.clock = clock
        self.interval_s = interval_s
        # Called after a flush that may have completed `autoClaim` goals: the auto-claimer's wake-up.
        self.on_owed = on_owed
        self.flushes = 0
        self.failures = 0
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._goals_of: _Goals | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="flusher")

    async def stop(self, timeout_s: float) -> bool:
        """Flush everything buffered (retrying within `timeout_s`), then stop. True when empty."""
        self._stopping = True
        self.buffer.wake.set()
        if self._task is None:
            return self.buffer.empty
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=timeout_s)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            log.error("shutdown: buffered events could not be flushed", entries=self.buffer.entries)
            return False
        return True

    # ---- the loop ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        buffer = self.buffer
        loop = asyncio.get_running_loop()
        backoff = BACKOFF_MIN_S
        while True:
            if buffer.empty:
                if self._stopping:
                    return
                buffer.wake.clear()
                await buffer.wake.wait()
                continue
            delay = buffer.opened_at + self.interval_s - loop.time()
            if delay > 0 and not self._stopping and not buffer.ready:
                buffer.wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await buffer.wake.wait()
                continue
            if await self.flush_once():
                backoff = BACKOFF_MIN_S
            else:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)

    async def flush_once(self) -> bool:
        """Flush the open generation; False when a transient failure put it back for a retry."""
        generation = self.buffer.take()
        parts = [generation.batch]
        dropped: set[str] = set()
        started = time.perf_counter()
        rows = 0
        try:
            while parts:
                part = parts.pop()
                try:
                    rows += await self._write(part)
                except _DATA_ERRORS as error:
                    if len(part.users) > 1:
                        parts.extend(part.split())
                        continue
                    user = next(iter(part.users), "")
                    log.error("flush: dropping entries the database refuses", user_id=user, error=str(error))
                    metrics.EVENTS.labels("rejected", "database_refused").inc(len(part.log))
                    dropped.add(user)
                self.buffer.done(part.event_ids())
        except Exception as error:
            # Transient (or unknown): nothing is lost, the rest goes back into the buffer.
            self.failures += 1
            metrics.FLUSH_FAILURES.inc()
            log.warning("flush failed; retrying", error=str(error) or type(error).__name__)
            futures = [f for f in (generation.future, *generation.linked) if f is not None]
            self.buffer.restore([part, *parts], futures, dropped | generation.dropped)
            return False
        self.buffer.settle()
        generation.resolve(frozenset(dropped | generation.dropped))
        self.flushes += 1
        metrics.FLUSH_DURATION.observe(time.perf_counter() - started)
        metrics.FLUSH_ROWS.observe(rows)
        return True

    async def _write(self, batch: Batch) -> int:
        """Apply one batch; returns staged rows. Normally one COPY in autocommit (the trigger
        records the ids and updates, store/flush.py). When some event was processed before, that
        statement rolls back and the batch is applied again without those events, in a transaction
        that records the ids first."""
        now = self.clock()
        event_ids = batch.event_ids()
        rows, extended = self._staging_rows(batch, now, event_ids)
        if not rows:
            return 0  # every goal left the catalog since its events arrived: nothing to apply
        async with self.pool.connection() as conn:
            try:
                await sql.apply_batch(conn, rows, extended=extended)
                statements = 1
            except psycopg.Error as error:
                if not sql.replayed(error):
                    raise
                async with conn.transaction():
                    fresh = await sql.record_event_ids(conn, event_ids)
                    seen = set(event_ids) - fresh
                    refold(batch, seen)
                    self.buffer.done(seen)
                    metrics.EVENTS.labels("deduplicated", "processed_before").inc(len(seen))
                    rows, extended = self._staging_rows(batch, now, ())
                    if rows:
                        await sql.apply_batch(conn, rows, extended=extended)
                statements = 3  # the refused COPY, INSERT ids, COPY; BEGIN/COMMIT not counted
        metrics.FLUSH_STATEMENTS.inc(statements)
        metrics.EVENTS.labels("applied", "").inc(len(batch.log))
        if self.on_owed is not None:
            owing = self._goals().auto_claim_keys
            if owing and any(not owing.isdisjoint(entries) for entries in batch.users.values()):
                self.on_owed()
        return len(rows)

    def _staging_rows(
        self, batch: Batch, now: datetime, event_ids: Sequence[str]
    ) -> tuple[list[sql.StagingRow], bool]:
        """One row per (user, key), the first carrying the header: the ids the trigger records and
        the parameters of the goals of the batch's keys, from the current catalog. In no particular
        order: the SQL sorts the rows before it locks any (the order every writer locks in). A key
        whose goals all left the catalog, or whose challenges are not live, stages nothing. Also
        whether the batch needs the extended flush statement (`sql.KeyGoals.extended`)."""
        goals = self._goals()
        encoded: dict[Key, bytes] = {}
        idle: set[Key] = set()
        rows: list[sql.StagingRow] = []
        for user, entries in batch.users.items():
            for key, e in entries.items():
                if key not in encoded:
                    if key in idle:
                        continue
                    part = goals.encoded(key, now)
                    if part is None:
                        idle.add(key)
                        continue
                    encoded[key] = part
                rows.append((user, key, e.value, e.add, e.inc, None, None, None))
        if rows:
            header = sql.goals_header(list(encoded.values()))
            rows[0] = sql.with_header(rows[0], event_ids, now, header)
        return rows, not goals.extended.isdisjoint(encoded)

    def _goals(self) -> _Goals:
        catalog = self.catalog()
        if self._goals_of is None or self._goals_of.catalog is not catalog:
            self._goals_of = _Goals(catalog)
        return self._goals_of


class _Goals:
    """One catalog's goals by key, and each key's part of the header: its live goals, encoded once and
    again only when the rotation period of one of them ends or a challenge's window opens or closes."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        by_key: dict[Key, list[Goal]] = {}
        for goal in sorted(catalog.goals, key=lambda g: g.goal_id):
            key = goal.requirement.stat_code if goal.event_source == "statistic" else None
            by_key.setdefault(key, []).append(goal)
        self.by_key = {key: tuple(goals) for key, goals in by_key.items()}
        # Keys some `autoClaim` goal listens to: a flush of one may owe a claim.
        self.auto_claim_keys = frozenset(
            key for key, goals in by_key.items() if any(g.auto_claim for g in goals)
        )
        # key → (encoded live goals or None when none is live, the time they were computed at, the
        # first instant they may change)
        self._encoded: dict[Key, tuple[bytes | None, datetime, datetime | None]] = {}
        # Keys whose live goals need the extended flush statement, as last encoded.
        self.extended: set[Key] = set()

    def encoded(self, key: Key, now: datetime) -> bytes | None:
        """The key's part of the header; None when it has no live goal (or no goal at all)."""
        cached = self._encoded.get(key)
        if cached is not None and cached[1] <= now and (cached[2] is None or now < cached[2]):
            return cached[0]
        goals = self.by_key.get(key, ())
        challenges = [self.catalog.challenge(goal.challenge_id) for goal in goals]
        live = [goal for goal, c in zip(goals, challenges, strict=True) if c is None or is_live(c, now)]
        part = _key_goals(key, live, now) if live else None
        ends = [end for end in part.period_ends if end is not None] if part else []
        changes = next_change([c for c in challenges if c is not None], now)
        until = min([*ends, *([changes] if changes else [])], default=None)
        encoded = sql.encode_key(part) if part else None
        self._encoded[key] = (encoded, now, until)
        if part is not None and part.extended:
            self.extended.add(key)
        else:
            self.extended.discard(key)
        return encoded


def _key_goals(key: Key, goals: Sequence[Goal], now: datetime) -> sql.KeyGoals:
    rotations = [goal.rotation if goal.rotation and goal.rotation.enabled else None for goal in goals]
    per_user = any(r is not None and r.per_user for r in rotations)
    deactivating = any(r is not None and r.deactivates for r in rotations)
    auto_claim = any(goal.auto_claim for goal in goals)
    return sql.KeyGoals(
        key=key,
        goal_ids=[goal.goal_id for goal in goals],
        targets=[goal.requirement.target_value for goal in goals],
        relative=[goal.requirement.progress_mode == "relative" for goal in goals],
        rotating=[rotation is not None for rotation in rotations],
        period_ends=[next_expiry(r, now) if r and not r.per_user else None for r in rotations],
        reset_progress=[bool(r and r.on_expiry.reset_progress) for r in rotations],
        allow_reselection=[bool(r and r.on_expiry.allow_reselection) for r in rotations],
        durations=[r.duration_s if r and r.per_user else None for r in rotations] if per_user else None,
        deactivate=[bool(r and r.deactivates) for r in rotations] if deactivating else None,
        auto_claim=[goal.auto_claim for goal in goals] if auto_claim else None,
    )

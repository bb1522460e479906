"""Buffering with the real service: durable acks, back-pressure, flush failures and recovery,
a bad row, shutdown, two replicas on one database, and a SIGKILL right after the answers."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from grpclib.client import Channel
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from challenge_service.events.buffer import Event
from challenge_service.store import flush as flush_sql
from challenge_service.store.embedded import EmbeddedPostgres
from tests.helpers.db import progress, row, seed, seed_many
from tests.helpers.events import EventClient, StartService
from tests.helpers.process import fresh_ports, service_env, serving
from tests.helpers.waiting import eventually


async def test_an_acknowledged_event_is_in_the_table_when_the_answer_arrives(
    start_service: StartService,
) -> None:
    svc = await start_service()
    users = [f"u{i}" for i in range(40)]
    for user in users:
        await seed(svc.database_url, user, "career-1000-kills")

    async def one(index: int, user: str) -> None:
        await svc.client.stat(user, "enemy_kills", index + 1, 1, event_id=f"k-{user}")
        assert await progress(svc.database_url, user, "career-1000-kills") == index + 1

    await asyncio.gather(*(one(i, u) for i, u in enumerate(users)))
    assert svc.pipeline.flusher.flushes < len(users)  # group commit: several events per flush


async def test_a_full_buffer_answers_resource_exhausted_and_drops_nothing(
    start_service: StartService,
) -> None:
    # The flusher waits a minute before flushing, so the buffer fills up.
    svc = await start_service(event_ack_mode="buffered", buffer_max_entries=2, flush_interval_ms=60_000)
    for user in ("a", "b", "c"):
        await seed(svc.database_url, user, "complete-tutorial")
    await svc.client.stat("a", "tutorial_completed", 1)
    await svc.client.stat("b", "tutorial_completed", 1)
    with pytest.raises(GRPCError) as caught:
        await svc.client.stat("c", "tutorial_completed", 1)
    assert caught.value.status == Status.RESOURCE_EXHAUSTED
    with pytest.raises(GRPCError) as caught:  # even an event for an existing entry
        await svc.client.stat("a", "tutorial_completed", 2)
    assert caught.value.status == Status.RESOURCE_EXHAUSTED
    assert await progress(svc.database_url, "a", "complete-tutorial") == 0  # nothing flushed yet

    await svc.stop()  # shutdown flushes every accepted event
    assert await progress(svc.database_url, "a", "complete-tutorial") == 1
    assert await progress(svc.database_url, "b", "complete-tutorial") == 1
    assert await progress(svc.database_url, "c", "complete-tutorial") == 0


async def test_shutdown_answers_in_flight_calls_then_refuses_new_ones(start_service: StartService) -> None:
    svc = await start_service(flush_interval_ms=1_000)
    await seed(svc.database_url, "u1", "first-login")
    call = asyncio.create_task(svc.client.login("u1", event_id="in-flight"))
    await eventually(lambda: not svc.pipeline.buffer.empty)  # accepted; it now waits for its flush
    late = EventClient(Channel("127.0.0.1", svc.service.settings.grpc_port))
    stopping = asyncio.create_task(svc.stop())
    await eventually(lambda: not svc.pipeline.ingest.accepting)
    with pytest.raises((GRPCError, ConnectionError, OSError)):
        await late.login("u1", event_id="too-late")
    late.channel.close()
    await call  # answered OK: it was accepted before the shutdown began
    await stopping
    assert await progress(svc.database_url, "u1", "first-login") == 1


async def test_a_full_batch_is_flushed_without_waiting_for_the_interval(
    start_service: StartService,
) -> None:
    svc = await start_service(flush_interval_ms=60_000, flush_batch_events=3)
    await seed(svc.database_url, "u1", "first-login")
    # Durable: each call waits for the commit. Without the size trigger all three would wait a minute
    # and get UNAVAILABLE after the 5 s acknowledgement bound.
    async with asyncio.timeout(3):
        await asyncio.gather(*(svc.client.login("u1") for _ in range(3)))
    assert await progress(svc.database_url, "u1", "first-login") == 3


async def test_a_failed_flush_loses_nothing_and_merges_with_newer_events(
    start_service: StartService, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = await start_service(event_ack_mode="buffered", flush_interval_ms=5)
    await seed(svc.database_url, "u1", "first-login")
    await seed(svc.database_url, "u1", "first-100-kills")
    real = flush_sql.apply_batch
    failures = 0

    async def flaky(conn: psycopg.AsyncConnection[Any], *args: Any, **kwargs: Any) -> None:
        nonlocal failures
        if failures < 3:
            failures += 1
            raise psycopg.OperationalError("injected: connection lost")
        await real(conn, *args, **kwargs)

    monkeypatch.setattr(flush_sql, "apply_batch", flaky)
    await svc.client.login("u1", event_id="l1")
    await svc.client.stat("u1", "enemy_kills", 10, 10, event_id="s1")
    await eventually(lambda: failures >= 1)
    await svc.client.login("u1", event_id="l2")
    await svc.client.stat("u1", "enemy_kills", 15, 5, event_id="s2")

    async def applied() -> bool:
        return await progress(svc.database_url, "u1", "first-login") == 2

    await eventually(applied, 15, interval_s=0.05)
    assert failures == 3
    assert await progress(svc.database_url, "u1", "first-100-kills") == 15
    assert svc.pipeline.flusher.failures == 3


async def test_a_row_the_database_refuses_is_dropped_without_blocking_the_others(
    start_service: StartService,
) -> None:
    svc = await start_service(event_ack_mode="buffered", flush_interval_ms=50)
    for user in ("g1", "g2", "g3"):
        await seed(svc.database_url, user, "first-login")
    await seed(svc.database_url, "bad", "first-login")
    buffer = svc.pipeline.buffer
    # The handlers refuse such ids; defend anyway: processed_events.event_id is varchar(100).
    buffer.add(Event("x" * 150, "bad", None, None, 1, 1))
    for user in ("g1", "g2", "g3"):
        await svc.client.login(user, event_id=f"ok-{user}")

    async def all_good_applied() -> bool:
        return all([await progress(svc.database_url, u, "first-login") == 1 for u in ("g1", "g2", "g3")])

    await eventually(all_good_applied, 15, interval_s=0.05)
    assert await progress(svc.database_url, "bad", "first-login") == 0
    assert buffer.empty and buffer.entries == 0


@pytest.mark.slow
async def test_two_replicas_on_one_database_count_every_event_once(start_service: StartService) -> None:
    # Replica A runs in this process, replica B is the real command (one process = one replica).
    a = await start_service()
    env = service_env(a.database_url)
    async with serving(env) as process:
        b = EventClient(Channel("127.0.0.1", int(env["GRPC_PORT"])))
        users = [f"p{i}" for i in range(15)]
        expires = datetime.now(UTC) + timedelta(hours=2)
        for user in users:
            await seed(a.database_url, user, "first-login")
            await seed(a.database_url, user, "monthly-login-20", expires_at=expires)
        calls = []
        for user in users:
            for i in range(8):
                calls.append(a.client.login(user, event_id=f"a-{user}-{i}"))
                calls.append(b.login(user, event_id=f"b-{user}-{i}"))
                calls.append(b.login(user))  # no id
            for i in range(4):  # the same events delivered to both replicas
                calls.append(a.client.login(user, event_id=f"shared-{user}-{i}"))
                calls.append(b.login(user, event_id=f"shared-{user}-{i}"))
        await asyncio.gather(*calls)
        b.channel.close()
        process.terminate()
        await asyncio.to_thread(process.wait, 15)
    for user in users:
        assert await progress(a.database_url, user, "first-login") == 8 + 8 + 8 + 4
        monthly = await row(a.database_url, user, "monthly-login-20")
        assert monthly is not None and (monthly.progress, monthly.baseline, monthly.status) == (
            28,
            0,
            "completed",
        )


async def test_database_outage_durable_calls_get_unavailable_and_events_apply_on_recovery(
    start_service: StartService, own_database: tuple[EmbeddedPostgres, str]
) -> None:
    server, url = own_database
    svc = await start_service(url)
    await seed(url, "u1", "first-login")
    await seed(url, "u1", "first-100-kills")
    await asyncio.to_thread(server.stop)

    started = time.monotonic()
    results = await asyncio.gather(
        svc.client.login("u1", event_id="during-outage"),
        svc.client.stat("u1", "enemy_kills", 30, 30),
        return_exceptions=True,
    )
    assert all(isinstance(r, GRPCError) and r.status == Status.UNAVAILABLE for r in results), results
    assert time.monotonic() - started < 8  # a bounded wait, not a hang

    await asyncio.to_thread(server.start)

    async def applied() -> bool:
        try:
            return await progress(url, "u1", "first-login") == 1
        except psycopg.OperationalError:
            return False

    await eventually(applied, 30, interval_s=0.05)
    assert await progress(url, "u1", "first-100-kills") == 30
    await svc.client.login("u1", event_id="during-outage")  # the client's retry: applied once
    assert await progress(url, "u1", "first-login") == 1


@pytest.mark.slow
async def test_every_acknowledged_event_survives_a_sigkill(database_url: str) -> None:
    users = [f"k{i}" for i in range(300)]
    await seed_many(database_url, [(user, "first-login") for user in users])
    env = service_env(database_url, EVENT_ACK_MODE="durable")
    acked: list[str] = []
    async with serving(env) as process:
        client = EventClient(Channel("127.0.0.1", int(env["GRPC_PORT"])))

        async def send(user: str) -> None:
            await client.login(user, event_id=f"evt-{user}")
            acked.append(user)
            if len(acked) == 100:
                os.kill(process.pid, signal.SIGKILL)  # right after an answer, mid-stream

        results = await asyncio.gather(*(send(u) for u in users), return_exceptions=True)
        client.channel.close()
    # The calls after the kill fail; fewer than 100 answers means the service failed before it.
    assert len(acked) >= 100, [r for r in results if isinstance(r, BaseException)][:3]
    for user in acked:
        assert await progress(database_url, user, "first-login") == 1, user

    # Restart; the event bus redelivers everything: each event is applied exactly once.
    env.update(fresh_ports())
    async with serving(env) as process:
        client = EventClient(Channel("127.0.0.1", int(env["GRPC_PORT"])))
        await asyncio.gather(*(client.login(u, event_id=f"evt-{u}") for u in users))
        client.channel.close()
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 15)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT count(*) FILTER (WHERE progress = 1), count(*) FROM user_goal_progress"
            " WHERE goal_id = 'first-login'"
        )
        assert await cursor.fetchone() == (len(users), len(users))

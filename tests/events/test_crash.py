"""Durability under `kill -9`: the real command, concurrent event clients, SIGKILL mid-stream, restart.

Durable mode: every event whose call returned OK is in the database after the kill, three times at
different moments, and a redelivery of everything sent after the last restart is applied exactly once.
Buffered mode: the acknowledged events a kill loses are counted and printed (the documented trade-off:
the open generation plus the flush in progress, about one flush interval plus one flush). Only the
sanity bounds are asserted; the figures measured are in docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
from grpclib.client import Channel

from tests.helpers.db import progress_of, seed_many
from tests.helpers.events import EventClient
from tests.helpers.process import restart, service_env

pytestmark = pytest.mark.slow

USERS = [f"crash-{i}" for i in range(40)]
GOAL = "first-login"  # a login goal: its raw `progress` keeps counting logins after it completes
CLIENTS = 4  # event clients, each with its own HTTP/2 connection
IN_FLIGHT = 8  # concurrent calls per client


@dataclass
class Tally:
    """What the clients sent and what the service acknowledged, per user, over every round."""

    sent: Counter[str] = field(default_factory=Counter)
    acked: Counter[str] = field(default_factory=Counter)
    ids: list[tuple[str, str]] = field(default_factory=list)  # (user, event id) of every call made
    serial: itertools.count[int] = field(default_factory=itertools.count)


@dataclass
class Round:
    sent: int
    acked: int
    acked_by_user: Counter[str]
    ack_times: list[float]
    killed_at: float


async def _seed(database_url: str) -> None:
    await seed_many(
        database_url, [(user, GOAL) for user in USERS], challenge_id="onboarding", status="in_progress"
    )


async def _stream_then_kill(
    env: dict[str, str], tally: Tally, *, after_acks: int | None = None, after_s: float | None = None
) -> Round:
    """Start the service, send logins with unique ids from CLIENTS × IN_FLIGHT concurrent callers, and
    SIGKILL the process right after the `after_acks`-th answer (or `after_s` seconds into the stream)."""
    process = await restart(env)
    channels = [Channel("127.0.0.1", int(env["GRPC_PORT"])) for _ in range(CLIENTS)]
    killed = asyncio.Event()
    acked_by_user: Counter[str] = Counter()
    ack_times: list[float] = []
    sent = 0
    killed_at = 0.0

    def kill() -> None:
        nonlocal killed_at
        if not killed.is_set():
            os.kill(process.pid, signal.SIGKILL)
            killed_at = time.monotonic()
            killed.set()

    async def caller(client: EventClient) -> None:
        nonlocal sent
        while not killed.is_set():
            serial = next(tally.serial)
            user = USERS[serial % len(USERS)]
            event_id = f"crash-evt-{serial}"
            tally.sent[user] += 1
            tally.ids.append((user, event_id))
            sent += 1
            try:
                await client.login(user, event_id=event_id)
            except Exception:
                if killed.is_set():
                    return  # the process is gone: this call is not acknowledged
                raise
            # OK: acknowledged, even if it arrives just after the kill (it was sent before dying).
            tally.acked[user] += 1
            acked_by_user[user] += 1
            ack_times.append(time.monotonic())
            if after_acks is not None and len(ack_times) >= after_acks:
                kill()

    async def timer() -> None:
        if after_s is not None:
            await asyncio.sleep(after_s)  # the moment of the kill is what this round varies, not a wait
            kill()

    try:
        clock = asyncio.create_task(timer())
        await asyncio.wait_for(
            asyncio.gather(*(caller(EventClient(channel)) for channel in channels for _ in range(IN_FLIGHT))),
            timeout=60,
        )
        await clock
    finally:
        for channel in channels:
            channel.close()
        if process.poll() is None:
            process.kill()
        await asyncio.to_thread(process.wait)
    assert killed.is_set() and process.returncode == -signal.SIGKILL
    return Round(sent, len(ack_times), acked_by_user, ack_times, killed_at)


async def test_durable_mode_loses_no_acknowledged_event_across_three_sigkills(database_url: str) -> None:
    await _seed(database_url)
    env = service_env(database_url, EVENT_ACK_MODE="durable")
    tally = Tally()
    for kill_after in (50, 200, 500):
        before = await progress_of(database_url, GOAL)
        outcome = await _stream_then_kill(env, tally, after_acks=kill_after)
        found = await progress_of(database_url, GOAL)
        applied = sum(found.values()) - sum(before.values())
        print(
            f"\ndurable, SIGKILL after {kill_after} acks: sent {outcome.sent}, acknowledged {outcome.acked},"
            f" applied {applied} (found {sum(found.values())} in total, {sum(tally.acked.values())}"
            " acknowledged in total)"
        )
        assert outcome.acked >= kill_after
        for user in USERS:
            # Every acknowledged event is in; nothing is counted twice (a call in flight at the kill may
            # or may not have committed: it was not acknowledged, so either is allowed).
            assert tally.acked[user] <= found[user] <= tally.sent[user], user

    # Restart; the event bus redelivers every event sent (acknowledged or not): each is applied once.
    process = await restart(env)
    try:
        channels = [Channel("127.0.0.1", int(env["GRPC_PORT"])) for _ in range(CLIENTS)]
        clients = [EventClient(channel) for channel in channels]
        semaphore = asyncio.Semaphore(CLIENTS * IN_FLIGHT)

        async def redeliver(index: int, user: str, event_id: str) -> None:
            async with semaphore:
                await clients[index % CLIENTS].login(user, event_id=event_id)

        await asyncio.gather(*(redeliver(i, user, eid) for i, (user, eid) in enumerate(tally.ids)))
        for channel in channels:
            channel.close()
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert await progress_of(database_url, GOAL) == tally.sent


async def test_buffered_mode_reports_the_acknowledged_events_a_kill_loses(database_url: str) -> None:
    await _seed(database_url)
    interval_s = 0.2
    env = service_env(database_url, EVENT_ACK_MODE="buffered", FLUSH_INTERVAL_MS=str(int(interval_s * 1000)))
    tally = Tally()
    for after_s in (0.5, 0.9, 1.3):
        before = await progress_of(database_url, GOAL)
        outcome = await _stream_then_kill(env, tally, after_s=after_s)
        found = await progress_of(database_url, GOAL)
        lost = sum(max(outcome.acked_by_user[u] - (found[u] - before[u]), 0) for u in USERS)
        rate = outcome.acked / max(outcome.ack_times[-1] - outcome.ack_times[0], 1e-3)
        recent = sum(1 for t in outcome.ack_times if t >= outcome.killed_at - 2 * interval_s)
        print(
            f"\nbuffered ({int(interval_s * 1000)} ms), SIGKILL {after_s} s into the stream:"
            f" sent {outcome.sent}, acknowledged {outcome.acked}, lost {lost} acknowledged"
            f" (= {lost / rate * 1000:.0f} ms of acks at {rate:.0f}/s;"
            f" {recent} were acknowledged in the last {int(2 * interval_s * 1000)} ms)"
        )
        assert 0 <= lost <= outcome.acked
        for user in USERS:
            assert found[user] <= tally.sent[user], user  # whatever survived was applied once

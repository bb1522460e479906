"""The batch call under `kill -9` and with two replicas on one database (the real command).

Durable mode: every event of every call that answered is in the database after a SIGKILL, at three
different moments, and a redelivery of every call sent is applied exactly once. Two replicas receiving
overlapping batches (the same ids sent to both) count every event once.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
from collections import Counter
from dataclasses import dataclass, field

import pytest
from grpclib.client import Channel

from challenge_service.events.proto.challenge.events.v1 import events_pb2
from tests.helpers.db import progress_of, seed_many
from tests.helpers.events import EventClient, StartService, login_event
from tests.helpers.process import restart, service_env

pytestmark = pytest.mark.slow

USERS = [f"batch-crash-{i}" for i in range(40)]
GOAL = "first-login"  # a login goal: its raw progress counts every login, also after it completes
CALLERS = 8  # concurrent callers, two per connection
BATCH = 25  # events per call


def _clients(port: int) -> list[EventClient]:
    return [EventClient(Channel("127.0.0.1", port)) for _ in range(CALLERS // 2)]


def _close(clients: list[EventClient]) -> None:
    for client in clients:
        client.channel.close()


@dataclass
class Tally:
    """What the callers sent and what the service acknowledged, per user, over every round."""

    sent: Counter[str] = field(default_factory=Counter)
    acked: Counter[str] = field(default_factory=Counter)
    calls: list[list[events_pb2.Event]] = field(default_factory=list)  # every call made
    serial: itertools.count[int] = field(default_factory=itertools.count)

    def next_batch(self) -> list[events_pb2.Event]:
        events = []
        for _ in range(BATCH):
            number = next(self.serial)
            user = USERS[number % len(USERS)]
            events.append(login_event(user, f"batch-crash-{number}"))
            self.sent[user] += 1
        self.calls.append(events)
        return events


async def _publish_then_kill(env: dict[str, str], tally: Tally, kill_after: int) -> None:
    """Start the service, publish from CALLERS concurrent callers, SIGKILL it right after the
    `kill_after`-th answer."""
    process = await restart(env)
    clients = _clients(int(env["GRPC_PORT"]))
    killed = asyncio.Event()
    answered = 0

    async def caller(client: EventClient) -> None:
        nonlocal answered
        while not killed.is_set():
            events = tally.next_batch()
            try:
                results = await client.publish(*events)
            except Exception:
                if killed.is_set():
                    return  # the process is gone: this call is not acknowledged
                raise
            assert results == [(0, "")] * BATCH
            tally.acked.update(event.user_id for event in events)
            answered += 1
            if answered >= kill_after and not killed.is_set():
                os.kill(process.pid, signal.SIGKILL)  # right after an answer, mid-stream
                killed.set()

    try:
        await asyncio.wait_for(
            asyncio.gather(*(caller(clients[i % len(clients)]) for i in range(CALLERS))), timeout=60
        )
    finally:
        _close(clients)
        if process.poll() is None:
            process.kill()
        await asyncio.to_thread(process.wait)
    assert process.returncode == -signal.SIGKILL


async def test_no_acknowledged_batch_is_lost_across_three_sigkills(database_url: str) -> None:
    await seed_many(
        database_url, [(user, GOAL) for user in USERS], challenge_id="onboarding", status="in_progress"
    )
    env = service_env(database_url, EVENT_ACK_MODE="durable")
    tally = Tally()
    for kill_after in (3, 10, 30):
        await _publish_then_kill(env, tally, kill_after)
        found = await progress_of(database_url, GOAL)
        for user in USERS:
            # Every acknowledged event is in; none twice (an unanswered call may or may not have
            # committed).
            assert tally.acked[user] <= found[user] <= tally.sent[user], user

    # Restart; every call is delivered again: each event is applied once.
    process = await restart(env)
    clients = _clients(int(env["GRPC_PORT"]))
    try:
        semaphore = asyncio.Semaphore(CALLERS)

        async def redeliver(index: int, events: list[events_pb2.Event]) -> None:
            async with semaphore:
                assert await clients[index % len(clients)].publish(*events) == [(0, "")] * len(events)

        await asyncio.gather(*(redeliver(i, events) for i, events in enumerate(tally.calls)))
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 15)
    finally:
        _close(clients)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert await progress_of(database_url, GOAL) == tally.sent


async def test_two_replicas_count_every_batched_event_once(start_service: StartService) -> None:
    a = await start_service()  # replica A in this process, replica B the real command
    users = [f"rep-{i}" for i in range(30)]
    await seed_many(
        a.database_url, [(user, GOAL) for user in users], challenge_id="onboarding", status="in_progress"
    )
    env = service_env(a.database_url)
    process = await restart(env)
    b = EventClient(Channel("127.0.0.1", int(env["GRPC_PORT"])))
    try:
        calls = []
        for round_ in range(6):
            own_a = [login_event(user, f"a-{round_}-{user}") for user in users]
            own_b = [login_event(user, f"b-{round_}-{user}") for user in users]
            shared = [login_event(user, f"shared-{round_}-{user}") for user in users]
            anonymous = [login_event(user) for user in users]  # no id: every delivery counts
            calls += [a.client.publish(*own_a, *shared), b.publish(*shared, *own_b), b.publish(*anonymous)]
        results = await asyncio.gather(*calls)
    finally:
        b.channel.close()
        process.terminate()
        await asyncio.to_thread(process.wait, 15)
    assert all(code == 0 for result in results for code, _ in result)
    assert await progress_of(a.database_url, GOAL) == Counter({user: 6 * 4 for user in users})

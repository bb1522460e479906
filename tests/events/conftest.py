"""Event tests: the service started with chosen settings, a real gRPC channel, rows seeded in SQL.

Rows are created directly in `user_goal_progress` (as initialize / set-active would) so these tests
depend only on the event path.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from grpclib.client import Channel

from challenge_service.app import Service
from challenge_service.events.proto.accelbyte.iam.account.v1 import account_grpc, account_pb2
from challenge_service.events.proto.accelbyte.social.statistic.v1 import statistic_grpc, statistic_pb2
from challenge_service.events.proto.challenge.events.v1 import events_grpc, events_pb2
from challenge_service.rules.progress import Progress
from challenge_service.store.embedded import EmbeddedPostgres
from challenge_service.store.migrations import migrate
from tests.conftest import make_settings

NAMESPACE = "accelbyte"


@dataclass
class EventClient:
    """Stubs for the two AGS methods and the batch call over one real HTTP/2 channel."""

    channel: Channel

    async def login(
        self, user_id: str = "", *, event_id: str = "", namespace: str = NAMESPACE, **kw: Any
    ) -> None:
        request = account_pb2.UserLoggedIn(user_id=user_id, id=event_id, namespace=namespace, **kw)
        await account_grpc.UserAuthenticationUserLoggedInServiceStub(self.channel).OnMessage(
            request, timeout=15
        )

    async def stat(
        self,
        user_id: str,
        stat_code: str,
        value: float,
        inc: float = 0.0,
        *,
        event_id: str = "",
        namespace: str = NAMESPACE,
    ) -> None:
        request = statistic_pb2.StatItemUpdated(
            user_id=user_id,
            id=event_id,
            namespace=namespace,
            payload=statistic_pb2.StatItem(stat_code=stat_code, latest_value=value, inc=inc, user_id=user_id),
        )
        await self.send_stat(request)

    async def send_stat(self, request: statistic_pb2.StatItemUpdated) -> None:
        await statistic_grpc.StatisticStatItemUpdatedServiceStub(self.channel).OnMessage(request, timeout=15)

    async def publish(self, *events: events_pb2.Event) -> list[tuple[int, str]]:
        """One batch call; (code, message) per event, in order."""
        response = await events_grpc.EventIngestStub(self.channel).Publish(
            events_pb2.PublishRequest(events=events), timeout=15
        )
        return [(result.code, result.message) for result in response.results]


def login_event(user_id: str, event_id: str = "", namespace: str = "") -> events_pb2.Event:
    return events_pb2.Event(id=event_id, user_id=user_id, namespace=namespace, login=events_pb2.Login())


def stat_event(
    user_id: str, stat_code: str, value: float, inc: float = 0.0, event_id: str = "", namespace: str = ""
) -> events_pb2.Event:
    stat = events_pb2.Stat(stat_code=stat_code, latest_value=value, inc=inc)
    return events_pb2.Event(id=event_id, user_id=user_id, namespace=namespace, stat=stat)


@dataclass
class Started:
    service: Service
    client: EventClient
    database_url: str
    stopped: bool = False

    async def stop(self) -> None:
        """Stop now (the fixture then leaves this one alone)."""
        self.stopped = True
        await self.service.stop()
        self.client.channel.close()


StartService = Callable[..., Awaitable[Started]]


@pytest.fixture
async def start_service(database_url: str) -> AsyncIterator[StartService]:
    """Start the whole service in-process with settings overrides; everything stops at the end."""
    started: list[Started] = []

    async def start(url: str | None = None, **overrides: object) -> Started:
        settings = make_settings(url or database_url, **overrides)
        service = Service(settings, host="127.0.0.1")
        await service.start()
        one = Started(service, EventClient(Channel("127.0.0.1", settings.grpc_port)), url or database_url)
        started.append(one)
        return one

    yield start
    for one in reversed(started):
        if not one.stopped:
            await one.stop()


async def seed(
    database_url: str,
    user_id: str,
    goal_id: str,
    *,
    challenge_id: str = "c",
    progress: int = 0,
    baseline: int | None = None,
    status: str = "not_started",
    is_active: bool = True,
    completed_at: datetime | None = None,
    claimed_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(
            """INSERT INTO user_goal_progress (user_id, goal_id, challenge_id, progress, baseline, status,
                   is_active, assigned_at, completed_at, claimed_at, expires_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, now(), %s, %s, %s)""",
            (
                user_id,
                goal_id,
                challenge_id,
                progress,
                baseline,
                status,
                is_active,
                completed_at,
                claimed_at,
                expires_at,
            ),
        )


async def row(database_url: str, user_id: str, goal_id: str) -> Progress | None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cursor = await conn.execute(
            """SELECT progress, baseline, status, is_active, assigned_at, completed_at, claimed_at, expires_at
               FROM user_goal_progress WHERE user_id = %s AND goal_id = %s""",
            (user_id, goal_id),
        )
        record = await cursor.fetchone()
    return None if record is None else Progress(*record)


@pytest.fixture
async def own_database(tmp_path: Path) -> AsyncIterator[tuple[EmbeddedPostgres, str]]:
    """A PostgreSQL server of this test's own, so the test can stop it."""
    server = EmbeddedPostgres(tmp_path / "pg")
    url = await asyncio.to_thread(server.start)
    await migrate(url)
    yield server, url
    await asyncio.to_thread(server.stop)

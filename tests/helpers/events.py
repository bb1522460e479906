"""The event side over a real HTTP/2 channel: the two AGS methods as AGS drives them, and the batch call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from grpclib.client import Channel

from challenge_service.app import Service
from challenge_service.events import EventPipeline
from challenge_service.events.proto.accelbyte.iam.account.v1 import account_grpc, account_pb2
from challenge_service.events.proto.accelbyte.social.statistic.v1 import statistic_grpc, statistic_pb2
from challenge_service.events.proto.challenge.events.v1 import events_grpc, events_pb2

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

    @property
    def pipeline(self) -> EventPipeline:
        """The running service's event pipeline (its buffer and flusher)."""
        events = self.service._events
        assert events is not None
        return events

    async def stop(self) -> None:
        """Stop now (the fixture then leaves this one alone)."""
        self.stopped = True
        await self.service.stop()
        self.client.channel.close()


StartService = Callable[..., Awaitable[Started]]

"""The event side as AGS drives it: the two gRPC methods over a real HTTP/2 channel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from grpclib.client import Channel

from challenge_service.app import Service
from challenge_service.events.proto.accelbyte.iam.account.v1 import account_grpc, account_pb2
from challenge_service.events.proto.accelbyte.social.statistic.v1 import statistic_grpc, statistic_pb2

NAMESPACE = "accelbyte"


@dataclass
class EventClient:
    """Stubs for the two AGS methods over one real HTTP/2 channel."""

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

"""A do-nothing grpclib server with the service's three event methods: the ceiling the events and
batch benches compare against in the same run.

    .venv/bin/python bench/baseline_grpc.py --port 7565

Same stack as the service (grpclib on uvloop, the same generated messages, request decoding
included); the handlers only read the request and answer `Empty`, or one OK result per event.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

import uvloop
from google.protobuf.empty_pb2 import Empty
from grpclib.server import Server, Stream

from challenge_service.events.proto.accelbyte.iam.account.v1.account_grpc import (
    UserAuthenticationUserLoggedInServiceBase,
)
from challenge_service.events.proto.accelbyte.iam.account.v1.account_pb2 import UserLoggedIn
from challenge_service.events.proto.accelbyte.social.statistic.v1.statistic_grpc import (
    StatisticStatItemUpdatedServiceBase,
)
from challenge_service.events.proto.accelbyte.social.statistic.v1.statistic_pb2 import StatItemUpdated
from challenge_service.events.proto.challenge.events.v1 import events_grpc, events_pb2

_OK = events_pb2.EventResult()


class Login(UserAuthenticationUserLoggedInServiceBase):
    async def OnMessage(self, stream: Stream[UserLoggedIn, Empty]) -> None:
        await stream.recv_message()
        await stream.send_message(Empty())


class Stat(StatisticStatItemUpdatedServiceBase):
    async def OnMessage(self, stream: Stream[StatItemUpdated, Empty]) -> None:
        await stream.recv_message()
        await stream.send_message(Empty())


class Batch(events_grpc.EventIngestBase):
    async def Publish(self, stream: Stream[events_pb2.PublishRequest, events_pb2.PublishResponse]) -> None:
        request = await stream.recv_message()
        assert request is not None
        await stream.send_message(events_pb2.PublishResponse(results=[_OK] * len(request.events)))


async def serve(host: str, port: int) -> None:
    server = Server([Login(), Stat(), Batch()])
    await server.start(host, port)
    print(f"baseline gRPC server on {host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7565)
    args = parser.parse_args()
    uvloop.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()

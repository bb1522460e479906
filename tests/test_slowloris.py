"""Slowloris-style idle connections do not exhaust the server: hundreds of TCP
connections that send nothing, half a request line or half an HTTP/2 preface leave REST and gRPC
answering normal callers promptly."""

from __future__ import annotations

import asyncio
import contextlib
import time

from grpclib.client import Channel
from grpclib.health.v1.health_grpc import HealthStub
from grpclib.health.v1.health_pb2 import HealthCheckRequest, HealthCheckResponse

from challenge_service.app import Service
from tests.helpers.service import RunningService
from tests.helpers.waiting import eventually

HTTP_IDLE = 200
GRPC_IDLE = 50
PROMPT_S = 3.0  # what a normal caller may wait while the idle connections are open

HTTP_TEASERS = (b"", b"GET /challenge/healthz HTTP/1.1\r\nHost: x\r\n", b"GE", b"POST /challenge/v1/")
GRPC_TEASERS = (b"", b"PRI * HTTP/2.0\r\n", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00")


async def _open_idle(port: int, count: int, teasers: tuple[bytes, ...]) -> list[asyncio.StreamWriter]:
    writers = []
    for i in range(count):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        teaser = teasers[i % len(teasers)]
        if teaser:
            writer.write(teaser)
            await writer.drain()
        writers.append(writer)
    return writers


async def _grpc_health(port: int) -> int:
    channel = Channel("127.0.0.1", port)
    try:
        reply = await HealthStub(channel).Check(HealthCheckRequest(service=""), timeout=PROMPT_S)
    finally:
        channel.close()
    return int(reply.status)


def _holds_open(service: Service, http: int, grpc: int) -> bool:
    """Whether the service has accepted at least `http` REST and `grpc` gRPC connections."""
    assert service._grpc is not None
    http_open = sum(len(server.server_state.connections) for server, _ in service._http_servers)
    return http_open >= http and len(service._grpc._handlers) >= grpc


async def test_idle_and_partial_connections_do_not_starve_normal_callers(running: RunningService) -> None:
    settings = running.settings
    writers = await _open_idle(settings.http_port, HTTP_IDLE, HTTP_TEASERS)
    writers += await _open_idle(settings.grpc_port, GRPC_IDLE, GRPC_TEASERS)
    try:
        # The server has accepted them all and is waiting on each.
        await eventually(lambda: _holds_open(running.service, HTTP_IDLE, GRPC_IDLE), 10)
        for _ in range(3):
            started = time.monotonic()
            health = await asyncio.wait_for(running.http.get(f"{running.base}/healthz"), timeout=PROMPT_S)
            assert health.status_code == 200
            listing = await asyncio.wait_for(
                running.http.get(f"{running.base}/v1/challenges", headers={"X-Mock-User-Id": "u1"}),
                timeout=PROMPT_S,
            )
            assert listing.status_code == 200
            assert await _grpc_health(settings.grpc_port) == HealthCheckResponse.SERVING
            assert time.monotonic() - started < PROMPT_S
            # Trickle one more byte on every idle connection, as a slowloris client does.
            for writer in writers:
                if not writer.is_closing():
                    writer.write(b"X")
            await asyncio.sleep(0.2)  # a slowloris client's trickle pace: the behaviour under test
    finally:
        for writer in writers:
            writer.close()
        for writer in writers:
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    # And after they are gone, the service is still fine.
    assert (await running.http.get(f"{running.base}/healthz")).status_code == 200
    assert await _grpc_health(settings.grpc_port) == HealthCheckResponse.SERVING

from __future__ import annotations

import asyncio

import httpx
from grpclib.client import Channel
from grpclib.health.v1.health_grpc import HealthStub
from grpclib.health.v1.health_pb2 import HealthCheckRequest, HealthCheckResponse

from challenge_service.store.embedded import EmbeddedPostgres
from tests.helpers.service import RunningService, in_process, make_settings
from tests.helpers.waiting import eventually


async def test_healthz_answers_without_auth(running: RunningService) -> None:
    response = await running.http.get("/challenge/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy"}
    assert response.headers["content-type"] == "application/json"


async def test_grpc_health_is_serving(running: RunningService) -> None:
    channel = Channel("127.0.0.1", running.settings.grpc_port)
    try:
        reply = await HealthStub(channel).Check(HealthCheckRequest(service=""))
    finally:
        channel.close()
    assert reply.status == HealthCheckResponse.SERVING


async def _status(http: httpx.AsyncClient, grpc: HealthStub) -> tuple[int, int]:
    http_status = (await http.get("/challenge/healthz")).status_code
    grpc_status = (await grpc.Check(HealthCheckRequest(service=""))).status
    return http_status, grpc_status


async def _reaches(expected: tuple[int, int], http: httpx.AsyncClient, grpc: HealthStub) -> None:
    # The gRPC check caches its result for one second: poll for the answer.
    async def answers() -> bool:
        return await _status(http, grpc) == expected

    await eventually(answers, 20, interval_s=0.1)


async def test_health_goes_503_while_the_database_is_down_and_back(
    own_database: tuple[EmbeddedPostgres, str],
) -> None:
    server, url = own_database
    async with in_process(make_settings(url)) as running:
        channel = Channel("127.0.0.1", running.settings.grpc_port)
        try:
            http, grpc = running.http, HealthStub(channel)
            serving, not_serving = HealthCheckResponse.SERVING, HealthCheckResponse.NOT_SERVING
            await _reaches((200, serving), http, grpc)

            await asyncio.to_thread(server.stop)
            await _reaches((503, not_serving), http, grpc)
            body = (await http.get("/challenge/healthz")).json()
            assert body == {"status": "unhealthy"}
            # The API reports the outage as a stable error rather than a 500.
            listing = await http.get("/challenge/v1/challenges", headers={"X-Mock-User-Id": "u1"})
            assert listing.status_code == 503
            assert listing.json()["errorCode"] == "DATABASE_UNAVAILABLE"

            await asyncio.to_thread(server.start)
            await _reaches((200, serving), http, grpc)
        finally:
            channel.close()

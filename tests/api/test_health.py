from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from grpclib.client import Channel
from grpclib.health.v1.health_grpc import HealthStub
from grpclib.health.v1.health_pb2 import HealthCheckRequest, HealthCheckResponse

from challenge_service.app import Service
from challenge_service.store.embedded import EmbeddedPostgres
from challenge_service.store.migrations import migrate
from tests.conftest import RunningService, make_settings


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


@pytest.fixture
async def own_database(tmp_path: Path) -> AsyncIterator[EmbeddedPostgres]:
    """A PostgreSQL server of this test's own, so the test can stop it."""
    server = EmbeddedPostgres(tmp_path / "pg")
    url = await asyncio.to_thread(server.start)
    await migrate(url)
    server.url = url  # type: ignore[attr-defined]
    yield server
    await asyncio.to_thread(server.stop)


async def _status(http: httpx.AsyncClient, grpc: HealthStub) -> tuple[int, int]:
    http_status = (await http.get("/challenge/healthz")).status_code
    grpc_status = (await grpc.Check(HealthCheckRequest(service=""))).status
    return http_status, grpc_status


async def _eventually(expected: tuple[int, int], http: httpx.AsyncClient, grpc: HealthStub) -> None:
    # The gRPC check caches its result for one second; poll instead of sleeping a fixed time.
    deadline = asyncio.get_running_loop().time() + 20
    while asyncio.get_running_loop().time() < deadline:
        if await _status(http, grpc) == expected:
            return
        await asyncio.sleep(0.1)
    assert await _status(http, grpc) == expected


async def test_health_goes_503_while_the_database_is_down_and_back(own_database: EmbeddedPostgres) -> None:
    settings = make_settings(own_database.url)  # type: ignore[attr-defined]
    service = Service(settings, host="127.0.0.1")
    await service.start()
    channel = Channel("127.0.0.1", settings.grpc_port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.http_port}", timeout=10) as http:
            grpc = HealthStub(channel)
            serving, not_serving = HealthCheckResponse.SERVING, HealthCheckResponse.NOT_SERVING
            await _eventually((200, serving), http, grpc)

            await asyncio.to_thread(own_database.stop)
            await _eventually((503, not_serving), http, grpc)
            body = (await http.get("/challenge/healthz")).json()
            assert body == {"status": "unhealthy"}
            # The API reports the outage as a stable error rather than a 500.
            listing = await http.get("/challenge/v1/challenges", headers={"X-Mock-User-Id": "u1"})
            assert listing.status_code == 503
            assert listing.json()["errorCode"] == "DATABASE_UNAVAILABLE"

            await asyncio.to_thread(own_database.start)
            await _eventually((200, serving), http, grpc)
    finally:
        channel.close()
        await service.stop()

"""Pool exhausted → 503 UNAVAILABLE with Retry-After (overload), distinct from a database outage."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from challenge_service.app import Service
from tests.helpers.api import assert_error
from tests.helpers.service import make_settings


@pytest.fixture
async def one_connection_service(database_url: str) -> AsyncIterator[Service]:
    service = Service(make_settings(database_url, pool_size=1), host="127.0.0.1")
    await service.start()
    yield service
    await service.stop()


async def test_an_exhausted_pool_answers_503_unavailable_then_recovers(
    one_connection_service: Service,
) -> None:
    service = one_connection_service
    assert service.services is not None
    url = f"http://127.0.0.1:{service.settings.http_port}/challenge/v1/challenges"
    async with httpx.AsyncClient(timeout=10) as http:
        async with service.services.pool.connection():  # hold the only connection
            busy = await http.get(url, headers={"X-Mock-User-Id": "u1"})
        assert_error(busy, 503, 14, "UNAVAILABLE", "the service is overloaded; retry shortly")
        assert busy.headers["retry-after"] == "1"
        assert (await http.get(url, headers={"X-Mock-User-Id": "u1"})).status_code == 200

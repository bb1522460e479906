"""Idle keep-alive connections stay open for HTTP_KEEPALIVE_S, so a load balancer reusing one is not reset.

A load balancer keeps idle connections to its backends for up to 60 s and sends the next player's
request on one of them; uvicorn's own default closed them after 5 s idle, and a request racing that
close was reset. These tests speak HTTP/1.1 on a raw socket, as a load balancer does: an HTTP client
library would quietly open a new connection and hide the close.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from challenge_service.app import Service
from tests.helpers.service import RunningService, make_settings

# Longer than uvicorn's default keep-alive (5 s), by more than timer jitter on a busy machine.
IDLE_S = 6.0
REQUEST = b"GET /challenge/healthz HTTP/1.1\r\nHost: service\r\n\r\n"

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@asynccontextmanager
async def connect(port: int) -> AsyncIterator[Connection]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield reader, writer
    finally:
        writer.close()


async def get(connection: Connection) -> int:
    """Send one request on the connection and read the whole response; returns its status."""
    reader, writer = connection
    writer.write(REQUEST)
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if line)
    assert "close" not in headers.get("connection", ""), "the server wants to close this connection"
    await reader.readexactly(int(headers["content-length"]))
    return int(lines[0].split()[1])


async def test_an_idle_connection_outlives_uvicorns_old_five_seconds(running: RunningService) -> None:
    assert running.settings.http_keepalive_s == 75
    async with connect(running.settings.http_port) as connection:
        assert await get(connection) == 200
        # The idle time is what is being tested, not a guess at when something else is done.
        await asyncio.sleep(IDLE_S)
        assert await get(connection) == 200


async def test_the_server_closes_a_connection_idle_for_http_keepalive_s(database_url: str) -> None:
    # With a keep-alive of 1 s the close comes after about 1 s of silence; with 75 s, or uvicorn's 5 s,
    # it would not come within the wait: the setting decides how long an idle connection lives.
    service = Service(make_settings(database_url, http_keepalive_s=1), host="127.0.0.1")
    await service.start()
    try:
        async with connect(service.settings.http_port) as connection:
            assert await get(connection) == 200
            idle_since = time.monotonic()
            reader, _ = connection
            assert await asyncio.wait_for(reader.read(), timeout=4) == b""
            assert time.monotonic() - idle_since >= 0.9
    finally:
        await service.stop()

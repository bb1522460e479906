"""Broken, truncated and huge protobuf on both AGS methods: a clear status, no crash, no changed row."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from grpclib.client import Channel, UnaryUnaryMethod
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from tests.conftest import RunningService
from tests.events.test_proto_wire import LOGIN_BYTES, LOGIN_PATH, STAT_BYTES, STAT_PATH
from tests.helpers.protowire import RawCodec, f_str

BROKEN = {
    "garbage": b"\xff\xff\xff\xff\xff",
    "truncated login": LOGIN_BYTES[: len(LOGIN_BYTES) // 2],
    "truncated stat": STAT_BYTES[:-3],
    "length beyond the end": b"\x4a\x7fshort",
    "wrong wire type for user_id": b"\x48\x01",
}


async def _call(running: RunningService, path: str, body: bytes) -> bytes:
    channel = Channel("127.0.0.1", running.settings.grpc_port, codec=RawCodec())
    try:
        reply: bytes = await UnaryUnaryMethod(channel, path, bytes, bytes)(body, timeout=10)
        return reply
    finally:
        channel.close()


async def _rows(running: RunningService) -> list[Any]:
    async with await psycopg.AsyncConnection.connect(running.settings.database_url) as conn:
        cursor = await conn.execute(
            "SELECT user_id, goal_id, progress, status FROM user_goal_progress ORDER BY 1, 2"
        )
        return await cursor.fetchall()


@pytest.mark.parametrize("path", [LOGIN_PATH, STAT_PATH])
@pytest.mark.parametrize("name", list(BROKEN))
async def test_broken_bytes_are_refused_and_nothing_changes(
    running: RunningService, path: str, name: str
) -> None:
    response = await running.http.post(
        "/challenge/v1/challenges/initialize", headers={"X-Mock-User-Id": "u-1"}
    )
    assert response.status_code == 200
    before = await _rows(running)
    with pytest.raises(GRPCError) as raised:
        await _call(running, path, BROKEN[name])
    assert raised.value.status == Status.INVALID_ARGUMENT, raised.value
    assert await _rows(running) == before
    # The server is still there and still applies a good event.
    assert await _call(running, path, LOGIN_BYTES if path == LOGIN_PATH else STAT_BYTES) == b""


@pytest.mark.parametrize("path", [LOGIN_PATH, STAT_PATH])
async def test_a_huge_message_is_answered_without_harm(running: RunningService, path: str) -> None:
    huge = f_str(9, "u" * 4_000_000)  # a 4 MB user_id
    with pytest.raises(GRPCError) as raised:
        await _call(running, path, huge)
    assert raised.value.status in (Status.INVALID_ARGUMENT, Status.RESOURCE_EXHAUSTED)
    assert await _rows(running) == []

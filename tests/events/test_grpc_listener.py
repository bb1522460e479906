"""Shutdown stops listening for gRPC before the drain, through grpclib's private `Server._server`.

grpclib (0.4.9, the latest release) has no public way to close the listening socket without
cancelling running handlers: `Server.close()` does both. So `EventPipeline.stop` closes the
`asyncio.Server` grpclib keeps in `_server`. These tests fail if a grpclib upgrade changes that: the
attribute must still be the listener, and closing it must refuse new connections while a call that
is already running still gets its answer.
"""

from __future__ import annotations

import asyncio

import psycopg

from challenge_service.events import EventPipeline
from tests.helpers.db import row, seed
from tests.helpers.events import StartService
from tests.helpers.waiting import eventually


async def _refused(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except (ConnectionRefusedError, ConnectionResetError):  # reset: queued when the listener closed
        return True
    writer.close()
    return False


async def test_grpclib_keeps_its_listener_in_the_private_server_attribute(
    start_service: StartService,
) -> None:
    svc = await start_service()
    listener = getattr(svc.service._grpc, "_server", None)
    assert isinstance(listener, asyncio.AbstractServer)
    assert listener.is_serving()


async def test_after_the_stop_begins_new_connections_are_refused_and_a_running_call_is_answered(
    start_service: StartService,
) -> None:
    svc = await start_service()  # durable: a call is answered once its flush commits
    events = svc.service._events
    assert isinstance(events, EventPipeline)
    await seed(svc.database_url, "u1", "first-login")
    async with await psycopg.AsyncConnection.connect(svc.database_url) as blocker:
        # Hold the player's row: the flush that reaches it waits, and so does the call.
        await blocker.execute("SELECT 1 FROM user_goal_progress WHERE user_id = 'u1' FOR UPDATE")
        call = asyncio.create_task(svc.client.login("u1", event_id="running"))
        await eventually(lambda: events.buffer.in_flight > 0, timeout_s=10)  # the flush took it, and waits
        stopping = asyncio.create_task(svc.stop())
        await eventually(lambda: _refused(svc.service.settings.grpc_port), timeout_s=10)
        assert not call.done()
        await blocker.rollback()
    await call  # answered OK, not cancelled
    await stopping
    stored = await row(svc.database_url, "u1", "first-login")
    assert stored is not None and stored.progress == 1

"""Event tests: the service started with chosen settings and a real gRPC channel.

Rows are seeded directly in `user_goal_progress` (`tests.helpers.db`, as initialize / set-active would
leave them) so these tests depend only on the event path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from grpclib.client import Channel

from challenge_service.app import Service
from tests.helpers.events import EventClient, Started, StartService
from tests.helpers.service import make_settings


@pytest.fixture
async def start_service(database_url: str) -> AsyncIterator[StartService]:
    """Start the whole service in-process with settings overrides; everything stops at the end."""
    started: list[Started] = []

    async def start(url: str | None = None, **overrides: object) -> Started:
        settings = make_settings(url or database_url, **overrides)
        service = Service(settings, host="127.0.0.1")
        await service.start()
        one = Started(service, EventClient(Channel("127.0.0.1", settings.grpc_port)), url or database_url)
        started.append(one)
        return one

    yield start
    for one in reversed(started):
        if not one.stopped:
            await one.stop()

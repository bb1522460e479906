"""The service on the design catalog (tests/fixtures/design_challenges.json): a weekend event with a
window, a 04:00 Tokyo daily that is auto-claimed, a per-player 24 h goal, a goal with two rewards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from grpclib.client import Channel

from tests.helpers.events import EventClient
from tests.helpers.service import REPO, RunningService, in_process, make_settings, user

DESIGN_CATALOG = REPO / "tests" / "fixtures" / "design_challenges.json"
# The weekend challenge's window is 2026-07-04T00:00Z … 2026-07-06T00:00Z, claimable for 24 h after.
FRIDAY = datetime(2026, 7, 3, 12, tzinfo=UTC)  # upcoming
SATURDAY = datetime(2026, 7, 4, 12, tzinfo=UTC)  # live; 21:00 in Tokyo
MONDAY = datetime(2026, 7, 6, 12, tzinfo=UTC)  # ended, inside the claim grace
TUESDAY = datetime(2026, 7, 7, 1, tzinfo=UTC)  # ended, grace over


@asynccontextmanager
async def design_service(database_url: str, **options: Any) -> AsyncIterator[RunningService]:
    """The service on the design catalog; `options` go to `Service` (the background tasks' policies)."""
    settings = make_settings(database_url, challenge_config_path=str(DESIGN_CATALOG))
    async with in_process(settings, **options) as running:
        yield running


async def initialize(running: RunningService, player: str) -> dict[str, Any]:
    response = await running.http.post(f"{running.base}/v1/challenges/initialize", headers=user(player))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@asynccontextmanager
async def events_of(running: RunningService) -> AsyncIterator[EventClient]:
    channel = Channel("127.0.0.1", running.settings.grpc_port)
    try:
        yield EventClient(channel)
    finally:
        channel.close()

"""The service as the tests run it: settings on free ports, the in-process service, its clock."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from challenge_service.app import Service
from challenge_service.settings import DatabaseSettings, Settings
from tests.helpers.clock import Clock

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_settings(database_url: str, *, pool_size: int = 10, **overrides: object) -> Settings:
    """Dev-mode settings (mock auth and rewards, the repository's challenges.json) on free ports."""
    settings = Settings(
        http_port=free_port(),
        grpc_port=free_port(),
        metrics_port=0,
        database=DatabaseSettings(url=database_url, pool_size=pool_size),
        challenge_config_path=str(REPO / "challenges.json"),
        auth_enabled=False,
        reward_client_mode="mock",
    )
    return replace(settings, **overrides)  # type: ignore[arg-type]


@dataclass
class RunningService:
    service: Service
    settings: Settings
    http: httpx.AsyncClient

    @property
    def base(self) -> str:
        return self.settings.base_path


@asynccontextmanager
async def in_process(settings: Settings, **options: Any) -> AsyncIterator[RunningService]:
    """The whole service in this process with a REST client on its port; stopped at the end. `options`
    go to `Service` (the background tasks' policies)."""
    service = Service(settings, host="127.0.0.1", **options)
    await service.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.http_port}", timeout=10) as http:
            yield RunningService(service, settings, http)
    finally:
        await service.stop()


def set_clock(running: RunningService, now: datetime) -> Clock:
    """Stop the service's clock at `now`; move it by setting the returned clock's `now`."""
    assert running.service.services is not None
    clock = Clock(now)
    running.service.services.clock = clock
    return clock


def user(user_id: str) -> dict[str, str]:
    """The dev-mode header that names the calling player."""
    return {"X-Mock-User-Id": user_id}


def operator(operator_id: str) -> dict[str, str]:
    """The dev-mode headers of an operator: `X-Mock-Admin` stands for the AGS admin permission, the id
    is who the audit trail records (`mock:<id>`)."""
    return {**user(operator_id), "X-Mock-Admin": "true"}

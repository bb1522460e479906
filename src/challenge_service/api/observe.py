"""Per request: one log line (method, route template, status, duration, user) and the REST metrics.

A plain ASGI wrapper around the Litestar app, so it also sees 404/405 answers that never reach a route.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from challenge_service.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = structlog.get_logger("challenge_service.http")


class ObserveRequests:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_capturing_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_capturing_status)
        finally:
            elapsed = time.perf_counter() - started
            state: dict[str, Any] = scope.get("state") or {}
            # Unmatched paths share one label value so scanners cannot blow up the metric's cardinality.
            route = scope.get("path_template") or "<unmatched>"
            method, code = scope["method"], str(status)
            HTTP_REQUESTS.labels(route, method, code).inc()
            HTTP_LATENCY.labels(route, method, code).observe(elapsed)
            log.info(
                "request",
                method=method,
                route=scope.get("path_template") or scope["path"],
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                user_id=state.get("user_id", ""),
            )

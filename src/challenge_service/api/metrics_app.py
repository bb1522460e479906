"""`GET /metrics` as a bare ASGI app: on its own port, or in front of the REST app when METRICS_PORT=0."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from challenge_service.metrics import exposition


async def metrics_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != ScopeType.HTTP:
        return
    if scope["path"] != "/metrics":
        await _plain(send, 404, b"not found\n")
        return
    body, content_type = exposition()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


def with_metrics(app: ASGIApp) -> ASGIApp:
    """Serve `/metrics` on the same port as `app` (METRICS_PORT=0)."""

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and scope["path"] == "/metrics":
            await metrics_app(scope, receive, send)
        else:
            await app(scope, receive, send)

    return dispatch

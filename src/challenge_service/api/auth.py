"""Who is calling (SPEC §4): a verified AGS token, or in mock mode the `X-Mock-User-Id` header."""

from __future__ import annotations

import structlog

from challenge_service.api.deps import Authenticator

log = structlog.get_logger(__name__)

MOCK_DEFAULT_USER = "test-user-id"


def mock_authenticator() -> Authenticator:
    log.warning(
        "AUTH IS DISABLED (PLUGIN_GRPC_SERVER_AUTH_ENABLED=false): any caller can act as any player "
        "via X-Mock-User-Id; never run this way in production"
    )

    async def authenticate(headers: dict[str, str]) -> str:
        # Header names arrive lower-cased from the ASGI server, so any spelling matches.
        return headers.get("x-mock-user-id") or MOCK_DEFAULT_USER

    return authenticate

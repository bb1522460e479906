"""Who is calling (SPEC §4): a verified AGS token, or in mock mode the `X-Mock-User-Id` header."""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from challenge_service.api.deps import Authenticator
from challenge_service.auth import JwksVerifier, parse_bearer

log = structlog.get_logger(__name__)

MOCK_DEFAULT_USER = "test-user-id"


def mock_authenticator() -> Authenticator:
    log.warning(
        "AUTH IS DISABLED (PLUGIN_GRPC_SERVER_AUTH_ENABLED=false): any caller can act as any player "
        "via X-Mock-User-Id; never run this way in production"
    )

    async def authenticate(headers: Mapping[str, str]) -> str:
        # Header names arrive lower-cased from the ASGI server, so any spelling matches.
        return headers.get("x-mock-user-id") or MOCK_DEFAULT_USER

    return authenticate


def jwt_authenticator(verifier: JwksVerifier) -> Authenticator:
    async def authenticate(headers: Mapping[str, str]) -> str:
        # An AuthError leaves as 401 or 403 through api/errors.py.
        return await verifier.verify(parse_bearer(headers.get("authorization")))

    return authenticate

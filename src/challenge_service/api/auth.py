"""Who is calling: a verified AGS token, or in mock mode the `X-Mock-User-Id` header.

Both authenticators return a `Caller`; the operator routes check its permissions (`api/deps.py`), so
they go through exactly the token verification the player routes do.
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from challenge_service.api.deps import Authenticator
from challenge_service.auth import JwksVerifier, parse_bearer
from challenge_service.auth.permissions import ALL_ACTIONS, Caller, admin_resource

log = structlog.get_logger(__name__)

MOCK_DEFAULT_USER = "test-user-id"


def mock_authenticator(namespace: str) -> Authenticator:
    log.warning(
        "AUTH IS DISABLED (PLUGIN_GRPC_SERVER_AUTH_ENABLED=false): any caller can act as any player "
        "via X-Mock-User-Id, and as an operator via X-Mock-Admin: true; never run this way in production"
    )
    # `X-Mock-Admin: true` stands for the operator permission, every action included.
    admin = [{"resource": admin_resource(namespace), "action": int(ALL_ACTIONS)}]

    async def authenticate(headers: Mapping[str, str]) -> Caller:
        # Header names arrive lower-cased from the ASGI server, so any spelling matches.
        user_id = headers.get("x-mock-user-id") or MOCK_DEFAULT_USER
        is_admin = headers.get("x-mock-admin", "").strip().lower() == "true"
        # Audit records name a mock operator as such: nobody proved who they are.
        return Caller(user_id, namespace, admin if is_admin else (), actor=f"mock:{user_id}")

    return authenticate


def jwt_authenticator(verifier: JwksVerifier, namespace: str) -> Authenticator:
    async def authenticate(headers: Mapping[str, str]) -> Caller:
        # An AuthError leaves as 401 or 403 through api/errors.py.
        claims = await verifier.verify_claims(parse_bearer(headers.get("authorization")))
        sub: str = claims["sub"]
        return Caller(sub, namespace, claims.get("permissions", ()), actor=sub)

    return authenticate

"""Strict parsing of the ``Authorization`` header (RFC 6750 §2.1)."""

from __future__ import annotations

import re

from challenge_service.auth.errors import AuthError

# Real AGS access tokens are a few KB; the cap keeps a hostile header from reaching the JWT decoder.
MAX_TOKEN_LENGTH = 16 * 1024

# credentials = "Bearer" 1*SP b64token. We accept exactly one space, as every real client sends, so that
# sloppy or smuggled variants ("Bearer  x", "Bearer x y", trailing blanks) fail instead of half-parsing.
_BEARER = re.compile(r"(?P<scheme>[A-Za-z]+) (?P<token>[A-Za-z0-9\-._~+/]+=*)")


def parse_bearer(header_value: str | None) -> str:
    """Return the token of an ``Authorization: Bearer <token>`` header, or raise ``AuthError(401)``."""
    if header_value is None or header_value == "":
        raise AuthError("missing bearer token")
    if len(header_value) > MAX_TOKEN_LENGTH:
        raise AuthError("bearer token too long")
    match = _BEARER.fullmatch(header_value)
    # The auth-scheme is case-insensitive (RFC 9110 §11.1); the token itself is opaque.
    if match is None or match["scheme"].lower() != "bearer":
        raise AuthError("malformed authorization header: expected 'Bearer <token>'")
    return match["token"]

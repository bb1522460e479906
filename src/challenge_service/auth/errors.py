"""The one error type auth raises; the HTTP layer maps it (401 → UNAUTHENTICATED, 403 → PERMISSION_DENIED)."""

from __future__ import annotations

from typing import Literal


class AuthError(Exception):
    """A request is not authenticated (401) or not allowed (403).

    ``message`` is safe to show to the caller: it never contains the token or key material.
    """

    def __init__(self, message: str, status: Literal[401, 403] = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status: Literal[401, 403] = status

    def __repr__(self) -> str:
        return f"AuthError(status={self.status}, message={self.message!r})"

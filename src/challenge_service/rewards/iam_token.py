"""The service's own AGS access token (OAuth2 client credentials), cached until shortly before expiry."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import msgspec

TOKEN_PATH = "/iam/v3/oauth/token"

# Renew this long before IAM's expiry (capped at a tenth of the lifetime for short-lived tokens), so a token
# never expires between being read from the cache and reaching the Platform service.
MAX_RENEW_MARGIN_S = 60.0


class TokenUnavailable(Exception):
    """IAM answered, but not with a token. ``retryable`` is false when the credentials are refused."""

    def __init__(self, message: str, *, retryable: bool, status: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status


class _TokenResponse(msgspec.Struct):
    access_token: str
    expires_in: float


class ClientCredentialsToken:
    """One cached token shared by all grants; concurrent callers wait for a single IAM request."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = base_url.rstrip("/") + TOKEN_PATH
        # httpx.BasicAuth keeps the secret out of reprs and logs of this object.
        self._auth = httpx.BasicAuth(client_id, client_secret)
        self._http = http
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self, timeout_s: float) -> str:
        """The cached token, or a fresh one. Raises ``TokenUnavailable`` or ``httpx.TransportError``."""
        if (token := self._current()) is not None:
            return token
        async with self._lock:
            if (token := self._current()) is not None:  # fetched while we waited for the lock
                return token
            return await self._fetch(timeout_s)

    def invalidate(self, token: str) -> None:
        """Forget ``token`` after Platform refused it. A no-op if another grant already replaced it, so a
        burst of concurrent 401s costs one renewal, not one each."""
        if self._token == token:
            self._token = None

    def _current(self) -> str | None:
        if self._token is not None and self._clock() < self._renew_at:
            return self._token
        return None

    async def _fetch(self, timeout_s: float) -> str:
        started = self._clock()
        response = await self._http.post(
            self._url, data={"grant_type": "client_credentials"}, auth=self._auth, timeout=timeout_s
        )
        status = response.status_code
        if status in (400, 401, 403):
            raise TokenUnavailable(
                f"IAM refused the client credentials (HTTP {status})", retryable=False, status=status
            )
        if not response.is_success:
            raise TokenUnavailable(f"IAM token request failed (HTTP {status})", retryable=True, status=status)
        try:
            body = msgspec.json.decode(response.content, type=_TokenResponse)
        except msgspec.MsgspecError:
            raise TokenUnavailable("IAM token response is not valid", retryable=True, status=status) from None
        margin = min(MAX_RENEW_MARGIN_S, body.expires_in / 10)
        self._token = body.access_token
        self._renew_at = started + body.expires_in - margin
        return body.access_token

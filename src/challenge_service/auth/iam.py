"""The two AGS IAM endpoints token checks read: the signing keys and the revocation list.

Both are fetched with HTTP Basic client credentials (``AB_CLIENT_ID:AB_CLIENT_SECRET``), as AccelByte's
asyncio validator (``iam-python-sdk``) fetches them and as AGS's API declares for the revocation list. A
call without them may be refused by a real AGS, and JWT mode would then fail closed for every player.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx
import structlog

from challenge_service.metrics import IAM_REFRESHES

log = structlog.get_logger(__name__)

Source = Literal["jwks", "revocation_list"]

JWKS_PATH = "/iam/v3/oauth/jwks"
REVOCATION_LIST_PATH = "/iam/v3/oauth/revocationlist"


class IamClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        http: httpx.AsyncClient,
        *,
        timeout_s: float = 5.0,
    ) -> None:
        base = base_url.rstrip("/")
        self.jwks_url = base + JWKS_PATH
        self.revocation_list_url = base + REVOCATION_LIST_PATH
        # httpx.BasicAuth keeps the secret out of reprs and logs of this object.
        self._auth = httpx.BasicAuth(client_id, client_secret)
        self._http = http
        self._timeout_s = timeout_s

    async def jwks(self) -> bytes:
        """The JWKS document. Raises ``httpx.HTTPError`` (transport failure or a non-2xx answer)."""
        return await self._get(self.jwks_url)

    async def revocation_list(self) -> bytes:
        """The revocation list document. Raises ``httpx.HTTPError``."""
        return await self._get(self.revocation_list_url)

    async def _get(self, url: str) -> bytes:
        response = await self._http.get(url, auth=self._auth, timeout=self._timeout_s)
        response.raise_for_status()
        return response.content


def refresh_failed(source: Source, url: str, error: Exception, **context: Any) -> None:
    """Log and count a fetch that left the last good copy in use."""
    IAM_REFRESHES.labels(source, "failed").inc()
    log.error(f"{source}_fetch_failed", url=url, error=type(error).__name__, detail=str(error), **context)


def refreshed(source: Source, url: str, **context: Any) -> None:
    IAM_REFRESHES.labels(source, "ok").inc()
    log.info(f"{source}_refreshed", url=url, **context)

"""AGS IAM's revocation list: tokens revoked one by one (logout, an operator) and users whose every
earlier token was revoked (a ban, "revoke all sessions").

``GET /iam/v3/oauth/revocationlist`` answers ``{"revoked_tokens": {"bits": […], "k": …, "m": …},
"revoked_users": [{"id": "<userId>", "revoked_at": "<RFC 3339>"}]}``. A token is refused when the Bloom
filter holds it, or when its user's entry has ``revoked_at`` at or after the token's ``iat`` — the rule
AGS's own validators apply. The list is fetched off the request path (``auth/refresh.py``); a request
only reads the list currently installed.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec

from challenge_service.auth.bloom import BloomFilter
from challenge_service.auth.errors import AuthError
from challenge_service.auth.iam import IamClient, refresh_failed, refreshed


class _BloomJson(msgspec.Struct):
    bits: list[int]
    k: int
    m: int


class _RevokedUserJson(msgspec.Struct):
    # Optional, as AGS's validators skip incomplete entries rather than distrust the whole list.
    id: str = ""
    revoked_at: datetime | None = None


class _RevocationListJson(msgspec.Struct):
    # A Go service marshals an empty slice or pointer as null.
    revoked_tokens: _BloomJson | None = None
    revoked_users: list[_RevokedUserJson] | None = None


@dataclass(frozen=True, slots=True)
class RevocationList:
    tokens: BloomFilter | None
    users: Mapping[str, float]  # user id → revoked_at, seconds since the epoch

    def refusal(self, token: str, user_id: str, issued_at: float | None) -> str | None:
        """Why ``token`` is refused, or None when it is not revoked."""
        revoked_at = self.users.get(user_id)
        # A token without iat cannot show it was issued after the revocation.
        if revoked_at is not None and (issued_at is None or issued_at <= revoked_at):
            return "token revoked: the user's sessions were revoked"
        if self.tokens is not None and self.tokens.might_contain(token):
            return "token revoked"
        return None


def parse_revocation_list(body: bytes) -> RevocationList:
    """Raises ``ValueError`` (``msgspec.DecodeError`` is one) for a document that is not a usable list."""
    document = msgspec.json.decode(body, type=_RevocationListJson)
    bloom = document.revoked_tokens
    tokens = BloomFilter.from_words(bloom.bits, bloom.k, bloom.m) if bloom is not None else None
    users: dict[str, float] = {}
    for entry in document.revoked_users or ():
        if not entry.id or entry.revoked_at is None:
            continue
        at = entry.revoked_at if entry.revoked_at.tzinfo else entry.revoked_at.replace(tzinfo=UTC)
        users[entry.id] = max(users.get(entry.id, -math.inf), at.timestamp())
    return RevocationList(tokens, users)


class RevocationCache:
    """The revocation list in use. Until the first successful fetch nothing is refused for revocation:
    requests never fail because IAM cannot be reached, and the age metric shows +Inf meanwhile."""

    def __init__(self, iam: IamClient, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._iam = iam
        self._clock = clock
        self._list: RevocationList | None = None
        self._loaded_at: float | None = None

    def check(self, token: str, user_id: str, issued_at: float | None) -> None:
        """Raise ``AuthError`` (401) when the installed list revokes ``token``."""
        current = self._list
        if current is not None and (reason := current.refusal(token, user_id, issued_at)) is not None:
            raise AuthError(reason)

    def age_s(self) -> float:
        return math.inf if self._loaded_at is None else self._clock() - self._loaded_at

    async def refresh(self) -> None:
        """Fetch and install the list; on any failure keep the last one. Never raises."""
        url = self._iam.revocation_list_url
        try:
            body = await self._iam.revocation_list()
            # A busy game's list can be large: decode it off the event loop.
            revocations = await asyncio.to_thread(parse_revocation_list, body)
        except Exception as exc:
            # Deliberately broad: whatever IAM sends (HTML error pages, truncated JSON, a malformed filter)
            # must end as a logged, counted failure while the last list keeps serving.
            refresh_failed("revocation_list", url, exc, list_age_s=self.age_s())
            return
        self._list = revocations
        self._loaded_at = self._clock()
        filter_bits = revocations.tokens.m if revocations.tokens else 0
        refreshed("revocation_list", url, revoked_users=len(revocations.users), filter_bits=filter_bits)

"""Verification of AGS IAM access tokens against the namespace's JWKS and revocation list.

Key-cache policy, in one place:
- ``auth/refresh.py`` reloads the key set at start-up and every ``REFRESH_INTERVAL`` seconds, off the
  request path (``refresh_keys``). If nothing could be loaded yet, the first request waits for a fetch.
- A token whose ``kid`` is unknown waits for one refresh (IAM may have rotated keys), but fetches are
  spaced at least ``min_fetch_interval_s`` apart, so a flood of made-up kids costs IAM one request per
  interval, and an IAM outage is not amplified into one request per player request.
- Concurrent refreshes share one HTTP request; a failed refresh keeps the last good keys.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt
import msgspec
import structlog
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from challenge_service.auth.errors import AuthError
from challenge_service.auth.iam import IamClient, refresh_failed, refreshed
from challenge_service.auth.revocation import RevocationCache

log = structlog.get_logger(__name__)

# The only algorithm AGS IAM signs access tokens with; anything else (none, HS256 keyed with the public
# key, ES256 …) is refused before a key is even looked up.
ALGORITHM = "RS256"


class _JwkSet(msgspec.Struct):
    keys: list[dict[str, Any]]


class JwksVerifier:
    """Verifies RS256 access tokens and returns the user id (``sub``).

    With ``revocations``, a token that AGS IAM has revoked (on its own, or all of its user's tokens up to
    a moment) is refused too.
    """

    def __init__(
        self,
        iam: IamClient,
        namespace: str,
        *,
        revocations: RevocationCache | None = None,
        leeway_s: float = 5,
        min_fetch_interval_s: float = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._iam = iam
        self._namespace = namespace
        self._revocations = revocations
        self._leeway_s = leeway_s
        self._min_fetch_interval_s = min_fetch_interval_s
        self._clock = clock
        self._keys: dict[str, RSAPublicKey] = {}
        self._loaded = False  # a key set was installed at least once
        self._attempted_at: float | None = None  # last fetch, successful or not (rate limit)
        self._inflight: asyncio.Task[None] | None = None

    async def verify(self, token: str) -> str:
        """Return the ``sub`` of a valid token; raise ``AuthError`` (401, or 403 for another namespace)."""
        sub: str = (await self.verify_claims(token))["sub"]
        return sub

    async def verify_claims(self, token: str) -> dict[str, Any]:
        """Every claim of a valid token, whose ``sub`` is a non-empty string; raise ``AuthError`` as
        ``verify`` does. The operator routes read the ``permissions`` claim from here."""
        kid = _signing_kid(token)
        key = await self._key_for(kid)
        claims = self._decode(token, key)
        sub = claims.get("sub")
        if not isinstance(sub, str) or sub == "":
            raise AuthError("token has no subject")
        if self._revocations is not None:
            # pyjwt has checked that iat, when present, is a number.
            self._revocations.check(token, sub, claims.get("iat"))
        namespace = claims.get("namespace")
        # Absent namespace is accepted (docs/security.md): only a token that names another game is refused.
        if namespace is not None and namespace != self._namespace:
            raise AuthError("namespace mismatch", status=403)
        return claims

    def _decode(self, token: str, key: RSAPublicKey) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                leeway=self._leeway_s,
                # exp is required: a token that never expires is not an access token. aud/iss are not
                # part of the contract (AGS tokens carry client-specific audiences).
                options={"require": ["exp", "sub"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired") from None
        except jwt.ImmatureSignatureError:
            raise AuthError("token not yet valid") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError(f"token has no '{exc.claim}' claim") from None
        except jwt.InvalidSignatureError:
            raise AuthError("invalid token signature") from None
        except jwt.DecodeError:
            raise AuthError("malformed token") from None
        except jwt.InvalidTokenError as exc:
            # Remaining pyjwt messages (bad iat type, wrong sub type, …) name only the claim.
            raise AuthError(f"invalid token: {exc}") from None

    async def refresh_keys(self) -> None:
        """Reload the key set now (the periodic refresh), or join a fetch already running. Never raises."""
        await self._refresh(spaced=False)

    async def _key_for(self, kid: str) -> RSAPublicKey:
        if not self._loaded:
            await self._refresh()
            if not self._loaded:
                raise AuthError("signing keys unavailable")
        key = self._keys.get(kid)
        if key is None:
            await self._refresh()
            key = self._keys.get(kid)
        if key is None:
            raise AuthError("unknown signing key")
        return key

    async def _refresh(self, *, spaced: bool = True) -> None:
        """Start (or join) a JWKS fetch and wait for it; a request-driven (``spaced``) one is skipped when
        the last fetch began less than ``min_fetch_interval_s`` ago."""
        task = self._inflight
        if task is None:
            now = self._clock()
            recent = self._attempted_at is not None and now - self._attempted_at < self._min_fetch_interval_s
            if spaced and recent:
                return
            self._attempted_at = now
            task = self._inflight = asyncio.create_task(self._fetch(), name="jwks-refresh")
            task.add_done_callback(self._clear_inflight)
        # Shielded: one caller giving up (client disconnect) must not cancel the fetch others await.
        await asyncio.shield(task)

    def _clear_inflight(self, task: asyncio.Task[None]) -> None:
        if self._inflight is task:
            self._inflight = None

    async def _fetch(self) -> None:
        """Fetch and install the key set; never raises, so a broken IAM cannot crash request handling."""
        url = self._iam.jwks_url
        try:
            keys = _parse_jwks(msgspec.json.decode(await self._iam.jwks(), type=_JwkSet))
            if not keys:
                raise ValueError("no usable RS256 keys")
        except Exception as exc:
            # Deliberately broad: whatever IAM sends back (HTML error pages, truncated JSON, odd keys) must
            # end as a logged failed refresh, not as an exception inside a background task.
            refresh_failed("jwks", url, exc, cached_keys=len(self._keys))
            return
        self._keys = keys
        self._loaded = True
        refreshed("jwks", url, kids=sorted(keys))


def _signing_kid(token: str) -> str:
    """Read the unverified header just far enough to refuse wrong algorithms and pick the key."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise AuthError("malformed token") from None
    if header.get("alg") != ALGORITHM:
        raise AuthError("unsupported token algorithm")
    kid = header.get("kid")
    if not isinstance(kid, str) or kid == "":
        raise AuthError("token has no key id")
    return kid


def _parse_jwks(jwks: _JwkSet) -> dict[str, RSAPublicKey]:
    keys: dict[str, RSAPublicKey] = {}
    for jwk in jwks.keys:
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not _is_rs256_signing_key(jwk):
            continue
        try:
            key = jwt.PyJWK(jwk, algorithm=ALGORITHM).key
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError) as exc:
            log.warning("jwks_key_skipped", kid=kid, error=str(exc))
            continue
        if isinstance(key, RSAPublicKey):
            keys[kid] = key
    return keys


def _is_rs256_signing_key(jwk: Mapping[str, Any]) -> bool:
    return (
        jwk.get("kty") == "RSA" and jwk.get("use", "sig") == "sig" and jwk.get("alg", ALGORITHM) == ALGORITHM
    )

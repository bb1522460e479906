from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid

import httpx
import jwt
import pytest
from structlog.testing import capture_logs

from challenge_service.auth import AuthError, IamClient, JwksVerifier
from tests.fake_ags import JWKS_PATH, FakeAgs, unused_local_url
from tests.helpers.iam import NAMESPACE, FakeClock, SigningKey, iam_refreshes
from tests.helpers.waiting import eventually


async def expect_auth_error(verifier: JwksVerifier, token: str, message: str, status: int = 401) -> None:
    with pytest.raises(AuthError) as info:
        await verifier.verify(token)
    assert (info.value.status, info.value.message) == (status, message)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hmac_token(secret: bytes, *, alg: str, kid: str) -> str:
    """Hand-made, because pyjwt (rightly) refuses to HMAC-sign with a PEM public key."""
    now = int(time.time())
    header = b64url(json.dumps({"alg": alg, "typ": "JWT", "kid": kid}).encode())
    claims = {"sub": "attacker", "namespace": NAMESPACE, "iat": now, "exp": now + 600}
    payload = b64url(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


# -- valid tokens -----------------------------------------------------------------------------------


async def test_valid_token_returns_sub_and_keys_are_cached(
    verifier: JwksVerifier, ags: FakeAgs, key_a: SigningKey
) -> None:
    assert await verifier.verify(key_a.sign(sub="user-42")) == "user-42"
    assert await verifier.verify(key_a.sign(sub="user-43")) == "user-43"
    assert ags.count(JWKS_PATH) == 1


async def test_missing_namespace_claim_is_accepted(verifier: JwksVerifier, key_a: SigningKey) -> None:
    assert await verifier.verify(key_a.sign(namespace=None)) == "user-1"


async def test_leeway_tolerates_small_clock_skew(verifier: JwksVerifier, key_a: SigningKey) -> None:
    now = int(time.time())
    assert await verifier.verify(key_a.sign(exp=now - 2, nbf=now + 2, iat=now + 2)) == "user-1"


async def test_audience_claim_does_not_break_verification(verifier: JwksVerifier, key_a: SigningKey) -> None:
    assert await verifier.verify(key_a.sign(aud=["some-client"])) == "user-1"


# -- time claims ------------------------------------------------------------------------------------


async def test_expired_token(verifier: JwksVerifier, key_a: SigningKey) -> None:
    await expect_auth_error(verifier, key_a.sign(exp=int(time.time()) - 60), "token expired")


async def test_token_without_exp(verifier: JwksVerifier, key_a: SigningKey) -> None:
    await expect_auth_error(verifier, key_a.sign(exp=None), "token has no 'exp' claim")


async def test_not_yet_valid_token(verifier: JwksVerifier, key_a: SigningKey) -> None:
    await expect_auth_error(verifier, key_a.sign(nbf=int(time.time()) + 60), "token not yet valid")


async def test_token_issued_in_the_future(verifier: JwksVerifier, key_a: SigningKey) -> None:
    await expect_auth_error(verifier, key_a.sign(iat=int(time.time()) + 60), "token not yet valid")


# -- claims -----------------------------------------------------------------------------------------


async def test_other_namespace_is_forbidden(verifier: JwksVerifier, key_a: SigningKey) -> None:
    await expect_auth_error(verifier, key_a.sign(namespace="other-game"), "namespace mismatch", status=403)


@pytest.mark.parametrize("sub", [None, ""])
async def test_missing_or_empty_sub(verifier: JwksVerifier, key_a: SigningKey, sub: str | None) -> None:
    with pytest.raises(AuthError) as info:
        await verifier.verify(key_a.sign(sub=sub))
    assert info.value.status == 401
    assert "sub" in info.value.message or "subject" in info.value.message


# -- signatures and algorithms ----------------------------------------------------------------------


async def test_alg_none_is_rejected(verifier: JwksVerifier, ags: FakeAgs, key_a: SigningKey) -> None:
    token = jwt.encode({"sub": "attacker"}, "", algorithm="none", headers={"kid": key_a.kid})
    await expect_auth_error(verifier, token, "unsupported token algorithm")
    assert ags.count(JWKS_PATH) == 0  # refused before any key lookup


async def test_hs256_signed_with_public_key_pem_is_rejected(
    verifier: JwksVerifier, key_a: SigningKey
) -> None:
    await expect_auth_error(
        verifier, hmac_token(key_a.public_pem(), alg="HS256", kid=key_a.kid), "unsupported token algorithm"
    )


async def test_hmac_signature_under_rs256_header_is_rejected(
    verifier: JwksVerifier, key_a: SigningKey
) -> None:
    await expect_auth_error(
        verifier, hmac_token(key_a.public_pem(), alg="RS256", kid=key_a.kid), "invalid token signature"
    )


async def test_other_rsa_algorithms_are_rejected(verifier: JwksVerifier, key_a: SigningKey) -> None:
    token = jwt.encode({"sub": "u", "exp": int(time.time()) + 60}, key_a.private, algorithm="RS512")
    await expect_auth_error(verifier, token, "unsupported token algorithm")


async def test_forged_token_with_known_kid_is_rejected(verifier: JwksVerifier, key_a: SigningKey) -> None:
    forger = SigningKey.generate(key_a.kid)
    await expect_auth_error(verifier, forger.sign(), "invalid token signature")


async def test_token_without_kid_is_rejected(verifier: JwksVerifier, key_a: SigningKey) -> None:
    token = jwt.encode({"sub": "u", "exp": int(time.time()) + 60}, key_a.private, algorithm="RS256")
    await expect_auth_error(verifier, token, "token has no key id")


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30", "....", "ü.ü.ü"])
async def test_garbage_token(verifier: JwksVerifier, token: str) -> None:
    await expect_auth_error(verifier, token, "malformed token")


async def test_tampered_payload_is_rejected(verifier: JwksVerifier, key_a: SigningKey) -> None:
    header, _, signature = key_a.sign().split(".")
    payload = b64url(json.dumps({"sub": "admin", "exp": int(time.time()) + 60}).encode())
    await expect_auth_error(verifier, f"{header}.{payload}.{signature}", "invalid token signature")


# -- key rotation and refresh policy ----------------------------------------------------------------


async def test_unknown_kid_triggers_one_refresh_then_succeeds_after_rotation(
    verifier: JwksVerifier, ags: FakeAgs, clock: FakeClock, key_a: SigningKey, key_b: SigningKey
) -> None:
    assert await verifier.verify(key_a.sign()) == "user-1"
    clock.advance(11)  # past the 10 s spacing between fetches
    ags.set_jwks([key_a.jwk(), key_b.jwk()])  # IAM rotates in a new key

    assert await verifier.verify(key_b.sign(sub="user-b")) == "user-b"
    assert ags.count(JWKS_PATH) == 2
    assert await verifier.verify(key_a.sign()) == "user-1"  # the old key still works
    assert ags.count(JWKS_PATH) == 2


async def test_flood_of_unknown_kids_costs_iam_at_most_one_fetch_per_interval(
    verifier: JwksVerifier, ags: FakeAgs, clock: FakeClock, key_a: SigningKey
) -> None:
    await verifier.verify(key_a.sign())
    clock.advance(11)

    bogus = [key_a.sign(kid=f"bogus-{uuid.uuid4().hex}") for _ in range(50)]
    results = await asyncio.gather(*(verifier.verify(t) for t in bogus), return_exceptions=True)
    assert all(isinstance(r, AuthError) and r.message == "unknown signing key" for r in results)
    assert ags.count(JWKS_PATH) == 2  # the initial load + exactly one refresh

    for token in bogus[:10]:  # sequential retries inside the interval: no more fetches
        await expect_auth_error(verifier, token, "unknown signing key")
    assert ags.count(JWKS_PATH) == 2

    clock.advance(11)
    await expect_auth_error(verifier, bogus[0], "unknown signing key")
    assert ags.count(JWKS_PATH) == 3


async def test_periodic_refresh_replaces_the_keys_and_removed_keys_stop_verifying(
    verifier: JwksVerifier, ags: FakeAgs, clock: FakeClock, key_a: SigningKey, key_b: SigningKey
) -> None:
    await verifier.verify(key_a.sign())
    ags.set_jwks([key_b.jwk()])  # IAM rotated key-a out
    assert await verifier.verify(key_a.sign()) == "user-1"  # requests alone never re-read known keys

    await verifier.refresh_keys()  # what the background refresher does every REFRESH_INTERVAL
    assert ags.count(JWKS_PATH) == 2
    assert await verifier.verify(key_b.sign(sub="user-b")) == "user-b"
    await expect_auth_error(verifier, key_a.sign(), "unknown signing key")
    assert ags.count(JWKS_PATH) == 2  # inside the spacing interval: the unknown kid costs IAM nothing


async def test_periodic_refresh_is_not_held_back_by_the_spacing_of_request_driven_fetches(
    verifier: JwksVerifier, ags: FakeAgs, key_a: SigningKey
) -> None:
    await verifier.verify(key_a.sign())
    await verifier.refresh_keys()
    await verifier.refresh_keys()
    assert ags.count(JWKS_PATH) == 3


async def test_requests_join_a_running_periodic_refresh(
    verifier: JwksVerifier, ags: FakeAgs, clock: FakeClock, key_a: SigningKey, key_b: SigningKey
) -> None:
    await verifier.verify(key_a.sign())
    ags.set_jwks([key_a.jwk(), key_b.jwk()])
    ags.delay(JWKS_PATH, 0.1)
    clock.advance(11)
    periodic = asyncio.create_task(verifier.refresh_keys())
    await eventually(lambda: ags.count(JWKS_PATH) == 2)
    # key-b is unknown to the cache, so this request waits for the running fetch instead of starting one.
    assert await verifier.verify(key_b.sign(sub="user-b")) == "user-b"
    await periodic
    assert ags.count(JWKS_PATH) == 2


async def test_concurrent_first_requests_share_one_fetch(
    verifier: JwksVerifier, ags: FakeAgs, key_a: SigningKey
) -> None:
    ags.delay(JWKS_PATH, 0.2)
    subs = await asyncio.gather(*(verifier.verify(key_a.sign(sub=f"u{i}")) for i in range(20)))
    assert subs == [f"u{i}" for i in range(20)]
    assert ags.count(JWKS_PATH) == 1


async def test_cancelled_caller_does_not_cancel_shared_fetch(
    verifier: JwksVerifier, ags: FakeAgs, key_a: SigningKey
) -> None:
    ags.delay(JWKS_PATH, 0.2)
    impatient = asyncio.create_task(verifier.verify(key_a.sign(sub="gone")))
    patient = asyncio.create_task(verifier.verify(key_a.sign(sub="stays")))
    await eventually(lambda: ags.count(JWKS_PATH) == 1)  # the shared fetch is under way
    impatient.cancel()
    assert await patient == "stays"
    assert impatient.cancelled()
    assert ags.count(JWKS_PATH) == 1


# -- IAM failures -----------------------------------------------------------------------------------


async def test_jwks_server_down_gives_401_and_is_logged(http: httpx.AsyncClient, key_a: SigningKey) -> None:
    verifier = JwksVerifier(IamClient(unused_local_url(), "id", "secret", http), NAMESPACE)
    with capture_logs() as logs:
        await expect_auth_error(verifier, key_a.sign(), "signing keys unavailable")
    failures = [entry for entry in logs if entry["event"] == "jwks_fetch_failed"]
    assert len(failures) == 1
    assert failures[0]["log_level"] == "error"
    assert failures[0]["error"] == "ConnectError"


async def test_jwks_error_status_then_recovery(
    verifier: JwksVerifier, ags: FakeAgs, clock: FakeClock, key_a: SigningKey
) -> None:
    ags.fail(JWKS_PATH, 503)
    await expect_auth_error(verifier, key_a.sign(), "signing keys unavailable")
    # Within the spacing interval a struggling IAM is not asked again for every request.
    await expect_auth_error(verifier, key_a.sign(), "signing keys unavailable")
    assert ags.count(JWKS_PATH) == 1

    clock.advance(11)
    assert await verifier.verify(key_a.sign()) == "user-1"
    assert ags.count(JWKS_PATH) == 2


@pytest.mark.parametrize(
    "body",
    [b"<html>bad gateway</html>", b'{"keys": "nope"}', b'{"keys": [{"kty": "RSA", "kid": "x", "n": "!"}]}'],
)
async def test_unusable_jwks_body_gives_401(
    verifier: JwksVerifier, ags: FakeAgs, key_a: SigningKey, body: bytes
) -> None:
    ags.fail(JWKS_PATH, 200, body=body)
    with capture_logs() as logs:
        await expect_auth_error(verifier, key_a.sign(), "signing keys unavailable")
    assert any(entry["event"] == "jwks_fetch_failed" for entry in logs)


async def test_failed_refresh_keeps_serving_cached_keys_and_is_counted(
    verifier: JwksVerifier, ags: FakeAgs, key_a: SigningKey
) -> None:
    await verifier.verify(key_a.sign())
    failures = iam_refreshes("jwks", "failed")
    ags.fail(JWKS_PATH, 500)
    with capture_logs() as logs:
        await verifier.refresh_keys()
    assert [entry["event"] for entry in logs] == ["jwks_fetch_failed"]
    assert iam_refreshes("jwks", "failed") == failures + 1
    assert ags.count(JWKS_PATH) == 2
    assert await verifier.verify(key_a.sign()) == "user-1"


# -- credentials ------------------------------------------------------------------------------------


async def test_jwks_is_fetched_with_the_client_credentials(
    verifier: JwksVerifier, ags: FakeAgs, key_a: SigningKey
) -> None:
    await verifier.verify(key_a.sign())
    (request,) = ags.requests(JWKS_PATH)
    expected = base64.b64encode(f"{ags.client_id}:{ags.client_secret}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"


async def test_refused_credentials_fail_closed_and_are_logged(
    ags: FakeAgs, http: httpx.AsyncClient, key_a: SigningKey
) -> None:
    verifier = JwksVerifier(IamClient(ags.base_url, ags.client_id, "wrong-secret", http), NAMESPACE)
    with capture_logs() as logs:
        await expect_auth_error(verifier, key_a.sign(), "signing keys unavailable")
    (failure,) = [entry for entry in logs if entry["event"] == "jwks_fetch_failed"]
    assert failure["error"] == "HTTPStatusError"
    assert "401" in failure["detail"]
    assert "wrong-secret" not in repr(logs)


async def test_non_rs256_keys_in_jwks_are_ignored(
    verifier: JwksVerifier, ags: FakeAgs, key_a: SigningKey
) -> None:
    ags.set_jwks(
        [
            {"kty": "oct", "kid": "hmac", "k": b64url(b"secret")},
            {**key_a.jwk(), "kid": "enc", "use": "enc"},
            key_a.jwk(),
        ]
    )
    assert await verifier.verify(key_a.sign()) == "user-1"
    await expect_auth_error(verifier, key_a.sign(kid="enc"), "unknown signing key")

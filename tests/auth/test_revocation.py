"""Tokens AGS IAM has revoked are refused, against the fake AGS serving a real Bloom filter."""

from __future__ import annotations

import base64
import math
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from structlog.testing import capture_logs

from challenge_service.auth import AuthError, IamClient, JwksVerifier, RevocationCache
from challenge_service.auth.revocation import parse_revocation_list
from tests.fake_ags import REVOCATION_LIST_PATH, FakeAgs, unused_local_url
from tests.helpers.iam import NAMESPACE, FakeClock, SigningKey, iam_refreshes


@pytest.fixture
def revocations(iam: IamClient, clock: FakeClock) -> RevocationCache:
    return RevocationCache(iam, clock=clock)


@pytest.fixture
def verifier(iam: IamClient, clock: FakeClock, revocations: RevocationCache) -> JwksVerifier:
    return JwksVerifier(iam, NAMESPACE, revocations=revocations, clock=clock)


async def refused(verifier: JwksVerifier, token: str) -> str:
    with pytest.raises(AuthError) as info:
        await verifier.verify(token)
    assert info.value.status == 401
    return info.value.message


def at(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


# -- what is refused --------------------------------------------------------------------------------


async def test_a_revoked_token_is_refused_and_the_same_users_new_token_accepted(
    verifier: JwksVerifier, revocations: RevocationCache, ags: FakeAgs, key_a: SigningKey
) -> None:
    old, new = key_a.sign(sub="player-1"), key_a.sign(sub="player-1")
    ags.revoke_access_token(old)
    await revocations.refresh()

    assert await refused(verifier, old) == "token revoked"
    assert await verifier.verify(new) == "player-1"


async def test_a_banned_users_older_tokens_are_refused_and_a_token_issued_after_the_ban_accepted(
    verifier: JwksVerifier, revocations: RevocationCache, ags: FakeAgs, key_a: SigningKey
) -> None:
    now = int(time.time())
    ags.revoke_user("player-1", at=at(now - 30))
    await revocations.refresh()

    reason = "token revoked: the user's sessions were revoked"
    assert await refused(verifier, key_a.sign(sub="player-1", iat=now - 60)) == reason
    assert await refused(verifier, key_a.sign(sub="player-1", iat=now - 30)) == reason  # issued at the ban
    assert await verifier.verify(key_a.sign(sub="player-1", iat=now - 29)) == "player-1"
    assert await verifier.verify(key_a.sign(sub="player-2", iat=now - 60)) == "player-2"  # other users


async def test_a_banned_users_token_without_iat_is_refused(
    verifier: JwksVerifier, revocations: RevocationCache, ags: FakeAgs, key_a: SigningKey
) -> None:
    ags.revoke_user("player-1", at=at(time.time() - 3600))
    await revocations.refresh()
    assert "revoked" in await refused(verifier, key_a.sign(sub="player-1", iat=None))


async def test_revocation_is_checked_only_after_the_signature(
    verifier: JwksVerifier, revocations: RevocationCache, ags: FakeAgs, key_a: SigningKey
) -> None:
    forged = SigningKey.generate(key_a.kid).sign(sub="player-1")
    ags.revoke_access_token(forged)
    await revocations.refresh()
    assert await refused(verifier, forged) == "invalid token signature"


# -- refresh ----------------------------------------------------------------------------------------


async def test_the_list_is_refreshed_without_a_restart(
    verifier: JwksVerifier, revocations: RevocationCache, ags: FakeAgs, key_a: SigningKey
) -> None:
    await revocations.refresh()
    token = key_a.sign(sub="player-1")
    assert await verifier.verify(token) == "player-1"

    ags.revoke_access_token(token)
    assert await verifier.verify(token) == "player-1"  # AGS revoked it; this instance has not heard yet
    await revocations.refresh()
    assert await refused(verifier, token) == "token revoked"


async def test_ags_down_during_a_refresh_keeps_the_last_list_and_counts_the_failure(
    verifier: JwksVerifier, revocations: RevocationCache, ags: FakeAgs, clock: FakeClock, key_a: SigningKey
) -> None:
    revoked, fine = key_a.sign(sub="player-1"), key_a.sign(sub="player-2")
    ags.revoke_access_token(revoked)
    await revocations.refresh()
    assert revocations.age_s() == 0
    failures = iam_refreshes("revocation_list", "failed")

    ags.fail(REVOCATION_LIST_PATH, 503)
    clock.advance(600)
    with capture_logs() as logs:
        await revocations.refresh()

    (failure,) = logs
    assert (failure["event"], failure["log_level"], failure["list_age_s"]) == (
        "revocation_list_fetch_failed",
        "error",
        600,
    )
    assert iam_refreshes("revocation_list", "failed") == failures + 1
    assert revocations.age_s() == 600  # the list in use is the one fetched before
    assert await refused(verifier, revoked) == "token revoked"
    assert await verifier.verify(fine) == "player-2"


async def test_unreachable_ags_before_any_list_refuses_nothing_for_revocation(
    ags: FakeAgs, http: httpx.AsyncClient, key_a: SigningKey
) -> None:
    keys = IamClient(ags.base_url, ags.client_id, ags.client_secret, http)
    revocations = RevocationCache(IamClient(unused_local_url(), "id", "secret", http))
    verifier = JwksVerifier(keys, NAMESPACE, revocations=revocations)
    await revocations.refresh()
    assert revocations.age_s() == math.inf
    assert await verifier.verify(key_a.sign()) == "user-1"


@pytest.mark.parametrize(
    "body",
    [
        b"<html>bad gateway</html>",
        b'{"revoked_tokens": {"bits": [0], "k": 0, "m": 64}}',
        b'{"revoked_tokens": {"bits": [0], "k": 3, "m": 6400}}',
        b'{"revoked_tokens": {"bits": "x", "k": 3, "m": 64}}',
        b'{"revoked_users": [{"id": "u", "revoked_at": "yesterday"}]}',
        b"[]",
    ],
)
async def test_an_unusable_list_is_rejected_and_the_last_one_kept(
    verifier: JwksVerifier, revocations: RevocationCache, ags: FakeAgs, key_a: SigningKey, body: bytes
) -> None:
    token = key_a.sign()
    ags.revoke_access_token(token)
    await revocations.refresh()
    ags.fail(REVOCATION_LIST_PATH, 200, body=body)
    failures = iam_refreshes("revocation_list", "failed")
    with capture_logs() as logs:
        await revocations.refresh()
    assert [entry["event"] for entry in logs] == ["revocation_list_fetch_failed"]
    assert iam_refreshes("revocation_list", "failed") == failures + 1
    assert await refused(verifier, token) == "token revoked"


# -- credentials ------------------------------------------------------------------------------------


async def test_the_list_is_fetched_with_the_client_credentials(
    revocations: RevocationCache, ags: FakeAgs
) -> None:
    await revocations.refresh()
    (request,) = ags.requests(REVOCATION_LIST_PATH)
    expected = base64.b64encode(f"{ags.client_id}:{ags.client_secret}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert revocations.age_s() == 0


async def test_refused_credentials_are_a_failed_refresh(ags: FakeAgs, http: httpx.AsyncClient) -> None:
    revocations = RevocationCache(IamClient(ags.base_url, ags.client_id, "wrong", http))
    with capture_logs() as logs:
        await revocations.refresh()
    (failure,) = logs
    assert failure["error"] == "HTTPStatusError"
    assert "401" in failure["detail"]
    assert revocations.age_s() == math.inf


# -- the document -----------------------------------------------------------------------------------


def test_go_style_nulls_mean_nothing_revoked() -> None:
    revocations = parse_revocation_list(b'{"revoked_tokens": null, "revoked_users": null}')
    assert revocations.refusal("any.token", "u", 0) is None


def test_revoked_at_keeps_sub_second_precision_and_honours_offsets() -> None:
    body = b"""{"revoked_users": [
        {"id": "nano", "revoked_at": "2024-05-01T10:00:00.999999999Z"},
        {"id": "offset", "revoked_at": "2024-05-01T12:00:00+02:00"},
        {"id": "zoneless", "revoked_at": "2024-05-01T10:00:00"}
    ]}"""
    users = parse_revocation_list(body).users
    ten = datetime(2024, 5, 1, 10, tzinfo=UTC).timestamp()
    assert users["nano"] == pytest.approx(ten + 1, abs=1e-6)
    assert users["offset"] == ten
    assert users["zoneless"] == ten  # read as UTC, as AGS writes it


def test_incomplete_user_entries_are_skipped_and_the_latest_revocation_wins() -> None:
    body = b"""{"revoked_users": [
        {"id": "", "revoked_at": "2024-05-01T10:00:00Z"},
        {"id": "no-time"},
        {"id": "twice", "revoked_at": "2024-05-01T10:00:00Z"},
        {"id": "twice", "revoked_at": "2024-05-01T09:00:00Z"}
    ]}"""
    users = parse_revocation_list(body).users
    assert set(users) == {"twice"}
    assert users["twice"] == datetime(2024, 5, 1, 10, tzinfo=UTC).timestamp()


def test_a_user_revocation_reaches_tokens_issued_up_to_that_moment() -> None:
    ban = datetime(2024, 5, 1, 10, tzinfo=UTC)
    body = b'{"revoked_users": [{"id": "u", "revoked_at": "2024-05-01T10:00:00.5Z"}]}'
    revocations = parse_revocation_list(body)
    issued = ban.timestamp()
    assert revocations.refusal("t", "u", issued) is not None
    assert revocations.refusal("t", "u", issued + 1) is None
    assert revocations.refusal("t", "u", (ban - timedelta(days=1)).timestamp()) is not None

"""JWT mode over real HTTP: tokens signed by a test key, JWKS served by a local fake AGS (SPEC §4)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx
import psycopg
import pytest

from tests.fake_ags import FakeAgs
from tests.helpers.iam import SigningKey, jwt_mode
from tests.helpers.service import in_process, make_settings


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate("iam-key")


@pytest.fixture
def ags(key: SigningKey) -> Iterator[FakeAgs]:
    with FakeAgs(namespace="accelbyte") as server:
        server.set_jwks([key.jwk()])
        yield server


@pytest.fixture
async def api(database_url: str, ags: FakeAgs) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process(make_settings(database_url, **jwt_mode(ags))) as running:
        yield running.http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_valid_token_acts_as_its_subject(
    api: httpx.AsyncClient, key: SigningKey, database_url: str
) -> None:
    response = await api.post("/challenge/v1/challenges/initialize", headers=bearer(key.sign(sub="player-7")))
    assert response.status_code == 200
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cursor = await conn.execute("SELECT DISTINCT user_id FROM user_goal_progress")
        assert await cursor.fetchall() == [("player-7",)]


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing bearer token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "malformed authorization header"),
        ({"X-Mock-User-Id": "u1"}, "missing bearer token"),  # mock header means nothing in JWT mode
    ],
)
async def test_missing_or_malformed_credentials_are_401(
    api: httpx.AsyncClient, headers: dict[str, str], message: str
) -> None:
    response = await api.get("/challenge/v1/challenges", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert (body["code"], body["errorCode"]) == (16, "UNAUTHENTICATED")
    assert body["message"].startswith(message)


async def test_expired_forged_and_foreign_tokens(api: httpx.AsyncClient, key: SigningKey) -> None:
    expired = key.sign(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)
    forged = SigningKey.generate("iam-key").sign()  # same kid, different private key
    for token, status, code in (
        (expired, 401, 16),
        (forged, 401, 16),
        (key.sign(namespace="othergame"), 403, 7),
    ):
        response = await api.get("/challenge/v1/challenges", headers=bearer(token))
        assert response.status_code == status
        assert response.json()["code"] == code
    assert response.json()["errorCode"] == "PERMISSION_DENIED"


async def test_health_and_metrics_need_no_token(api: httpx.AsyncClient) -> None:
    assert (await api.get("/challenge/healthz")).status_code == 200
    assert (await api.get("/metrics")).status_code == 200

"""JWT mode over real HTTP: tokens signed by a test key, JWKS served by a local fake AGS; for the operator
routes, the same verification and then the AGS permission in the token's `permissions` claim."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

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


# -- operators: ADMIN:NAMESPACE:{AB_NAMESPACE}:CHALLENGE in the `permissions` claim ------------------------

RESOURCE = "ADMIN:NAMESPACE:accelbyte:CHALLENGE"
READ, UPDATE = 2, 4
STATE = "/challenge/v1/admin/users/player-1/challenges"
PROGRESS = "/challenge/v1/admin/users/player-1/goals/first-100-kills/progress"


def operator(key: SigningKey, permissions: Any = None, **claims: Any) -> dict[str, str]:
    claims = {"sub": "operator-7", **claims}
    if permissions is not None:
        claims["permissions"] = permissions
    return {"Authorization": f"Bearer {key.sign(**claims)}"}


def code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json().get("errorCode", "") if response.status_code != 200 else ""


@pytest.mark.parametrize(
    "permissions",
    [
        [{"resource": RESOURCE, "action": READ | UPDATE}],
        [{"Resource": RESOURCE, "Action": 15}],  # as AGS IAM writes the claim
        [{"resource": "ADMIN:NAMESPACE:*:CHALLENGE", "action": 6}],
        [{"resource": "ADMIN:NAMESPACE:accelbyte:*", "action": 2}, {"resource": RESOURCE, "action": 4}],
    ],
)
async def test_an_operator_token_reads_and_writes(
    api: httpx.AsyncClient, key: SigningKey, permissions: Any
) -> None:
    headers = operator(key, permissions)
    assert code(await api.get(STATE, headers=headers)) == (200, "")
    response = await api.put(PROGRESS, headers=headers, json={"progress": 4})
    assert code(response) == (200, "")
    audit = (await api.get("/challenge/v1/admin/audit", headers=headers)).json()["entries"]
    assert [(entry["actor"], entry["action"]) for entry in audit] == [("operator-7", "set_progress")]


@pytest.mark.parametrize(
    ("permissions", "read", "write"),
    [
        (None, 403, 403),  # a player's token
        ([], 403, 403),
        ([{"resource": RESOURCE, "action": READ}], 200, 403),  # read-only operator
        ([{"resource": RESOURCE, "action": UPDATE}], 403, 200),
        ([{"resource": "ADMIN:NAMESPACE:othergame:CHALLENGE", "action": 15}], 403, 403),
        ([{"resource": "ADMIN:NAMESPACE:accelbyte:WALLET", "action": 15}], 403, 403),
        ("ADMIN:NAMESPACE:accelbyte:CHALLENGE", 403, 403),  # not a list: grants nothing
    ],
)
async def test_without_the_permission_for_the_action_it_is_403(
    api: httpx.AsyncClient, key: SigningKey, permissions: Any, read: int, write: int
) -> None:
    headers = operator(key, permissions)
    assert (await api.get(STATE, headers=headers)).status_code == read
    assert (await api.put(PROGRESS, headers=headers, json={"progress": 4})).status_code == write
    denied = await api.get("/challenge/v1/admin/grants", headers=headers)
    if read == 403:
        assert (denied.status_code, denied.json()["code"], denied.json()["errorCode"]) == (
            403,
            7,
            "PERMISSION_DENIED",
        )


async def test_the_token_is_checked_before_the_permission(api: httpx.AsyncClient, key: SigningKey) -> None:
    all_of_it = [{"resource": RESOURCE, "action": 15}]
    assert code(await api.get(STATE)) == (401, "UNAUTHENTICATED")
    assert code(await api.get(STATE, headers=operator(key, all_of_it, exp=1))) == (401, "UNAUTHENTICATED")
    other = SigningKey.generate("iam-key")  # same kid, another key: forged
    assert code(await api.get(STATE, headers=operator(other, all_of_it))) == (401, "UNAUTHENTICATED")
    # A token of another game is refused by the namespace check, whatever it claims to allow.
    foreign = operator(key, all_of_it, namespace="othergame")
    assert code(await api.get(STATE, headers=foreign)) == (403, "PERMISSION_DENIED")


async def test_player_routes_still_take_a_players_token(api: httpx.AsyncClient, key: SigningKey) -> None:
    response = await api.post("/challenge/v1/challenges/initialize", headers=operator(key, sub="player-1"))
    assert response.status_code == 200
    mine = await api.get("/challenge/v1/users/me/data", headers=operator(key, sub="player-1"))
    assert mine.status_code == 200 and mine.json()["userId"] == "player-1"

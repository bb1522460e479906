"""Revocation through the whole service: every authenticated REST route refuses a revoked token."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from challenge_service.auth import IamRefresher
from tests.fake_ags import REVOCATION_LIST_PATH, FakeAgs
from tests.helpers.iam import SigningKey, iam_refreshes, jwt_mode
from tests.helpers.service import in_process, make_settings


@dataclass
class JwtService:
    http: httpx.AsyncClient
    refresher: IamRefresher


@pytest.fixture
async def service(database_url: str, ags: FakeAgs) -> AsyncIterator[JwtService]:
    async with in_process(make_settings(database_url, **jwt_mode(ags))) as running:
        assert running.service.iam_refresher is not None
        yield JwtService(running.http, running.service.iam_refresher)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def list_challenges(service: JwtService, token: str) -> httpx.Response:
    return await service.http.get("/challenge/v1/challenges", headers=bearer(token))


def assert_revoked(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert (body["code"], body["errorCode"]) == (16, "UNAUTHENTICATED")
    assert "revoked" in body["message"]


async def authenticated_routes(http: httpx.AsyncClient) -> list[tuple[str, str]]:
    """(method, path) of every REST operation in the service's own OpenAPI document but the health check."""
    spec = (await http.get("/challenge/openapi/openapi.json")).json()
    routes = [
        (method.upper(), path.replace("{challenge_id}", "c").replace("{goal_id}", "g"))
        for path, operations in spec["paths"].items()
        for method in operations
        if not path.endswith("/healthz")
    ]
    assert len(routes) >= 8
    return routes


async def test_a_revoked_token_is_refused_on_every_route_that_authenticates(
    service: JwtService, ags: FakeAgs, key_a: SigningKey
) -> None:
    token = key_a.sign(sub="player-1")
    ags.revoke_access_token(token)
    await service.refresher.refresh()
    for method, path in await authenticated_routes(service.http):
        assert_revoked(await service.http.request(method, path, headers=bearer(token), json={}))

    assert (await list_challenges(service, key_a.sign(sub="player-1"))).status_code == 200


async def test_a_ban_applies_after_the_next_refresh_without_a_restart(
    service: JwtService, ags: FakeAgs, key_a: SigningKey
) -> None:
    now = int(time.time())
    before_ban = key_a.sign(sub="player-1", iat=now - 10)
    assert (await list_challenges(service, before_ban)).status_code == 200

    ags.revoke_user("player-1", at=datetime.fromtimestamp(now - 5, UTC))
    await service.refresher.refresh()
    assert_revoked(await list_challenges(service, before_ban))
    assert (await list_challenges(service, key_a.sign(sub="player-1", iat=now))).status_code == 200


async def test_requests_are_served_with_the_last_list_while_ags_is_down(
    service: JwtService, ags: FakeAgs, key_a: SigningKey
) -> None:
    revoked = key_a.sign(sub="player-1")
    ags.revoke_access_token(revoked)
    await service.refresher.refresh()
    failures = iam_refreshes("revocation_list", "failed")

    ags.fail("/iam/v3/oauth/*", 503, times=2)
    await service.refresher.refresh()
    assert iam_refreshes("revocation_list", "failed") == failures + 1
    assert ags.count(REVOCATION_LIST_PATH) == 3  # start-up, the first refresh, the failed one

    assert_revoked(await list_challenges(service, revoked))
    assert (await list_challenges(service, key_a.sign(sub="player-2"))).status_code == 200
    metrics = (await service.http.get("/metrics")).text
    assert "challenge_iam_revocation_list_age_seconds " in metrics
    assert 'challenge_iam_refreshes_total{result="failed",source="revocation_list"}' in metrics

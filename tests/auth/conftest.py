from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from challenge_service.auth import IamClient, JwksVerifier
from tests.fake_ags import FakeAgs
from tests.helpers.iam import NAMESPACE, FakeClock, SigningKey


@pytest.fixture(scope="session")
def key_a() -> SigningKey:
    return SigningKey.generate("key-a")


@pytest.fixture(scope="session")
def key_b() -> SigningKey:
    return SigningKey.generate("key-b")


@pytest.fixture
def ags(key_a: SigningKey) -> Iterator[FakeAgs]:
    with FakeAgs(namespace=NAMESPACE) as server:
        server.set_jwks([key_a.jwk()])
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def iam(ags: FakeAgs, http: httpx.AsyncClient) -> IamClient:
    return IamClient(ags.base_url, ags.client_id, ags.client_secret, http)


@pytest.fixture
def verifier(iam: IamClient, clock: FakeClock) -> JwksVerifier:
    return JwksVerifier(iam, NAMESPACE, clock=clock)

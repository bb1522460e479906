from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from challenge_service.rewards import AgsRewardClient
from tests.fake_ags import FakeAgs
from tests.helpers.rewards import CLIENT_ID, CLIENT_SECRET, NAMESPACE, FakeSleep, MakeClient


@pytest.fixture
def ags() -> Iterator[FakeAgs]:
    with FakeAgs(namespace=NAMESPACE, client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as server:
        yield server


@pytest.fixture
def sleeper() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def make_client(ags: FakeAgs, http: httpx.AsyncClient, sleeper: FakeSleep) -> MakeClient:
    """An AgsRewardClient against the fake, with fake sleep and clock unless overridden."""

    def make(
        base_url: str | None = None, client_secret: str = CLIENT_SECRET, **options: Any
    ) -> AgsRewardClient:
        options = {"sleep": sleeper, "clock": sleeper.clock, **options}
        return AgsRewardClient(base_url or ags.base_url, CLIENT_ID, client_secret, NAMESPACE, http, **options)

    return make

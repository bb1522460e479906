from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from challenge_service.rewards import AgsRewardClient
from tests.fake_ags import FakeAgs

NAMESPACE = "accelbyte"
CLIENT_ID = "challenge-service"
CLIENT_SECRET = "s3cr3t-never-logged"


class FakeSleep:
    """Records back-off delays instead of sleeping, and moves a fake monotonic clock by them."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.now = 1_000.0

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def ags() -> Iterator[FakeAgs]:
    with FakeAgs(namespace=NAMESPACE, client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as server:
        yield server


@pytest.fixture
def sleeper() -> FakeSleep:
    return FakeSleep()


MakeClient = Callable[..., AgsRewardClient]


@pytest.fixture
def make_client(ags: FakeAgs, http: httpx.AsyncClient, sleeper: FakeSleep) -> MakeClient:
    """An AgsRewardClient against the fake, with fake sleep and clock unless overridden."""

    def make(
        base_url: str | None = None, client_secret: str = CLIENT_SECRET, **options: Any
    ) -> AgsRewardClient:
        options = {"sleep": sleeper, "clock": sleeper.clock, **options}
        return AgsRewardClient(base_url or ags.base_url, CLIENT_ID, client_secret, NAMESPACE, http, **options)

    return make

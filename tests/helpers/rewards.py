"""The AGS reward client against the fake AGS, with back-off that records delays instead of sleeping."""

from __future__ import annotations

from collections.abc import Callable

from challenge_service.rewards import AgsRewardClient

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


MakeClient = Callable[..., AgsRewardClient]

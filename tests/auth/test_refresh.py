"""The background refresh: both lists at start-up, then one round per interval, never on a request."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from challenge_service.auth import AuthError, IamClient, IamRefresher, JwksVerifier, RevocationCache
from tests.fake_ags import JWKS_PATH, REVOCATION_LIST_PATH, FakeAgs
from tests.helpers.iam import NAMESPACE, FakeClock, SigningKey, iam_refreshes
from tests.helpers.waiting import eventually

AGE = "challenge_iam_revocation_list_age_seconds"


class ManualTimer:
    """Stands in for ``asyncio.sleep``: records each requested interval and returns when the test ticks."""

    def __init__(self) -> None:
        self.requested: list[float] = []
        self._ticks: asyncio.Queue[None] = asyncio.Queue()
        self._released = 0

    async def sleep(self, seconds: float) -> None:
        self.requested.append(seconds)
        await self._ticks.get()

    async def elapse(self) -> None:
        """Let the interval the refresher is sleeping through end (waiting until it sleeps, if need be)."""
        await eventually(lambda: len(self.requested) > self._released)
        self._released += 1
        self._ticks.put_nowait(None)


@pytest.fixture
def timer() -> ManualTimer:
    return ManualTimer()


@pytest.fixture
async def refresher(
    iam: IamClient, clock: FakeClock, timer: ManualTimer
) -> AsyncIterator[tuple[IamRefresher, JwksVerifier, RevocationCache]]:
    revocations = RevocationCache(iam, clock=clock)
    verifier = JwksVerifier(iam, NAMESPACE, revocations=revocations, clock=clock)
    refresher = IamRefresher(verifier, revocations, 600, sleep=timer.sleep)
    yield refresher, verifier, revocations
    await refresher.stop()


async def test_start_fetches_keys_and_list_once_then_every_interval(
    refresher: tuple[IamRefresher, JwksVerifier, RevocationCache],
    ags: FakeAgs,
    timer: ManualTimer,
    key_a: SigningKey,
) -> None:
    service, verifier, _ = refresher
    await service.start()
    assert (ags.count(JWKS_PATH), ags.count(REVOCATION_LIST_PATH)) == (1, 1)
    assert await verifier.verify(key_a.sign()) == "user-1"  # the request found the keys loaded
    assert ags.count(JWKS_PATH) == 1

    token = key_a.sign(sub="player-1")
    ags.revoke_access_token(token)
    await timer.elapse()
    await eventually(lambda: ags.count(REVOCATION_LIST_PATH) == 2 and len(timer.requested) == 2)
    assert timer.requested == [600, 600]
    assert ags.count(JWKS_PATH) == 2
    with pytest.raises(AuthError, match="token revoked"):
        await verifier.verify(token)


async def test_start_survives_ags_being_down_and_a_later_round_recovers(
    refresher: tuple[IamRefresher, JwksVerifier, RevocationCache],
    ags: FakeAgs,
    timer: ManualTimer,
    clock: FakeClock,
) -> None:
    service, _, revocations = refresher
    failures = iam_refreshes("revocation_list", "failed"), iam_refreshes("jwks", "failed")
    ags.fail("/iam/v3/oauth/*", 503, times=2)
    await service.start()
    assert (iam_refreshes("revocation_list", "failed"), iam_refreshes("jwks", "failed")) == (
        failures[0] + 1,
        failures[1] + 1,
    )
    assert REGISTRY.get_sample_value(AGE) == math.inf

    clock.advance(600)
    await timer.elapse()
    await eventually(lambda: revocations.age_s() == 0)
    assert REGISTRY.get_sample_value(AGE) == 0


async def test_the_age_metric_follows_the_list_and_goes_away_on_stop(
    refresher: tuple[IamRefresher, JwksVerifier, RevocationCache], clock: FakeClock
) -> None:
    service, _, _ = refresher
    assert REGISTRY.get_sample_value(AGE) is None  # nothing runs: mock auth shows no age at all
    await service.start()
    clock.advance(42)
    assert REGISTRY.get_sample_value(AGE) == 42
    await service.stop()
    assert REGISTRY.get_sample_value(AGE) is None

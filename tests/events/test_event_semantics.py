"""The event contract over a real gRPC channel and the real database: validation, matching, modes, rotation,
duplicate ids. Durable mode (the default): a row is final as soon as the call has answered."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from challenge_service.events.proto.accelbyte.iam.account.v1 import account_pb2
from challenge_service.events.proto.accelbyte.social.statistic.v1 import statistic_pb2
from tests.helpers.db import row, seed
from tests.helpers.events import NAMESPACE, Started, StartService


@pytest.fixture
async def svc(start_service: StartService) -> Started:
    return await start_service()


async def _invalid(call: object) -> None:
    with pytest.raises(GRPCError) as caught:
        await call  # type: ignore[misc]
    assert caught.value.status == Status.INVALID_ARGUMENT


def _stat(
    user: str = "u1", code: str = "enemy_kills", value: float = 1.0, inc: float = 0.0, **top: object
) -> statistic_pb2.StatItemUpdated:
    return statistic_pb2.StatItemUpdated(
        user_id=user,
        namespace=NAMESPACE,
        payload=statistic_pb2.StatItem(stat_code=code, latest_value=value, inc=inc),
        **top,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    "request_",
    [
        statistic_pb2.StatItemUpdated(user_id="u1", namespace=NAMESPACE),  # no payload
        _stat(user=""),
        _stat(code=""),
        _stat(value=-1.0),
        _stat(inc=-0.5),
        _stat(value=math.nan),
        _stat(value=math.inf),
        _stat(inc=-math.inf),
        _stat(value=2.0**63),
        _stat(user="u" * 101),
        _stat(user="u1\n"),
        _stat(id="e" * 101),
        _stat(id="bad\x00id"),
    ],
    ids=[
        "no-payload",
        "empty-user",
        "empty-stat-code",
        "negative-value",
        "negative-inc",
        "nan",
        "inf",
        "minus-inf-inc",
        "beyond-int64",
        "user-too-long",
        "user-control-char",
        "id-too-long",
        "id-nul",
    ],
)
async def test_invalid_stat_events_are_rejected_and_change_nothing(
    svc: Started, request_: statistic_pb2.StatItemUpdated
) -> None:
    await seed(svc.database_url, "u1", "first-100-kills")
    await _invalid(svc.client.send_stat(request_))
    stored = await row(svc.database_url, "u1", "first-100-kills")
    assert stored is not None and stored.progress == 0 and stored.status == "not_started"


@pytest.mark.parametrize(
    "kwargs",
    [{"user_id": ""}, {"user_id": "x" * 101}, {"user_id": "a\tb"}, {"user_id": "u1", "event_id": "i" * 101}],
    ids=["empty-user", "user-too-long", "user-control-char", "id-too-long"],
)
async def test_invalid_logins_are_rejected(svc: Started, kwargs: dict[str, str]) -> None:
    await _invalid(svc.client.login(**kwargs))


async def test_user_and_namespace_fall_back_to_the_payload(svc: Started) -> None:
    await seed(svc.database_url, "p1", "first-login")
    await seed(svc.database_url, "p2", "first-100-kills")
    payload = account_pb2.UserLoggedInPayload(
        user_account=account_pb2.UserAccount(user_id="p1", namespace=NAMESPACE)
    )
    await svc.client.login(namespace="", payload=payload)
    stat = statistic_pb2.StatItemUpdated(
        payload=statistic_pb2.StatItem(
            user_id="p2", namespace=NAMESPACE, stat_code="enemy_kills", latest_value=7
        )
    )
    await svc.client.send_stat(stat)
    assert (await row(svc.database_url, "p1", "first-login")).progress == 1  # type: ignore[union-attr]
    assert (await row(svc.database_url, "p2", "first-100-kills")).progress == 7  # type: ignore[union-attr]


async def test_other_namespace_and_unknown_stat_are_acknowledged_and_ignored(svc: Started) -> None:
    await seed(svc.database_url, "u1", "first-login")
    await seed(svc.database_url, "u1", "first-100-kills")
    await svc.client.login("u1", namespace="other-game")
    await svc.client.stat("u1", "enemy_kills", 50, namespace="other-game")
    await svc.client.stat("u1", "no_such_stat", 50)
    for goal in ("first-login", "first-100-kills"):
        stored = await row(svc.database_url, "u1", goal)
        assert stored is not None and stored.progress == 0 and stored.status == "not_started"


async def test_login_moves_login_goals_only(svc: Started) -> None:
    for goal in ("first-login", "daily-login-twice", "first-match"):
        await seed(svc.database_url, "u1", goal)
    await svc.client.login("u1")
    first = await row(svc.database_url, "u1", "first-login")
    assert first is not None and (first.progress, first.status) == (1, "completed")
    assert first.completed_at is not None
    twice = await row(svc.database_url, "u1", "daily-login-twice")  # relative, target 2
    assert twice is not None and (twice.progress, twice.baseline, twice.status) == (1, 0, "in_progress")
    await svc.client.login("u1")
    twice = await row(svc.database_url, "u1", "daily-login-twice")
    assert twice is not None and (twice.progress, twice.status) == (2, "completed")
    match = await row(svc.database_url, "u1", "first-match")
    assert match is not None and match.progress == 0


async def test_stat_moves_only_goals_of_that_stat_code(svc: Started) -> None:
    for goal in ("first-100-kills", "first-win", "first-login"):
        await seed(svc.database_url, "u1", goal)
    await svc.client.stat("u1", "enemy_kills", 42.9, 3)
    kills = await row(svc.database_url, "u1", "first-100-kills")
    assert kills is not None and (kills.progress, kills.status) == (42, "in_progress")
    for goal in ("first-win", "first-login"):
        other = await row(svc.database_url, "u1", goal)
        assert other is not None and other.progress == 0 and other.status == "not_started"
    await svc.client.stat("u1", "enemy_kills", 100)
    kills = await row(svc.database_url, "u1", "first-100-kills")
    assert kills is not None and (kills.progress, kills.status) == (100, "completed")


async def test_inactive_and_claimed_rows_do_not_move(svc: Started) -> None:
    claimed_at = datetime(2024, 1, 1, tzinfo=UTC)
    await seed(svc.database_url, "u1", "first-100-kills", is_active=False, progress=3, status="in_progress")
    await seed(
        svc.database_url, "u1", "career-1000-kills", status="claimed", progress=1000, claimed_at=claimed_at
    )
    await svc.client.stat("u1", "enemy_kills", 1500, 500)
    inactive = await row(svc.database_url, "u1", "first-100-kills")
    assert inactive is not None and (inactive.progress, inactive.status) == (3, "in_progress")
    claimed = await row(svc.database_url, "u1", "career-1000-kills")
    assert claimed is not None and (claimed.progress, claimed.status, claimed.claimed_at) == (
        1000,
        "claimed",
        claimed_at,
    )


async def test_relative_goal_counts_its_first_event_and_completes_on_it(svc: Started) -> None:
    expires = datetime.now(UTC) + timedelta(hours=1)
    await seed(svc.database_url, "u1", "daily-10-kills", expires_at=expires)
    await seed(svc.database_url, "u1", "daily-25-kills", expires_at=expires)
    await svc.client.stat("u1", "enemy_kills", 512, 12)
    ten = await row(svc.database_url, "u1", "daily-10-kills")
    assert ten is not None and (ten.progress, ten.baseline, ten.status) == (512, 500, "completed")
    twenty_five = await row(svc.database_url, "u1", "daily-25-kills")
    assert twenty_five is not None and (twenty_five.baseline, twenty_five.status) == (500, "in_progress")
    await svc.client.stat("u1", "enemy_kills", 530, 18)
    twenty_five = await row(svc.database_url, "u1", "daily-25-kills")
    assert twenty_five is not None and (twenty_five.progress, twenty_five.status) == (530, "completed")


async def test_rotation_resets_across_a_day_boundary(svc: Started) -> None:
    day1 = datetime(2030, 5, 6, 23, 59, tzinfo=UTC)
    end1 = datetime(2030, 5, 7, tzinfo=UTC)
    done = datetime(2030, 5, 6, 12, tzinfo=UTC)
    # daily: resetProgress + allowReselection; weekly-25-wins: allowReselection = false.
    await seed(
        svc.database_url,
        "u1",
        "daily-10-kills",
        progress=40,
        baseline=20,
        status="completed",
        completed_at=done,
        expires_at=end1,
    )
    await seed(
        svc.database_url,
        "u1",
        "daily-1-wins",
        progress=5,
        baseline=4,
        status="claimed",
        completed_at=done,
        claimed_at=done,
        expires_at=end1,
    )
    week_end = datetime(2030, 5, 13, tzinfo=UTC)
    await seed(
        svc.database_url,
        "u1",
        "weekly-25-wins",
        progress=30,
        baseline=0,
        status="claimed",
        claimed_at=done,
        expires_at=end1,
    )
    services = svc.service.services
    assert services is not None

    services.clock = lambda: day1  # still day 1: a completed goal stays completed
    await svc.client.stat("u1", "enemy_kills", 41, 1)
    kept = await row(svc.database_url, "u1", "daily-10-kills")
    assert kept is not None and (kept.status, kept.completed_at, kept.baseline) == ("completed", done, 20)

    day2 = datetime(2030, 5, 7, 0, 0, 1, tzinfo=UTC)
    services.clock = lambda: day2
    await svc.client.stat("u1", "enemy_kills", 44, 3)
    await svc.client.stat("u1", "wins", 6, 1)
    reset = await row(svc.database_url, "u1", "daily-10-kills")
    assert reset is not None
    assert (reset.progress, reset.baseline, reset.status, reset.completed_at) == (44, 41, "in_progress", None)
    assert reset.expires_at == datetime(2030, 5, 8, tzinfo=UTC)
    reselected = await row(svc.database_url, "u1", "daily-1-wins")  # claimed + allowReselection: back in play
    assert reselected is not None
    assert (reselected.baseline, reselected.status, reselected.claimed_at) == (5, "completed", None)
    assert reselected.completed_at == day2
    stays = await row(svc.database_url, "u1", "weekly-25-wins")  # claimed, no reselection: stays claimed
    assert stays is not None
    assert (stays.progress, stays.status, stays.claimed_at, stays.expires_at) == (
        30,
        "claimed",
        done,
        week_end,
    )


async def test_duplicate_ids_are_applied_once(svc: Started) -> None:
    await seed(svc.database_url, "u1", "first-login")
    await seed(svc.database_url, "u1", "daily-5-headshots", expires_at=datetime.now(UTC) + timedelta(hours=1))
    for _ in range(3):
        await svc.client.login("u1", event_id="login-1")
        await svc.client.stat("u1", "headshots", 3, 3, event_id="stat-1")
    await svc.client.login("u1", event_id="login-2")
    await svc.client.login("u1")  # no id: never deduplicated
    await svc.client.login("u1")
    assert (await row(svc.database_url, "u1", "first-login")).progress == 4  # type: ignore[union-attr]
    headshots = await row(svc.database_url, "u1", "daily-5-headshots")
    assert headshots is not None and (headshots.progress, headshots.baseline) == (3, 0)


async def test_duplicate_ids_are_applied_once_across_a_restart(start_service: StartService) -> None:
    first = await start_service()
    await seed(first.database_url, "u1", "first-login")
    await first.client.login("u1", event_id="evt-a")
    await first.stop()
    second = await start_service()
    await second.client.login("u1", event_id="evt-a")  # a redelivery after the restart
    await second.client.login("u1", event_id="evt-b")
    assert (await row(second.database_url, "u1", "first-login")).progress == 2  # type: ignore[union-attr]

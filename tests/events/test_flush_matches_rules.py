"""The flush SQL agrees with `rules.progress` (the specification), on the real database.

Two players with random rows (any status, active or not, claimed, with or without baseline, expiring
before, at or after the flush time, with or without an owed automatic claim; some goals without a row
at all) receive random event sequences, interleaved, flushed at random times across day, week and month
boundaries — through the real buffer, flusher and SQL (which fans a player's stat update out to every
goal of the stat code) on one side and `Delta.merge` + `apply` per goal on the other. Every column of
every row must end up identical, and no row appears.

The goals cover every path of the flush: global rotation at 00:00 UTC and in zones (a daily reset at
02:30 Berlin time on the night its clocks skip 02:00–03:00, a weekly one from Sunday 04:00 in Tokyo),
per-player periods with and without deactivation, global rotation that deactivates, `autoClaim` goals,
and a challenge whose time window opens and closes during the plan.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import astuple
from datetime import UTC, datetime, timedelta
from functools import reduce

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg_pool import AsyncConnectionPool

from challenge_service.catalog import Catalog, Challenge, Goal, Rotation
from challenge_service.catalog.model import EventSource, ProgressMode, Schedule
from challenge_service.events.buffer import Buffer, Event
from challenge_service.events.flusher import Flusher
from challenge_service.rules.progress import Delta, Progress, apply, login_delta, stat_delta
from challenge_service.rules.windows import is_live
from challenge_service.store.database import create_pool
from challenge_service.store.flush import create_staging_table
from tests.helpers.catalog import make_goal, make_rotation, per_user_rotation
from tests.helpers.clock import Clock
from tests.helpers.db import with_dbname

# Sunday 2024-03-31 20:00 UTC: within a few hours a day, an ISO week and a month all end; that morning
# (01:00 UTC) central Europe moved its clocks forward.
T0 = datetime(2024, 3, 31, 20, 0, tzinfo=UTC)
# The windowed challenge opens 6 h after T0 and ends a day later.
WINDOW = (T0 + timedelta(hours=6), T0 + timedelta(hours=30))
STAT_CODES = ("kills", "wins")


def _goal(
    goal_id: str,
    source: EventSource,
    target: int,
    mode: ProgressMode,
    rotation: Rotation | None = None,
    *,
    auto_claim: bool = False,
    challenge_id: str = "prop",
) -> Goal:
    code = STAT_CODES[len(goal_id) % 2]
    return make_goal(
        goal_id,
        source=source,
        stat_code=code,
        target=target,
        mode=mode,
        rotation=rotation,
        challenge_id=challenge_id,
        auto_claim=auto_claim,
    )


def _rotation(schedule: Schedule, reset: bool, reselect: bool) -> Rotation:
    return make_rotation(schedule, reset=reset, reselect=reselect)


# Goals using only the reference's keys: the flush runs its plain statement for these.
REFERENCE_GOALS = [
    _goal("login-abs", "login", 3, "absolute"),
    _goal("login-rel", "login", 2, "relative"),
    _goal("login-day", "login", 2, "relative", _rotation("daily", True, True)),
    _goal("login-week-keep", "login", 3, "relative", _rotation("weekly", False, False)),
    _goal("stat-abs", "statistic", 10, "absolute"),
    _goal("stat-abs2", "statistic", 5, "absolute"),
    _goal("stat-rel", "statistic", 5, "relative"),
    _goal("stat-rel-1", "statistic", 1, "relative"),
    _goal("stat-day", "statistic", 4, "relative", _rotation("daily", True, False)),
    _goal("stat-day-rs", "statistic", 4, "relative", _rotation("daily", False, True)),
    _goal("stat-week", "statistic", 6, "relative", _rotation("weekly", True, True)),
    _goal("stat-month", "statistic", 8, "relative", _rotation("monthly", True, True)),
    _goal("stat-month-abs", "statistic", 8, "absolute", _rotation("monthly", True, False)),
]
# ... and with the design keys: the full statement.
DESIGN_GOALS = [
    # zoned global rotation; one deactivating on expiry
    _goal(
        "login-berlin", "login", 2, "relative", make_rotation(reset_time="02:30", timezone="Europe/Berlin")
    ),
    _goal(
        "stat-tokyo-week",
        "statistic",
        5,
        "relative",
        make_rotation(
            "weekly", reset_time="04:00", timezone="Asia/Tokyo", week_start="sunday", deactivate=True
        ),
    ),
    # per-player periods: deactivating on expiry (the default), and restarting
    _goal("login-24h", "login", 2, "relative", per_user_rotation("24h")),
    _goal("stat-6h", "statistic", 4, "relative", per_user_rotation("6h", deactivate=False)),
    _goal("stat-2d-keep", "statistic", 3, "relative", per_user_rotation("2d", reset=False, reselect=False)),
    # auto-claim
    _goal("login-auto", "login", 1, "relative", _rotation("daily", True, True), auto_claim=True),
    _goal("stat-auto", "statistic", 6, "absolute", auto_claim=True),
    _goal("stat-auto-24h", "statistic", 3, "relative", per_user_rotation("24h"), auto_claim=True),
]
# Goals of a challenge that is live only inside WINDOW.
WINDOWED = [
    _goal("login-event", "login", 2, "absolute", challenge_id="event"),
    _goal("stat-event", "statistic", 7, "relative", _rotation("daily", True, True), challenge_id="event"),
    _goal("stat-event-auto", "statistic", 5, "absolute", auto_claim=True, challenge_id="event"),
]
CATALOGS = {
    "reference-keys": Catalog([Challenge(challenge_id="prop", name="prop", goals=tuple(REFERENCE_GOALS))]),
    "design-keys": Catalog(
        [
            Challenge(challenge_id="prop", name="prop", goals=(*REFERENCE_GOALS, *DESIGN_GOALS)),
            Challenge(
                challenge_id="event",
                name="event",
                goals=tuple(WINDOWED),
                starts_at=WINDOW[0],
                ends_at=WINDOW[1],
            ),
        ]
    ),
}
STATUSES = ("not_started", "in_progress", "completed", "claimed")

times = st.integers(min_value=-72 * 60, max_value=72 * 60).map(lambda m: T0 + timedelta(minutes=m))
optional_times = st.none() | times
rows = st.builds(
    Progress,
    progress=st.integers(0, 30),
    baseline=st.none() | st.integers(0, 30),
    status=st.sampled_from(STATUSES),
    is_active=st.booleans(),
    assigned_at=st.just(T0 - timedelta(days=5)),
    completed_at=optional_times,
    claimed_at=optional_times,
    expires_at=optional_times,
    auto_claim_at=st.none() | st.none() | times,
)
PLAYERS = 2
# (player, kind, stat code, value, inc)
events = st.one_of(
    st.tuples(st.integers(0, PLAYERS - 1), st.just("login"), st.just(""), st.just(0), st.just(0)),
    st.tuples(
        st.integers(0, PLAYERS - 1),
        st.just("stat"),
        st.sampled_from(STAT_CODES),
        st.integers(0, 40),
        st.integers(0, 12),
    ),
)
# A step: minutes since the previous flush, then the events buffered before it.
steps = st.lists(st.tuples(st.integers(0, 36 * 60), st.lists(events, max_size=8)), min_size=1, max_size=4)


@pytest.fixture(scope="module")
async def pool(pg_server: str, template_db: str) -> AsyncIterator[AsyncConnectionPool]:
    name = f"p_{uuid.uuid4().hex[:16]}"
    async with await psycopg.AsyncConnection.connect(pg_server, autocommit=True) as conn:
        await conn.execute(f"CREATE DATABASE {name} TEMPLATE {template_db}")
    pool = create_pool(with_dbname(pg_server, name), max_size=2, configure=create_staging_table)
    await pool.open(wait=True)
    yield pool
    await pool.close()
    async with await psycopg.AsyncConnection.connect(pg_server, autocommit=True) as conn:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _goal_ids(catalog: Catalog, kind: str, code: str) -> tuple[str, ...]:
    goals = catalog.login_goals if kind == "login" else catalog.stat_goals(code)
    return tuple(g.goal_id for g in goals)


@pytest.mark.parametrize("keys", CATALOGS)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
async def test_flush_sql_equals_python_rules(
    pool: AsyncConnectionPool, keys: str, data: st.DataObject
) -> None:
    catalog = CATALOGS[keys]
    goals = catalog.goals
    # A player's rows, one per goal; None: the player has no row for that goal.
    player_rows = st.lists(st.none() | rows, min_size=len(goals), max_size=len(goals))
    initial = data.draw(st.lists(player_rows, min_size=PLAYERS, max_size=PLAYERS), label="initial")
    plan = data.draw(steps, label="plan")
    players = [uuid.uuid4().hex for _ in range(PLAYERS)]
    starts = {
        (player, goal): start
        for player, player_starts in zip(players, initial, strict=True)
        for goal, start in zip(goals, player_starts, strict=True)
        if start is not None
    }
    expected = {(player, goal.goal_id): start for (player, goal), start in starts.items()}
    async with pool.connection() as conn, conn.cursor() as cursor:
        await cursor.executemany(
            """INSERT INTO user_goal_progress (user_id, goal_id, challenge_id, progress, baseline,
                   status, is_active, assigned_at, completed_at, claimed_at, expires_at, auto_claim_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            [(player, goal.goal_id, goal.challenge_id, *astuple(r)) for (player, goal), r in starts.items()],
        )

    clock = Clock(T0)
    buffer = Buffer(10_000, durable=False)
    flusher = Flusher(buffer, pool, lambda: catalog, clock, interval_s=0.0)
    for minutes, batch in plan:
        clock.now += timedelta(minutes=minutes)
        deltas: dict[tuple[str, str], list[Delta]] = {}
        for index, kind, code, value, inc in batch:
            player = players[index]
            delta = login_delta() if kind == "login" else stat_delta(value, inc)
            for goal_id in _goal_ids(catalog, kind, code):
                deltas.setdefault((player, goal_id), []).append(delta)
            buffer.add(
                Event("", player, None if kind == "login" else code, delta.value, delta.add, delta.inc)
            )
        for (player, goal_id), goal_deltas in deltas.items():
            goal = catalog.goal(goal_id)
            assert goal is not None
            if (player, goal_id) in expected:  # events never create rows
                merged = reduce(Delta.merge, goal_deltas)
                live = is_live(catalog.require_challenge(goal.challenge_id), clock.now)
                expected[player, goal_id] = apply(
                    goal, expected[player, goal_id], merged, clock.now, live=live
                )
        if not buffer.empty:
            assert await flusher.flush_once()

    async with pool.connection() as conn:
        cursor = await conn.execute(
            """SELECT user_id, goal_id, progress, baseline, status, is_active, assigned_at, completed_at,
                      claimed_at, expires_at, auto_claim_at
               FROM user_goal_progress WHERE user_id = ANY(%s)""",
            (players,),
        )
        actual = {(user, goal_id): Progress(*values) for user, goal_id, *values in await cursor.fetchall()}
    assert actual == expected

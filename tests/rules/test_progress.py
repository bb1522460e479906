"""Progress rules (`rules/progress.py`): `apply`, `rotate`, `view` and `displayed`, per rule.

Absolute and relative goals, the relative baseline set by the first event, completed staying completed,
claimed not moving, rotation resets with and without reselection; then properties over random events.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import reduce

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from challenge_service.catalog import Goal
from challenge_service.catalog.model import ProgressMode
from challenge_service.rules.periods import period_end
from challenge_service.rules.progress import (
    Delta,
    Progress,
    Status,
    apply,
    displayed,
    initial_expiry,
    is_rotated,
    login_delta,
    rotate,
    stat_delta,
    view,
)
from tests.helpers.catalog import make_goal, make_rotation

NOW = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)  # a Wednesday
EARLIER = NOW - timedelta(hours=3)
TODAY_END = datetime(2025, 3, 13, tzinfo=UTC)
YESTERDAY_END = datetime(2025, 3, 12, tzinfo=UTC)  # a daily row from yesterday expired at midnight

ABSOLUTE = make_goal("abs", target=10)
RELATIVE = make_goal("rel", target=10, mode="relative")
LOGIN = make_goal("login", source="login", target=3)
LOGIN_RELATIVE = make_goal("login-rel", source="login", target=3, mode="relative")
ACTIVE = Progress(is_active=True)
# Completed yesterday on a daily goal: its period has ended, so a reset is due at NOW.
STALE = Progress(
    progress=80,
    baseline=60,
    status="completed",
    is_active=True,
    completed_at=EARLIER,
    expires_at=YESTERDAY_END,
)
CLAIMED_STALE = replace(STALE, status="claimed", claimed_at=EARLIER)


def daily(*, reset: bool = True, reselect: bool = True, mode: ProgressMode = "relative") -> Goal:
    return make_goal(
        "day", target=5, mode=mode, rotation=make_rotation("daily", reset=reset, reselect=reselect)
    )


# -- displayed -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("goal", "row", "shown"),
    [
        (ABSOLUTE, Progress(progress=7), 7),
        (ABSOLUTE, Progress(progress=7, baseline=5), 7),  # absolute ignores any baseline
        (RELATIVE, Progress(progress=7), 0),  # no baseline yet: nothing counted
        (RELATIVE, Progress(progress=57, baseline=50), 7),
        (RELATIVE, Progress(progress=40, baseline=50), 0),  # a stat that went down never shows negative
    ],
)
def test_displayed(goal: Goal, row: Progress, shown: int) -> None:
    assert displayed(goal, row) == shown


# -- apply -----------------------------------------------------------------------------------------


def test_an_inactive_row_does_not_move() -> None:
    row = Progress(progress=3, status="in_progress", is_active=False)
    assert apply(ABSOLUTE, row, stat_delta(50, 47), NOW) is row
    expired = replace(row, expires_at=YESTERDAY_END)
    assert apply(daily(), expired, stat_delta(50, 47), NOW) is expired  # not even rotated


def test_absolute_stat_takes_the_latest_value() -> None:
    row = apply(ABSOLUTE, ACTIVE, stat_delta(4, 1), NOW)
    assert (row.progress, row.baseline, row.status, row.completed_at) == (4, None, "in_progress", None)

    row = apply(ABSOLUTE, row, stat_delta(10, 6), NOW)  # exactly the target completes
    assert (row.progress, row.status, row.completed_at) == (10, "completed", NOW)


def test_absolute_login_counts_logins() -> None:
    row = apply(LOGIN, ACTIVE, login_delta(), EARLIER)
    assert (row.progress, row.status) == (1, "in_progress")
    row = apply(LOGIN, row, login_delta(2), NOW)
    assert (row.progress, row.status, row.completed_at) == (3, "completed", NOW)


def test_the_first_event_sets_the_relative_baseline_and_counts_itself() -> None:
    # The stat stood at 50 before this event added 7: the baseline is 50, the goal shows 7.
    row = apply(RELATIVE, ACTIVE, stat_delta(57, 7), NOW)
    assert (row.progress, row.baseline, displayed(RELATIVE, row), row.status) == (57, 50, 7, "in_progress")

    row = apply(RELATIVE, row, stat_delta(60, 3), NOW)  # the baseline stays put
    assert (row.progress, row.baseline, displayed(RELATIVE, row), row.status) == (60, 50, 10, "completed")


def test_the_first_login_sets_the_relative_baseline_and_counts_itself() -> None:
    row = apply(LOGIN_RELATIVE, replace(ACTIVE, progress=12), login_delta(), NOW)
    assert (row.progress, row.baseline, displayed(LOGIN_RELATIVE, row)) == (13, 12, 1)


def test_a_merged_batch_sets_the_baseline_before_all_of_its_increments() -> None:
    merged = stat_delta(57, 7).merge(stat_delta(60, 3))
    row = apply(RELATIVE, ACTIVE, merged, NOW)
    assert (row.progress, row.baseline, displayed(RELATIVE, row)) == (60, 50, 10)


def test_a_completed_row_stays_completed_and_keeps_its_time() -> None:
    done = Progress(progress=10, status="completed", is_active=True, completed_at=EARLIER)
    row = apply(ABSOLUTE, done, stat_delta(3, 0), NOW)  # the stat went down below the target
    assert (row.progress, row.status, row.completed_at) == (3, "completed", EARLIER)


def test_a_claimed_row_does_not_move() -> None:
    assert apply(ABSOLUTE, CLAIMED_STALE, stat_delta(99, 19), NOW) == CLAIMED_STALE
    assert apply(LOGIN, CLAIMED_STALE, login_delta(), NOW) == CLAIMED_STALE


def test_apply_rotates_first_then_counts_the_event_in_the_new_period() -> None:
    row = apply(daily(), STALE, stat_delta(83, 3), NOW)
    assert (row.progress, row.baseline, row.status, row.expires_at) == (83, 80, "in_progress", TODAY_END)
    assert row.completed_at is None


def test_a_claimed_row_whose_period_ended_moves_again_when_reselection_is_allowed() -> None:
    row = apply(daily(reselect=True), CLAIMED_STALE, stat_delta(83, 3), NOW)
    assert (row.status, row.baseline, row.claimed_at, row.expires_at) == ("in_progress", 80, None, TODAY_END)
    kept = apply(daily(reselect=False), CLAIMED_STALE, stat_delta(83, 3), NOW)
    assert kept == replace(CLAIMED_STALE, expires_at=TODAY_END)


# -- rotate and view -------------------------------------------------------------------------------


def test_no_rotation_no_reset() -> None:
    assert rotate(ABSOLUTE, STALE, NOW) is STALE
    disabled = make_goal(rotation=msgspec.structs.replace(make_rotation("daily"), enabled=False))
    assert rotate(disabled, STALE, NOW) is STALE


def test_a_period_that_has_not_ended_is_left_alone_and_ends_exactly_at_expires_at() -> None:
    row = replace(STALE, expires_at=TODAY_END)
    assert rotate(daily(), row, TODAY_END - timedelta(microseconds=1)) is row
    assert not is_rotated(row, TODAY_END - timedelta(microseconds=1))
    assert is_rotated(row, TODAY_END)
    assert rotate(daily(), row, TODAY_END).status == "not_started"


@pytest.mark.parametrize("status", ["not_started", "in_progress", "completed"])
def test_a_reset_clears_the_period_but_keeps_the_raw_value(status: Status) -> None:
    row = replace(STALE, status=status, completed_at=EARLIER if status == "completed" else None)
    assert rotate(daily(), row, NOW) == Progress(progress=80, is_active=True, expires_at=TODAY_END)


def test_without_reset_progress_only_the_expiry_moves() -> None:
    assert rotate(daily(reset=False), STALE, NOW) == replace(STALE, expires_at=TODAY_END)


@pytest.mark.parametrize(
    ("reset", "reselect", "status"),
    [
        (True, True, "not_started"),
        (False, True, "not_started"),
        (True, False, "claimed"),
        (False, False, "claimed"),
    ],
)
def test_a_claimed_row_comes_back_only_with_reselection(reset: bool, reselect: bool, status: str) -> None:
    rotated = rotate(daily(reset=reset, reselect=reselect), CLAIMED_STALE, NOW)
    assert (rotated.status, rotated.expires_at) == (status, TODAY_END)
    assert (rotated.claimed_at is None) == (status == "not_started")


def test_a_row_expired_long_ago_moves_to_the_period_of_now() -> None:
    weekly = make_goal(rotation=make_rotation("weekly"))
    row = replace(STALE, expires_at=datetime(2025, 1, 6, tzinfo=UTC))
    assert rotate(weekly, row, NOW).expires_at == datetime(2025, 3, 17, tzinfo=UTC)


def test_view_shows_a_fresh_inactive_row_for_a_missing_one_and_a_due_reset_before_it_is_stored() -> None:
    assert view(ABSOLUTE, None, NOW) == Progress()
    shown = view(daily(), STALE, NOW)
    assert (shown.status, displayed(daily(), shown), shown.expires_at) == ("not_started", 0, TODAY_END)
    assert view(daily(), STALE, YESTERDAY_END - timedelta(hours=1)) == STALE  # before the end: as stored


def test_initial_expiry_is_the_end_of_the_current_period() -> None:
    assert initial_expiry(ABSOLUTE, NOW) is None
    assert initial_expiry(daily(), NOW) == TODAY_END
    assert initial_expiry(make_goal(rotation=make_rotation("monthly")), NOW) == period_end("monthly", NOW)


# -- properties ------------------------------------------------------------------------------------

GOALS = [
    ABSOLUTE,
    RELATIVE,
    LOGIN,
    LOGIN_RELATIVE,
    daily(),
    daily(reset=False),
    daily(reselect=False),
    daily(mode="absolute"),
    make_goal("week", mode="relative", rotation=make_rotation("weekly", reset=True, reselect=False)),
]
STATUSES = ("not_started", "in_progress", "completed", "claimed")
times = st.integers(-3 * 24 * 60, 3 * 24 * 60).map(lambda minutes: NOW + timedelta(minutes=minutes))
rows = st.builds(
    Progress,
    progress=st.integers(0, 30),
    baseline=st.none() | st.integers(0, 30),
    status=st.sampled_from(STATUSES),
    is_active=st.just(True),
    completed_at=st.none() | times,
    claimed_at=st.none() | times,
    expires_at=st.none() | times,
)


@st.composite
def consistent_events(draw: st.DrawFn, goal: Goal) -> list[Delta]:
    """Events as a game sends them: logins, or stat values that grow by the increment each reports."""
    count = draw(st.integers(1, 6))
    if goal.event_source == "login":
        return [login_delta() for _ in range(count)]
    value = draw(st.integers(0, 30))
    events = []
    for _ in range(count):
        inc = draw(st.integers(0, 8))
        value += inc
        events.append(stat_delta(value, inc))
    return events


@given(data=st.data(), row=rows, now=times)
def test_a_merged_batch_gives_the_row_its_events_would_one_by_one(
    data: st.DataObject, row: Progress, now: datetime
) -> None:
    goal = data.draw(st.sampled_from(GOALS))
    events = data.draw(consistent_events(goal))
    one_by_one = reduce(lambda current, event: apply(goal, current, event, now), events, row)
    assert apply(goal, row, reduce(Delta.merge, events), now) == one_by_one


@given(data=st.data(), row=rows, now=times)
def test_rotation_is_idempotent_and_leaves_no_period_behind(
    data: st.DataObject, row: Progress, now: datetime
) -> None:
    goal = data.draw(st.sampled_from(GOALS))
    rotated = rotate(goal, row, now)
    assert rotate(goal, rotated, now) == rotated
    if goal.rotation is not None and is_rotated(row, now):
        assert rotated.expires_at == period_end(goal.rotation.schedule, now)
        assert not is_rotated(rotated, now)
    assert rotated.progress == row.progress  # the raw value is the game's, never reset


@given(data=st.data(), row=rows, now=times)
def test_after_apply_a_row_is_completed_once_it_shows_its_target(
    data: st.DataObject, row: Progress, now: datetime
) -> None:
    goal = data.draw(st.sampled_from(GOALS))
    event = data.draw(consistent_events(goal))[0]
    before = rotate(goal, row, now)
    after = apply(goal, row, event, now)
    assert displayed(goal, after) >= 0
    if before.status == "claimed":
        assert after == before
    elif before.status == "completed":
        assert (after.status, after.completed_at) == ("completed", before.completed_at)
    elif displayed(goal, after) >= goal.requirement.target_value:
        assert (after.status, after.completed_at) == ("completed", now)
    else:
        assert after.status == "in_progress"

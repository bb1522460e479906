"""Per-player periods, rotation that deactivates, events outside a window and owed automatic claims
(`rules/progress.py`, `rules/selection.py`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from challenge_service.rules.progress import (
    Progress,
    apply,
    initial_expiry,
    reset,
    rotate,
    set_displayed,
    stat_delta,
    view,
)
from challenge_service.rules.selection import activate, deactivate
from tests.helpers.catalog import make_goal, make_rotation, per_user_rotation

T0 = datetime(2026, 7, 4, 10, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY_GOAL = make_goal(target=3, mode="relative", rotation=per_user_rotation("24h"))
RESTARTING = make_goal(target=3, mode="relative", rotation=per_user_rotation("24h", deactivate=False))


def test_a_per_user_period_starts_at_activation_and_lasts_its_duration() -> None:
    assert initial_expiry(DAY_GOAL, T0) is None  # no period until the player picks the goal
    row = activate(DAY_GOAL, None, T0)
    assert row.is_active and row.expires_at == T0 + 24 * HOUR


def test_toggling_a_goal_never_extends_a_running_period() -> None:
    row = activate(DAY_GOAL, None, T0)
    row = deactivate(DAY_GOAL, row, T0 + HOUR)
    row = activate(DAY_GOAL, row, T0 + 2 * HOUR)
    assert row.expires_at == T0 + 24 * HOUR


def test_an_expired_period_deactivates_the_goal_by_default_and_the_next_pick_starts_a_new_one() -> None:
    row = apply(DAY_GOAL, activate(DAY_GOAL, None, T0), stat_delta(5, 5), T0 + HOUR)
    assert row.status == "completed"
    later = T0 + 25 * HOUR
    expired = view(DAY_GOAL, row, later)
    assert not expired.is_active
    assert expired.status == "not_started" and expired.completed_at is None
    # An event after the expiry does not move the goal: it waits for the player.
    assert apply(DAY_GOAL, row, stat_delta(9, 4), later) == expired
    again = activate(DAY_GOAL, expired, later)
    assert again.is_active and again.expires_at == later + 24 * HOUR


def test_without_deactivate_a_new_period_starts_at_the_reset() -> None:
    row = activate(RESTARTING, None, T0)
    later = T0 + 30 * HOUR
    moved = rotate(RESTARTING, row, later)
    assert moved.is_active
    assert moved.expires_at == later + 24 * HOUR


def test_global_rotation_can_deactivate_too() -> None:
    goal = make_goal(target=3, mode="relative", rotation=make_rotation("daily", deactivate=True))
    row = activate(goal, None, T0)
    assert row.expires_at == datetime(2026, 7, 5, tzinfo=UTC)
    expired = rotate(goal, row, datetime(2026, 7, 5, 1, tzinfo=UTC))
    assert not expired.is_active
    # Picked again, the calendar's current period runs.
    again = activate(goal, expired, datetime(2026, 7, 5, 1, tzinfo=UTC))
    assert again.is_active and again.expires_at == datetime(2026, 7, 6, tzinfo=UTC)


def test_goals_of_a_challenge_that_is_not_live_do_not_move() -> None:
    row = activate(DAY_GOAL, None, T0)
    assert apply(DAY_GOAL, row, stat_delta(9, 9), T0 + HOUR, live=False) == row


def test_completing_an_auto_claim_goal_owes_its_claim_and_holds_the_period() -> None:
    goal = make_goal(target=2, mode="relative", rotation=per_user_rotation("24h"), auto_claim=True)
    row = apply(goal, activate(goal, None, T0), stat_delta(2, 2), T0 + HOUR)
    assert row.status == "completed" and row.auto_claim_at == T0 + HOUR
    # A later event keeps the first owed time; the period waits for the grant.
    after = apply(goal, row, stat_delta(5, 3), T0 + 30 * HOUR)
    assert (after.status, after.auto_claim_at, after.expires_at, after.is_active) == (
        "completed",
        T0 + HOUR,
        T0 + 24 * HOUR,
        True,
    )
    # An operator's reset withdraws it; setting the progress to the target owes it again.
    assert reset(goal, row, T0 + 2 * HOUR).auto_claim_at is None
    assert set_displayed(goal, None, 2, T0).auto_claim_at == T0


def test_a_goal_without_auto_claim_owes_nothing() -> None:
    row = apply(DAY_GOAL, activate(DAY_GOAL, None, T0), stat_delta(5, 5), T0 + HOUR)
    assert row.status == "completed" and row.auto_claim_at is None


@given(
    hours=st.integers(1, 90 * 24),
    picked=st.integers(0, 200),
    looked=st.integers(0, 400),
)
def test_a_per_user_row_is_shown_active_exactly_while_its_period_runs(
    hours: int, picked: int, looked: int
) -> None:
    goal = make_goal(target=3, mode="relative", rotation=per_user_rotation(f"{hours}h"))
    start = T0 + picked * HOUR
    row = activate(goal, Progress(), start)
    now = start + looked * HOUR
    shown = view(goal, row, now)
    assert shown.is_active is (now < start + hours * HOUR)


def test_an_owed_claim_holds_the_period_only_while_the_goal_is_auto_claimed() -> None:
    auto = make_goal(target=2, rotation=per_user_rotation("24h"), auto_claim=True)
    owed = apply(auto, activate(auto, None, T0), stat_delta(2, 2), T0 + HOUR)
    assert owed.auto_claim_at == T0 + HOUR
    assert rotate(auto, owed, T0 + 30 * HOUR) == owed
    # A catalog reload dropped `autoClaim`: the period ends as for any goal (the flush does the same).
    plain = make_goal(target=2, rotation=per_user_rotation("24h"))
    rotated = rotate(plain, owed, T0 + 30 * HOUR)
    assert rotated != owed
    assert rotated == replace(
        rotate(plain, replace(owed, auto_claim_at=None), T0 + 30 * HOUR), auto_claim_at=T0 + HOUR
    )

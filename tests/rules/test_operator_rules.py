"""What an operator's set-progress and reset do to a row (`rules.progress.set_displayed`, `reset`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from challenge_service.catalog import Goal, load_catalog
from challenge_service.rules.progress import Delta, Progress, apply, displayed, reset, set_displayed
from tests.helpers.service import REPO

NOW = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)  # a Wednesday
TODAY_END = datetime(2025, 3, 13, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=2)


# From the shipped challenge file: an absolute goal without rotation, a relative daily one.
CATALOG = load_catalog(str(REPO / "challenges.json"))
ABSOLUTE, RELATIVE = CATALOG.goal("first-100-kills"), CATALOG.goal("daily-10-kills")
assert ABSOLUTE is not None and RELATIVE is not None
assert (ABSOLUTE.requirement.progress_mode, RELATIVE.requirement.progress_mode) == ("absolute", "relative")

rows = st.builds(
    Progress,
    progress=st.integers(0, 1000),
    baseline=st.none() | st.integers(-1000, 1000),
    status=st.sampled_from(["not_started", "in_progress", "completed", "claimed"]),
    is_active=st.booleans(),
    assigned_at=st.just(EARLIER),
    completed_at=st.none() | st.just(EARLIER),
    expires_at=st.just(TODAY_END),
)


@given(goal=st.sampled_from([ABSOLUTE, RELATIVE]), row=st.none() | rows, value=st.integers(0, 2000))
def test_the_player_sees_exactly_the_value_set(goal: Goal, row: Progress | None, value: int) -> None:
    after = set_displayed(goal, row, value, NOW)
    assert displayed(goal, after) == value
    if row is not None and row.status == "claimed":
        assert after.status == "claimed"  # the reward is granted; only a reset reopens the goal
    elif value >= goal.requirement.target_value:
        assert after.status == "completed" and after.completed_at is not None
    else:
        assert after.status == ("in_progress" if value else "not_started")
        assert after.completed_at is None
    # Activation is the player's business.
    assert after.is_active == (row.is_active if row is not None else False)


@given(row=rows, value=st.integers(0, 500), latest=st.integers(0, 500), inc=st.integers(0, 50))
def test_relative_progress_counts_on_from_the_value_set(
    row: Progress, value: int, latest: int, inc: int
) -> None:
    """After the operator's value, a stat event adds what the stat moved since the last known value."""
    row = replace(row, status="in_progress", is_active=True, baseline=0)
    fixed = set_displayed(RELATIVE, row, value, NOW)
    moved = apply(RELATIVE, fixed, Delta(value=row.progress + latest, inc=inc), NOW)
    assert displayed(RELATIVE, moved) == value + latest


def test_a_completed_goal_keeps_its_first_completion_time() -> None:
    row = Progress(progress=120, status="completed", is_active=True, completed_at=EARLIER)
    assert set_displayed(ABSOLUTE, row, 150, NOW).completed_at == EARLIER
    assert set_displayed(ABSOLUTE, Progress(progress=3, status="in_progress"), 150, NOW).completed_at == NOW


def test_lowering_a_completed_goal_reopens_it() -> None:
    row = Progress(progress=120, status="completed", is_active=True, completed_at=EARLIER)
    assert set_displayed(ABSOLUTE, row, 4, NOW) == replace(
        row, progress=4, status="in_progress", completed_at=None
    )


def test_a_missing_row_is_created_inactive_in_the_current_period() -> None:
    assert set_displayed(RELATIVE, None, 3, NOW) == Progress(
        progress=0, baseline=-3, status="in_progress", expires_at=TODAY_END
    )


def test_a_rotated_row_is_reset_before_the_value_is_set() -> None:
    yesterday = Progress(
        progress=50, baseline=30, status="claimed", is_active=True, expires_at=NOW - timedelta(hours=10)
    )
    after = set_displayed(RELATIVE, yesterday, 4, NOW)
    assert (after.status, after.expires_at, displayed(RELATIVE, after)) == ("in_progress", TODAY_END, 4)


@pytest.mark.parametrize("status", ["not_started", "in_progress", "completed", "claimed"])
def test_reset_goes_back_to_the_start_from_any_status(status: str) -> None:
    row = Progress(
        progress=40,
        baseline=25,
        status=status,  # type: ignore[arg-type]
        is_active=True,
        assigned_at=EARLIER,
        completed_at=EARLIER if status in ("completed", "claimed") else None,
        claimed_at=EARLIER if status == "claimed" else None,
        expires_at=TODAY_END,
    )
    assert reset(RELATIVE, row, NOW) == Progress(is_active=True, assigned_at=EARLIER, expires_at=TODAY_END)


def test_reset_of_a_missing_row_is_a_fresh_row() -> None:
    assert reset(ABSOLUTE, None, NOW) == Progress()

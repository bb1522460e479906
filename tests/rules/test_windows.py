"""A challenge's time window (`rules/windows.py`): its state, the claim grace, the default listing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from challenge_service.catalog import Challenge
from challenge_service.rules.windows import claimable_until, in_grace, listed_by_default, next_change, state
from tests.helpers.catalog import make_goal

START = datetime(2026, 7, 4, tzinfo=UTC)
END = datetime(2026, 7, 6, tzinfo=UTC)


def challenge(
    starts_at: datetime | None = START, ends_at: datetime | None = END, grace_hours: int = 72
) -> Challenge:
    return Challenge(
        challenge_id="weekend",
        name="Weekend",
        goals=(make_goal(challenge_id="weekend"),),
        starts_at=starts_at,
        ends_at=ends_at,
        claim_grace_hours=grace_hours,
    )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (START - timedelta(microseconds=1), "upcoming"),
        (START, "live"),  # the start is inside the window
        (END - timedelta(microseconds=1), "live"),
        (END, "ended"),  # the end is not
    ],
)
def test_state_follows_the_window(now: datetime, expected: str) -> None:
    assert state(challenge(), now) == expected


def test_an_open_side_never_closes() -> None:
    assert state(challenge(starts_at=None), START - timedelta(days=999)) == "live"
    assert state(challenge(ends_at=None), END + timedelta(days=999)) == "live"
    assert state(challenge(None, None), START) == "live"
    assert claimable_until(challenge(ends_at=None)) is None


def test_completed_goals_stay_claimable_for_the_grace_after_the_end() -> None:
    weekend = challenge(grace_hours=24)
    assert claimable_until(weekend) == END + timedelta(hours=24)
    assert in_grace(weekend, END)
    assert in_grace(weekend, END + timedelta(hours=24) - timedelta(microseconds=1))
    assert not in_grace(weekend, END + timedelta(hours=24))
    assert not in_grace(weekend, START)  # live, not in grace
    assert not in_grace(challenge(grace_hours=0), END)


@pytest.mark.parametrize(
    ("now", "listed"),
    [
        (START - timedelta(hours=1), False),  # upcoming
        (START, True),  # live
        (END + timedelta(hours=71), True),  # ended, in the 72 h grace
        (END + timedelta(hours=72), False),  # grace over
    ],
)
def test_the_default_listing_shows_live_challenges_and_those_in_grace(now: datetime, listed: bool) -> None:
    assert listed_by_default(challenge(), now) is listed


def test_the_next_change_is_the_first_bound_after_now() -> None:
    others = [challenge(), challenge(START + timedelta(hours=1), None)]
    assert next_change(others, START - timedelta(hours=1)) == START
    assert next_change(others, START) == START + timedelta(hours=1)
    assert next_change(others, START + timedelta(hours=1)) == END
    assert next_change(others, END) is None

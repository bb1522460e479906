"""Pure selection rules (`rules.selection`): no database, no clock."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from challenge_service.catalog import Catalog, parse_catalog
from challenge_service.rules import selection
from challenge_service.rules.progress import Progress, fresh

NOW = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)  # a Wednesday
TOMORROW = datetime(2025, 3, 13, tzinfo=UTC)


def _goal(
    goal_id: str,
    *,
    prerequisites: tuple[str, ...] = (),
    default: bool = False,
    daily: bool = False,
    reselect: bool = True,
) -> dict[str, Any]:
    goal: dict[str, Any] = {
        "goalId": goal_id,
        "name": goal_id,
        "eventSource": "statistic",
        "requirement": {
            "statCode": "kills",
            "operator": ">=",
            "targetValue": 10,
            "progressMode": "relative" if daily else "absolute",
        },
        "reward": {"type": "WALLET", "rewardId": "GOLD", "quantity": 1},
        "prerequisites": list(prerequisites),
        "defaultAssigned": default,
    }
    if daily:
        goal["rotation"] = {
            "enabled": True,
            "type": "global",
            "schedule": "daily",
            "onExpiry": {"resetProgress": True, "allowReselection": reselect},
        }
    return goal


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    document = {
        "challenges": [
            {"challengeId": "base", "name": "Base", "goals": [_goal("a", default=True), _goal("b")]},
            {
                "challengeId": "daily",
                "name": "Daily",
                "goals": [
                    _goal("d1", daily=True, default=True),
                    _goal("d2", daily=True),
                    _goal("d3", daily=True),
                    _goal("d4", daily=True, prerequisites=("b",)),
                    _goal("d5", daily=True, reselect=False),
                ],
            },
        ]
    }
    return parse_catalog(json.dumps(document).encode())


def goal(catalog: Catalog, goal_id: str) -> Any:
    found = catalog.goal(goal_id)
    assert found is not None
    return found


def challenge(catalog: Catalog, challenge_id: str) -> Any:
    found = catalog.challenge(challenge_id)
    assert found is not None
    return found


def test_fresh_rows_expire_at_the_period_end_only_when_rotating(catalog: Catalog) -> None:
    assert fresh(goal(catalog, "d1"), NOW) == Progress(expires_at=TOMORROW)
    assert fresh(goal(catalog, "a"), NOW) == Progress()


def test_activate_and_deactivate_keep_progress(catalog: Catalog) -> None:
    row = Progress(progress=7, status="in_progress", is_active=False, assigned_at=None)
    on = selection.activate(goal(catalog, "a"), row, NOW)
    assert on == replace(row, is_active=True, assigned_at=NOW)
    assert selection.deactivate(goal(catalog, "a"), on, NOW) == replace(on, is_active=False)
    assert selection.activate(goal(catalog, "a"), None, NOW) == Progress(is_active=True, assigned_at=NOW)


def test_activate_applies_a_due_reset(catalog: Catalog) -> None:
    stale = Progress(progress=30, baseline=5, status="completed", completed_at=NOW, expires_at=TOMORROW)
    later = datetime(2025, 3, 14, 9, tzinfo=UTC)
    on = selection.activate(goal(catalog, "d2"), stale, later)
    assert on == Progress(
        progress=30,
        baseline=None,
        status="not_started",
        is_active=True,
        assigned_at=later,
        expires_at=datetime(2025, 3, 15, tzinfo=UTC),
    )


def test_initialize_creates_missing_defaults_and_rotates_due_rows(catalog: Catalog) -> None:
    rows = {
        "a": Progress(is_active=False, progress=3),  # deactivated by the player: left alone
        "d2": Progress(status="completed", completed_at=NOW, expires_at=TOMORROW, is_active=True),
        "gone": Progress(is_active=True),  # no longer in the catalog: left alone
    }
    assert selection.needs_initialize(catalog, rows, NOW)
    changes = selection.initialize(catalog, rows, NOW)
    assert changes.created == {"d1": Progress(is_active=True, assigned_at=NOW, expires_at=TOMORROW)}
    assert changes.updated == {}
    rows = changes.merged(rows)
    assert not selection.needs_initialize(catalog, rows, NOW)

    changes = selection.initialize(catalog, rows, TOMORROW)
    assert changes.created == {}
    assert set(changes.updated) == {"d1", "d2"}
    assert changes.updated["d2"].status == "not_started"
    assert changes.updated["d2"].expires_at == datetime(2025, 3, 14, tzinfo=UTC)


def test_select_replaces_other_active_goals_in_challenge_order(catalog: Catalog) -> None:
    daily = challenge(catalog, "daily")
    rows = {
        "d3": Progress(is_active=True, expires_at=TOMORROW),
        "d1": Progress(is_active=True, expires_at=TOMORROW),
        "d2": Progress(is_active=True, expires_at=TOMORROW, assigned_at=NOW),
        "a": Progress(is_active=True),
    }
    kept = selection.select(
        daily, [goal(catalog, "d2"), goal(catalog, "d5")], rows, NOW, replace_existing=False
    )
    assert (kept.replaced, kept.total_active) == ([], 4)
    assert set(kept.changes.created) == {"d5"}
    assert kept.changes.updated == {}  # d2 was already active since NOW: nothing to write

    swapped = selection.select(daily, [goal(catalog, "d2")], rows, NOW, replace_existing=True)
    assert swapped.replaced == ["d1", "d3"]
    assert swapped.total_active == 1
    assert {g: r.is_active for g, r in swapped.changes.updated.items()} == {"d1": False, "d3": False}


def test_pool_skips_completed_claimed_locked_and_optionally_active(catalog: Catalog) -> None:
    daily = challenge(catalog, "daily")
    rows = {
        "d1": Progress(status="completed", expires_at=TOMORROW),
        "d2": Progress(status="in_progress", is_active=True, expires_at=TOMORROW),
        "d5": Progress(status="claimed", expires_at=TOMORROW),
    }
    ids = [g.goal_id for g in selection.random_pool(catalog, daily, rows, NOW, exclude_active=False)]
    assert ids == ["d2", "d3"]  # d4 is locked behind "b"
    ids = [g.goal_id for g in selection.random_pool(catalog, daily, rows, NOW, exclude_active=True)]
    assert ids == ["d3"]

    # Prerequisite met → d4 unlocks; after rotation d1 is available again, d5 stays claimed (no reselection).
    rows["b"] = Progress(status="claimed")
    ids = [g.goal_id for g in selection.random_pool(catalog, daily, rows, TOMORROW, exclude_active=False)]
    assert ids == ["d1", "d2", "d3", "d4"]


def test_sample_takes_the_whole_pool_when_small_and_never_repeats(catalog: Catalog) -> None:
    pool = list(challenge(catalog, "daily").goals)
    rng = random.Random(7)
    assert selection.sample(pool, 5, rng) == pool
    assert selection.sample(pool, 50, rng) == pool
    for _ in range(50):
        drawn = selection.sample(pool, 3, rng)
        assert len({g.goal_id for g in drawn}) == 3


def test_sample_is_uniform(catalog: Catalog) -> None:
    pool = list(challenge(catalog, "daily").goals)
    rng = random.Random(42)
    counts = Counter(g.goal_id for _ in range(5000) for g in selection.sample(pool, 2, rng))
    # Each goal is drawn with probability 2/5: 2000 expected per goal.
    assert all(1800 < n < 2200 for n in counts.values()), counts
    assert len(counts) == 5


def test_prerequisite_ids(catalog: Catalog) -> None:
    assert selection.prerequisite_ids(challenge(catalog, "daily").goals) == {"b"}

"""The two catalog files that ship: the reference's own (must load unchanged) and our demo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from challenge_service.catalog import Catalog, load_catalog

REPO_ROOT = Path(__file__).resolve().parents[2]
# A byte-for-byte copy of the Go reference's shipped file, kept in the repo so the test does not depend
# on where the clone sits; test_reference_copy_is_unchanged checks it against the original when present.
REFERENCE_FILE = REPO_ROOT / "tests" / "fixtures" / "reference_challenges.json"
ORIGINAL_REFERENCE = REPO_ROOT.parent / "shared" / "reference" / "challenges.json"
DEMO_FILE = REPO_ROOT / "challenges.json"


@pytest.mark.skipif(not ORIGINAL_REFERENCE.exists(), reason="shared/ is not beside this clone")
def test_reference_copy_is_unchanged() -> None:
    assert REFERENCE_FILE.read_bytes() == ORIGINAL_REFERENCE.read_bytes()


@pytest.fixture(scope="module")
def reference() -> Catalog:
    return load_catalog(REFERENCE_FILE)


@pytest.fixture(scope="module")
def demo() -> Catalog:
    return load_catalog(DEMO_FILE)


def test_reference_file_loads(reference: Catalog) -> None:
    assert [c.challenge_id for c in reference.challenges] == [
        "challenge-001",
        "winter-challenge-2025",
        "daily-quests",
        "daily-challenges",
        "rotation-daily",
        "weekly-challenges",
        "monthly-challenges",
    ]
    assert len(reference.goals) == 24


def test_reference_prerequisites_and_legacy_keys(reference: Catalog) -> None:
    # Goals in winter-challenge-2025 and daily-quests carry legacy "type" keys; they must be ignored.
    snowmen = reference.goal("kill-10-snowmen")

    assert snowmen is not None
    assert snowmen.challenge_id == "winter-challenge-2025"
    assert snowmen.prerequisites == ("complete-tutorial",)
    assert snowmen.reward.type == "ITEM"
    assert snowmen.reward.reward_id == "767d2217abe241aab2245794761e9dc4"


def test_reference_lookups(reference: Catalog) -> None:
    assert [g.goal_id for g in reference.stat_goals("wins")] == [
        "daily-wins",
        "daily-challenges-goal-02",
        "daily-wins-no-reselect",
        "weekly-challenges-goal-02",
        "weekly-wins-no-reset",
    ]
    assert [g.goal_id for g in reference.login_goals] == [
        "challenge-001-goal-01",
        "login-today",
        "daily-login",
        "daily-extra-challenge-001-goal-01",
        "daily-extra-challenge-001-goal-02",
        "daily-login-rotation",
    ]
    no_reset = reference.goal("weekly-wins-no-reset")
    assert no_reset is not None and no_reset.rotation is not None
    assert no_reset.rotation.schedule == "weekly"
    assert no_reset.rotation.on_expiry.reset_progress is False
    assert no_reset.requirement.progress_mode == "relative"


def test_demo_file_loads(demo: Catalog) -> None:
    assert {"daily-challenges", "weekly-challenges", "monthly-challenges", "onboarding"} <= {
        c.challenge_id for c in demo.challenges
    }


def test_demo_daily_challenges(demo: Catalog) -> None:
    daily = demo.challenge("daily-challenges")
    assert daily is not None

    assert len(daily.goals) >= 30
    assert {g.requirement.stat_code for g in daily.goals} >= {
        "login_count",
        "enemy_kills",
        "games_played",
        "headshots",
        "wins",
    }
    assert {g.reward.type for g in daily.goals} == {"ITEM", "WALLET"}
    for goal in daily.goals:
        assert goal.rotating, goal.goal_id
        assert goal.rotation is not None and goal.rotation.schedule == "daily"
        assert goal.rotation.on_expiry.reset_progress and goal.rotation.on_expiry.allow_reselection
        assert goal.requirement.progress_mode == "relative"
    # They are meant to be picked by random/batch select, not handed to everyone.
    assert sum(g.default_assigned for g in daily.goals) <= 2


@pytest.mark.parametrize(
    ("challenge_id", "schedule"), [("weekly-challenges", "weekly"), ("monthly-challenges", "monthly")]
)
def test_demo_periodic_challenges(demo: Catalog, challenge_id: str, schedule: str) -> None:
    challenge = demo.challenge(challenge_id)
    assert challenge is not None

    assert all(g.rotation is not None and g.rotation.schedule == schedule for g in challenge.goals)


def test_demo_onboarding_is_a_prerequisite_chain(demo: Catalog) -> None:
    onboarding = demo.challenge("onboarding")
    assert onboarding is not None

    assert not any(g.rotating for g in onboarding.goals)
    assert all(g.requirement.progress_mode == "absolute" for g in onboarding.goals)
    chain = ["win-10-matches"]
    while (goal := demo.goal(chain[-1])) is not None and goal.prerequisites:
        chain.append(goal.prerequisites[0])
    assert chain[-1] == "first-login"
    assert len(chain) >= 4


def test_demo_rewards_look_like_ags(demo: Catalog) -> None:
    rewards = [reward for g in demo.goals for reward in g.reward_list]

    assert all(re.fullmatch(r"[0-9a-f]{32}", r.reward_id) for r in rewards if r.type == "ITEM")
    assert {r.reward_id for r in rewards if r.type == "WALLET"} <= {"GOLD", "GEMS"}
    assert any(g.event_source == "login" and g.default_assigned for g in demo.goals)
    weekly = demo.challenge("weekly-challenges")
    assert weekly is not None and sum(g.default_assigned for g in weekly.goals) >= 2

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from challenge_service.catalog import Catalog, Challenge, Goal, Requirement, Reward, parse_catalog
from challenge_service.errors import DomainError, ErrorCode


def _parse(document: dict[str, Any]) -> Catalog:
    return parse_catalog(msgspec.json.encode(document))


def _ids(goals: tuple[Goal, ...]) -> list[str]:
    return [g.goal_id for g in goals]


def test_challenges_keep_config_order(document: dict[str, Any]) -> None:
    catalog = _parse(document)

    assert [c.challenge_id for c in catalog.challenges] == ["daily", "story"]
    assert _ids(catalog.goals) == ["daily-login", "daily-kills", "tutorial", "first-win", "ten-wins"]


def test_challenge_lookup(document: dict[str, Any]) -> None:
    catalog = _parse(document)

    story = catalog.challenge("story")
    assert story is not None
    assert story.name == "Story"
    assert story.description == ""
    assert catalog.challenge("nope") is None


def test_goal_lookup_knows_its_challenge(document: dict[str, Any]) -> None:
    catalog = _parse(document)

    goal = catalog.goal("first-win")
    assert goal is not None
    assert goal.challenge_id == "story"
    assert goal.prerequisites == ("tutorial",)
    assert goal.requirement == Requirement(stat_code="wins", operator=">=", target_value=1)
    assert goal.reward == Reward(type="WALLET", reward_id="GOLD", quantity=100)
    assert catalog.goal("nope") is None
    assert all(g.challenge_id == c.challenge_id for c in catalog.challenges for g in c.goals)


def test_required_lookups_name_what_is_missing(document: dict[str, Any]) -> None:
    catalog = _parse(document)

    assert catalog.require_challenge("story") is catalog.challenge("story")
    assert catalog.require_goal("story", "first-win") is catalog.goal("first-win")
    cases = [
        (
            lambda: catalog.require_challenge("nope"),
            ErrorCode.CHALLENGE_NOT_FOUND,
            "challenge not found: nope",
        ),
        (
            lambda: catalog.require_goal("nope", "first-win"),
            ErrorCode.CHALLENGE_NOT_FOUND,
            "challenge not found: nope",
        ),
        (
            lambda: catalog.require_goal("story", "nope"),
            ErrorCode.GOAL_NOT_FOUND,
            "goal not found in challenge story: nope",
        ),
        # A goal of another challenge is not found in this one.
        (
            lambda: catalog.require_goal("story", "daily-login"),
            ErrorCode.GOAL_NOT_FOUND,
            "goal not found in challenge story: daily-login",
        ),
    ]
    for lookup, code, message in cases:
        with pytest.raises(DomainError) as refused:
            lookup()
        assert (refused.value.code, refused.value.message) == (code, message)


def test_stat_goals_only_match_statistic_goals(document: dict[str, Any]) -> None:
    catalog = _parse(document)

    assert _ids(catalog.stat_goals("wins")) == ["first-win", "ten-wins"]
    assert _ids(catalog.stat_goals("enemy_kills")) == ["daily-kills"]
    # A login goal's statCode is only a label; stat events must never reach it.
    assert catalog.stat_goals("login_count") == ()
    assert catalog.stat_goals("unknown") == ()


def test_login_and_default_goals(document: dict[str, Any]) -> None:
    catalog = _parse(document)

    assert _ids(catalog.login_goals) == ["daily-login"]
    assert _ids(catalog.default_goals) == ["daily-login", "tutorial"]


def test_defaults_and_rotating(document: dict[str, Any]) -> None:
    catalog = _parse(document)
    daily_kills, tutorial = catalog.goal("daily-kills"), catalog.goal("tutorial")
    assert daily_kills is not None and tutorial is not None

    assert daily_kills.rotating
    assert daily_kills.description == ""
    assert daily_kills.default_assigned is False
    assert daily_kills.prerequisites == ()
    assert not tutorial.rotating
    assert tutorial.rotation is None


def test_disabled_rotation_is_not_rotating(document: dict[str, Any]) -> None:
    rotation = document["challenges"][0]["goals"][1]["rotation"]
    rotation["enabled"] = False

    goal = _parse(document).goal("daily-kills")

    assert goal is not None and goal.rotation is not None
    assert not goal.rotating


def test_goals_are_immutable(document: dict[str, Any]) -> None:
    goal = _parse(document).goal("tutorial")
    assert goal is not None

    with pytest.raises(AttributeError):
        goal.name = "changed"  # type: ignore[misc]


def test_stray_challenge_id_in_a_goal_is_ignored(document: dict[str, Any]) -> None:
    document["challenges"][1]["goals"][0]["challengeId"] = 42

    goal = _parse(document).goal("tutorial")

    assert goal is not None
    assert goal.challenge_id == "story"


def _goal(goal_id: str) -> Goal:
    return Goal(
        goal_id=goal_id,
        name=goal_id,
        event_source="statistic",
        requirement=Requirement(stat_code="wins", operator=">=", target_value=1),
        reward=Reward(type="WALLET", reward_id="GOLD", quantity=1),
    )


def test_catalog_built_from_structs_stamps_challenge_ids() -> None:
    catalog = Catalog([Challenge(challenge_id="c", name="C", goals=(_goal("a"), _goal("b")))])

    assert [g.challenge_id for g in catalog.goals] == ["c", "c"]
    assert catalog.challenges[0].goals == catalog.goals


@pytest.mark.parametrize(
    "challenges",
    [
        pytest.param(
            [
                Challenge(challenge_id="c", name="C", goals=(_goal("a"),)),
                Challenge(challenge_id="c", name="C", goals=(_goal("b"),)),
            ],
            id="challenge",
        ),
        pytest.param(
            [
                Challenge(challenge_id="c", name="C", goals=(_goal("a"),)),
                Challenge(challenge_id="d", name="D", goals=(_goal("a"),)),
            ],
            id="goal",
        ),
    ],
)
def test_catalog_refuses_duplicate_ids(challenges: list[Challenge]) -> None:
    with pytest.raises(ValueError, match="duplicate"):
        Catalog(challenges)

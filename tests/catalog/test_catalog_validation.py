from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from challenge_service.catalog import CatalogError, load_catalog, parse_catalog

DELETE = object()
C0G0 = ("challenges", 0, "goals", 0)  # daily-login: login, rotating daily, relative
C1 = ("challenges", 1)  # story
C1G1 = ("challenges", 1, "goals", 1)  # first-win: requires tutorial
C1G2 = ("challenges", 1, "goals", 2)  # ten-wins: requires first-win; nothing requires it


def _set(document: dict[str, Any], path: tuple[str | int, ...], value: object) -> None:
    parent: Any = document
    for step in path[:-1]:
        parent = parent[step]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value


def _problems(document: object) -> list[str]:
    with pytest.raises(CatalogError) as excinfo:
        parse_catalog(msgspec.json.encode(document))
    return excinfo.value.problems


# One case per rule of SPEC §3: (where to change the valid document, new value, the one problem expected).
RULES = [
    # root
    (("challenges",), DELETE, "challenges: is required"),
    (("challenges",), {}, "challenges: expected an array, got object"),
    (("challenges",), [], "challenges: must contain at least one challenge"),
    # challenge
    (C1, "story", "challenges[1]: expected an object, got string"),
    ((*C1, "challengeId"), DELETE, "challenges[1].challengeId: is required"),
    ((*C1, "challengeId"), "", "challenges[1].challengeId: must not be empty"),
    ((*C1, "challengeId"), 7, "challenges[1].challengeId: expected a string, got integer"),
    (
        (*C1, "challengeId"),
        "daily",
        'challenges[1].challengeId: duplicate "daily", already used at challenges[0]',
    ),
    ((*C1, "challengeId"), "s" * 101, "challenges[1].challengeId: must be at most 100 characters"),
    (
        (*C1, "challengeId"),
        "my story",
        "challenges[1].challengeId: must not contain whitespace or control characters",
    ),
    ((*C1, "name"), DELETE, "challenges[1].name: is required"),
    ((*C1, "name"), "", "challenges[1].name: must not be empty"),
    ((*C1, "description"), None, "challenges[1].description: expected a string, got null"),
    ((*C1, "goals"), DELETE, "challenges[1].goals: is required"),
    ((*C1, "goals"), [], "challenges[1].goals: must contain at least one goal"),
    ((*C1G2,), [], "challenges[1].goals[2]: expected an object, got array"),
    # goal
    ((*C1G2, "goalId"), DELETE, "challenges[1].goals[2].goalId: is required"),
    ((*C1G2, "goalId"), "", "challenges[1].goals[2].goalId: must not be empty"),
    (
        (*C1G2, "goalId"),
        "daily-login",
        'challenges[1].goals[2].goalId: duplicate "daily-login", already used at challenges[0].goals[0]',
    ),
    ((*C1G2, "goalId"), "w" * 101, "challenges[1].goals[2].goalId: must be at most 100 characters"),
    (
        (*C1G2, "goalId"),
        "ten\twins",
        "challenges[1].goals[2].goalId: must not contain whitespace or control characters",
    ),
    (
        (*C1G2, "goalId"),
        "ten\x00wins",
        "challenges[1].goals[2].goalId: must not contain whitespace or control characters",
    ),
    (
        (*C1G2, "goalId"),
        "ten\u200bwins",
        "challenges[1].goals[2].goalId: must not contain whitespace or control characters",
    ),
    ((*C1G2, "name"), "", "challenges[1].goals[2].name: must not be empty"),
    ((*C1G2, "name"), DELETE, "challenges[1].goals[2].name: is required"),
    ((*C1G2, "description"), 1, "challenges[1].goals[2].description: expected a string, got integer"),
    ((*C1G2, "eventSource"), DELETE, "challenges[1].goals[2].eventSource: is required"),
    (
        (*C1G2, "eventSource"),
        "achievement",
        'challenges[1].goals[2].eventSource: must be one of login|statistic, got "achievement"',
    ),
    (
        (*C1G2, "defaultAssigned"),
        "yes",
        "challenges[1].goals[2].defaultAssigned: expected a boolean, got string",
    ),
    # requirement
    ((*C1G2, "requirement"), DELETE, "challenges[1].goals[2].requirement: is required"),
    ((*C1G2, "requirement"), [], "challenges[1].goals[2].requirement: expected an object, got array"),
    ((*C1G2, "requirement", "statCode"), DELETE, "challenges[1].goals[2].requirement.statCode: is required"),
    (
        (*C1G2, "requirement", "statCode"),
        "",
        "challenges[1].goals[2].requirement.statCode: must not be empty",
    ),
    ((*C1G2, "requirement", "operator"), DELETE, "challenges[1].goals[2].requirement.operator: is required"),
    (
        (*C1G2, "requirement", "operator"),
        ">",
        'challenges[1].goals[2].requirement.operator: must be ">=", got ">"',
    ),
    (
        (*C1G2, "requirement", "targetValue"),
        DELETE,
        "challenges[1].goals[2].requirement.targetValue: is required",
    ),
    ((*C1G2, "requirement", "targetValue"), 0, "challenges[1].goals[2].requirement.targetValue: must be > 0"),
    (
        (*C1G2, "requirement", "targetValue"),
        -3,
        "challenges[1].goals[2].requirement.targetValue: must be > 0",
    ),
    (
        (*C1G2, "requirement", "targetValue"),
        2**53 + 1,
        "challenges[1].goals[2].requirement.targetValue: must be <= 9007199254740992",
    ),
    (
        (*C1G2, "requirement", "targetValue"),
        "10",
        "challenges[1].goals[2].requirement.targetValue: expected an integer, got string",
    ),
    (
        (*C1G2, "requirement", "targetValue"),
        10.5,
        "challenges[1].goals[2].requirement.targetValue: expected an integer, got number",
    ),
    (
        (*C1G2, "requirement", "targetValue"),
        True,
        "challenges[1].goals[2].requirement.targetValue: expected an integer, got boolean",
    ),
    (
        (*C1G2, "requirement", "progressMode"),
        "delta",
        'challenges[1].goals[2].requirement.progressMode: must be one of absolute|relative, got "delta"',
    ),
    # reward
    ((*C1G2, "reward"), DELETE, "challenges[1].goals[2].reward: is required"),
    (
        (*C1G2, "reward", "type"),
        "COINS",
        'challenges[1].goals[2].reward.type: must be one of ITEM|WALLET, got "COINS"',
    ),
    ((*C1G2, "reward", "type"), DELETE, "challenges[1].goals[2].reward.type: is required"),
    ((*C1G2, "reward", "rewardId"), "", "challenges[1].goals[2].reward.rewardId: must not be empty"),
    ((*C1G2, "reward", "rewardId"), DELETE, "challenges[1].goals[2].reward.rewardId: is required"),
    ((*C1G2, "reward", "quantity"), 0, "challenges[1].goals[2].reward.quantity: must be > 0"),
    ((*C1G2, "reward", "quantity"), 2**31, "challenges[1].goals[2].reward.quantity: must be <= 2147483647"),
    (
        (*C1G2, "reward", "quantity"),
        "1",
        "challenges[1].goals[2].reward.quantity: expected an integer, got string",
    ),
    ((*C1G2, "reward", "quantity"), DELETE, "challenges[1].goals[2].reward.quantity: is required"),
    # prerequisites
    (
        (*C1G1, "prerequisites"),
        "tutorial",
        "challenges[1].goals[1].prerequisites: expected an array, got string",
    ),
    (
        (*C1G1, "prerequisites"),
        [1],
        "challenges[1].goals[1].prerequisites[0]: expected a string, got integer",
    ),
    (
        (*C1G1, "prerequisites"),
        ["tutorial", "nope"],
        'challenges[1].goals[1].prerequisites[1]: unknown goal "nope"',
    ),
    (
        (*C1G1, "prerequisites"),
        ["first-win"],
        "challenges[1].goals[1].prerequisites[0]: must not be the goal itself",
    ),
    (
        ("challenges", 1, "goals", 0, "prerequisites"),
        ["first-win"],
        "challenges[1].goals[0].prerequisites: cycle tutorial -> first-win -> tutorial",
    ),
    (
        ("challenges", 1, "goals", 0, "prerequisites"),
        ["ten-wins"],
        "challenges[1].goals[0].prerequisites: cycle tutorial -> ten-wins -> first-win -> tutorial",
    ),
    # rotation
    ((*C0G0, "rotation"), "daily", "challenges[0].goals[0].rotation: expected an object, got string"),
    ((*C0G0, "rotation", "enabled"), DELETE, "challenges[0].goals[0].rotation.enabled: is required"),
    (
        (*C0G0, "rotation", "enabled"),
        "true",
        "challenges[0].goals[0].rotation.enabled: expected a boolean, got string",
    ),
    ((*C0G0, "rotation", "type"), DELETE, "challenges[0].goals[0].rotation.type: is required"),
    (
        (*C0G0, "rotation", "type"),
        "user",
        'challenges[0].goals[0].rotation.type: must be "global", got "user"',
    ),
    (
        (*C0G0, "rotation", "schedule"),
        "hourly",
        'challenges[0].goals[0].rotation.schedule: must be one of daily|weekly|monthly, got "hourly"',
    ),
    ((*C0G0, "rotation", "schedule"), DELETE, "challenges[0].goals[0].rotation.schedule: is required"),
    ((*C0G0, "rotation", "onExpiry"), DELETE, "challenges[0].goals[0].rotation.onExpiry: is required"),
    (
        (*C0G0, "rotation", "onExpiry", "resetProgress"),
        DELETE,
        "challenges[0].goals[0].rotation.onExpiry.resetProgress: is required",
    ),
    (
        (*C0G0, "rotation", "onExpiry", "allowReselection"),
        "no",
        "challenges[0].goals[0].rotation.onExpiry.allowReselection: expected a boolean, got string",
    ),
    (
        (*C0G0, "requirement", "progressMode"),
        "absolute",
        'challenges[0].goals[0].requirement.progressMode: must be "relative" when rotation is enabled',
    ),
    (
        (*C0G0, "requirement", "progressMode"),
        DELETE,
        'challenges[0].goals[0].requirement.progressMode: must be "relative" when rotation is enabled',
    ),
]


@pytest.mark.parametrize(("path", "value", "expected"), RULES)
def test_each_rule_reports_its_path_and_message(
    document: dict[str, Any], path: tuple[str | int, ...], value: object, expected: str
) -> None:
    _set(document, path, value)

    assert _problems(document) == [expected]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param((*C0G0, "unknownKey"), {"anything": [1]}, id="unknown-key"),
        pytest.param((*C1G2, "type"), "absolute", id="legacy-type-key"),
        pytest.param(("version",), 2, id="unknown-root-key"),
        pytest.param((*C1G2, "requirement", "progressMode"), DELETE, id="progress-mode-defaults"),
        pytest.param((*C1G2, "prerequisites"), DELETE, id="prerequisites-default"),
        pytest.param((*C0G0, "defaultAssigned"), DELETE, id="default-assigned-default"),
        pytest.param((*C1G2, "rotation"), None, id="null-rotation"),
        pytest.param(
            (*C1G2, "rotation"),
            {
                "enabled": False,
                "type": "global",
                "schedule": "weekly",
                "onExpiry": {"resetProgress": True, "allowReselection": True},
            },
            id="disabled-rotation-absolute",
        ),
        pytest.param((*C1G2, "goalId"), "w" * 100, id="id-100-chars"),
        pytest.param((*C1G2, "goalId"), "défi-été", id="id-non-ascii"),
        pytest.param((*C1G2, "requirement", "targetValue"), 2**53, id="max-target"),
        pytest.param((*C1G2, "reward", "quantity"), 2**31 - 1, id="max-quantity"),
        pytest.param(("challenges", 0, "goals", 1, "prerequisites"), ["ten-wins"], id="forward-reference"),
    ],
)
def test_accepted_edges(document: dict[str, Any], path: tuple[str | int, ...], value: object) -> None:
    _set(document, path, value)

    parse_catalog(msgspec.json.encode(document))


def test_every_problem_is_reported_in_file_order(document: dict[str, Any]) -> None:
    _set(document, (*C0G0, "rotation", "schedule"), "hourly")
    _set(document, (*C1, "name"), "")
    _set(document, (*C1G1, "requirement", "targetValue"), "ten")
    _set(document, (*C1G1, "prerequisites"), ["missing"])
    _set(document, (*C1G2, "reward", "quantity"), 0)
    _set(document, (*C1G2, "goalId"), "tutorial")

    problems = _problems(document)

    assert problems == [
        'challenges[0].goals[0].rotation.schedule: must be one of daily|weekly|monthly, got "hourly"',
        "challenges[1].name: must not be empty",
        "challenges[1].goals[1].requirement.targetValue: expected an integer, got string",
        'challenges[1].goals[2].goalId: duplicate "tutorial", already used at challenges[1].goals[0]',
        "challenges[1].goals[2].reward.quantity: must be > 0",
        'challenges[1].goals[1].prerequisites[0]: unknown goal "missing"',
    ]


def test_error_message_lists_one_problem_per_line(document: dict[str, Any]) -> None:
    _set(document, (*C1G2, "name"), "")
    _set(document, (*C1G2, "reward", "quantity"), -1)

    with pytest.raises(CatalogError) as excinfo:
        parse_catalog(msgspec.json.encode(document))

    assert str(excinfo.value) == (
        "challenges[1].goals[2].name: must not be empty\nchallenges[1].goals[2].reward.quantity: must be > 0"
    )


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([], "$: expected an object, got array"),
        ("challenges", "$: expected an object, got string"),
        ({"challenges": [1]}, "challenges[0]: expected an object, got integer"),
    ],
)
def test_root_shape(document: object, expected: str) -> None:
    assert _problems(document) == [expected]


@pytest.mark.parametrize("data", [b"", b'{"challenges": [', b"{'challenges': []}", b"1e400"])
def test_malformed_json_is_one_problem(data: bytes) -> None:
    with pytest.raises(CatalogError) as excinfo:
        parse_catalog(data)

    [problem] = excinfo.value.problems
    assert problem.startswith("$: invalid JSON: ")


def test_load_catalog_reads_a_file(tmp_path: Path, document: dict[str, Any]) -> None:
    path = tmp_path / "challenges.json"
    path.write_bytes(msgspec.json.encode(document))

    assert [c.challenge_id for c in load_catalog(path).challenges] == ["daily", "story"]
    assert len(load_catalog(str(path)).goals) == 5


def test_load_catalog_reports_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.json"

    with pytest.raises(CatalogError) as excinfo:
        load_catalog(path)

    assert excinfo.value.problems == [f"{path}: cannot read: No such file or directory"]


def test_load_catalog_reports_problems_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "challenges.json"
    path.write_bytes(b'{"challenges": []}')

    with pytest.raises(CatalogError) as excinfo:
        load_catalog(path)

    assert excinfo.value.problems == ["challenges: must contain at least one challenge"]

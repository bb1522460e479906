from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from challenge_service.catalog import CatalogError, load_catalog, parse_catalog
from tests.helpers.catalog_cases import ACCEPTED, C0G0, C1, C1G1, C1G2, RULES, set_at


def _problems(document: object) -> list[str]:
    with pytest.raises(CatalogError) as excinfo:
        parse_catalog(msgspec.json.encode(document))
    return excinfo.value.problems


@pytest.mark.parametrize(("path", "value", "expected"), RULES)
def test_each_rule_reports_its_path_and_message(
    document: dict[str, Any], path: tuple[str | int, ...], value: object, expected: str
) -> None:
    set_at(document, path, value)

    assert _problems(document) == [expected]


@pytest.mark.parametrize(("path", "value"), ACCEPTED)
def test_accepted_edges(document: dict[str, Any], path: tuple[str | int, ...], value: object) -> None:
    set_at(document, path, value)

    parse_catalog(msgspec.json.encode(document))


def test_every_problem_is_reported_in_file_order(document: dict[str, Any]) -> None:
    set_at(document, (*C0G0, "rotation", "schedule"), "hourly")
    set_at(document, (*C1, "name"), "")
    set_at(document, (*C1G1, "requirement", "targetValue"), "ten")
    set_at(document, (*C1G1, "prerequisites"), ["missing"])
    set_at(document, (*C1G2, "reward", "quantity"), 0)
    set_at(document, (*C1G2, "goalId"), "tutorial")

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
    set_at(document, (*C1G2, "name"), "")
    set_at(document, (*C1G2, "reward", "quantity"), -1)

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

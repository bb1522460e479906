"""challenges.schema.json: generated from the model, and it agrees with the validator on every case."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from challenge_service.__main__ import main
from challenge_service.catalog.schema import SCHEMA_FILE, json_path, not_covered, render, schema_problems
from tests.helpers.catalog_cases import ACCEPTED, RULES, VALID_DOCUMENT, set_at

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "challenges.json"
REFERENCE = REPO / "tests" / "fixtures" / "reference_challenges.json"
# Rules no JSON Schema can state: unique ids, prerequisites that exist and form no cycle, the IANA zone
# names, a window's order, a per-player period's bounds. They are the validator's alone.
BEYOND_A_SCHEMA = (
    "duplicate ",
    "unknown goal ",
    "must not be the goal itself",
    ": cycle ",
    "must be after startsAt",
    "IANA time zone",
    "between 1 h and 90 d",
)


def test_the_committed_schema_is_a_fresh_generation() -> None:
    assert (REPO / SCHEMA_FILE).read_text() == render(), "run `make schema` and commit the result"


def test_the_shipped_file_names_the_schema_for_editors() -> None:
    assert json.loads(SHIPPED.read_text())["$schema"] == f"./{SCHEMA_FILE}"


@pytest.mark.parametrize("path", [SHIPPED, REFERENCE], ids=["shipped", "reference"])
def test_the_schema_accepts_the_shipped_and_the_reference_files(path: Path) -> None:
    assert schema_problems(json.loads(path.read_text())) == []


@pytest.mark.parametrize(("path", "value"), ACCEPTED)
def test_the_schema_accepts_what_the_validator_accepts(path: tuple[str | int, ...], value: object) -> None:
    document = copy.deepcopy(VALID_DOCUMENT)
    set_at(document, path, value)

    assert schema_problems(document) == []


@pytest.mark.parametrize(("path", "value", "expected"), RULES)
def test_the_schema_rejects_what_the_validator_rejects(
    path: tuple[str | int, ...], value: object, expected: str
) -> None:
    document: dict[str, Any] = copy.deepcopy(VALID_DOCUMENT)
    set_at(document, path, value)

    problems = schema_problems(document)

    if any(marker in expected for marker in BEYOND_A_SCHEMA):
        assert problems == []
    else:
        assert problems, expected
        # Reported at the validator's place or above it (a missing key is reported on its object).
        place = expected.split(": ", 1)[0]
        assert any(place.startswith(p.split(": ", 1)[0].replace("$", "")) for p in problems), problems
        assert not_covered(problems, [expected]) == []


def test_paths_are_written_as_the_validator_writes_them() -> None:
    assert (
        json_path(["challenges", 3, "goals", 1, "reward", "quantity"])
        == "challenges[3].goals[1].reward.quantity"
    )
    assert json_path([]) == "$"
    assert schema_problems({"challenges": [{"challengeId": "c", "name": "n", "goals": []}]}) == [
        "challenges[0].goals: [] should be non-empty"
    ]


def test_problems_the_validator_did_not_report_are_kept() -> None:
    schema_found = ["$: 'challenges' is a required property", "challenges[0].goals[1].name: '' is too short"]

    assert not_covered(schema_found, ["challenges: is required"]) == [
        "challenges[0].goals[1].name: '' is too short"
    ]
    assert not_covered(schema_found, []) == schema_found


def test_check_config_lists_each_problem_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document: dict[str, Any] = copy.deepcopy(VALID_DOCUMENT)
    document["challenges"][1]["goals"][2]["reward"]["quantity"] = 0
    del document["challenges"][1]["name"]
    path = tmp_path / "challenges.json"
    path.write_text(json.dumps(document))

    assert main(["check-config", str(path)]) == 1

    assert capsys.readouterr().err.splitlines() == [
        f"{path}: 2 problem(s)",
        "  challenges[1].name: is required",
        "  challenges[1].goals[2].reward.quantity: must be > 0",
    ]

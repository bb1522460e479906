"""`challenges.schema.json`: the JSON Schema of a challenge file, generated from the model (`model.py`).

Editors read it through the file's `"$schema"` key (completion, hover text, errors as you type);
`challenge-service check-config` applies it next to the validator, so a file the command accepts is one
no editor flags. The committed copy at the repository root is regenerated with `make schema`, and a test
fails when it differs from a fresh generation.

Rules a type cannot carry are added by hand: an enabled rotation needs `progressMode: "relative"`; a
goal has `reward` or `rewards`, not both; which rotation keys go with which rotation type and schedule;
a timestamp has an RFC 3339 form with an offset; and a goal's `challengeId` (stamped by the catalog) is
not a key of the file. What no JSON Schema can check — unique ids, prerequisites that exist and form no
cycle, IANA zone names, `endsAt` after `startsAt`, the bounds of a per-player period — is the
validator's alone.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec
from jsonschema import Draft202012Validator

from challenge_service.catalog.model import CatalogFile
from challenge_service.catalog.validate import GLOBAL_ONLY, PER_USER_ONLY

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILE = "challenges.schema.json"
_ENABLED_ROTATION = {"type": "object", "properties": {"enabled": {"const": True}}, "required": ["enabled"]}
_RELATIVE = {"properties": {"progressMode": {"const": "relative"}}, "required": ["progressMode"]}
_ENABLED_ROTATION_NEEDS_RELATIVE = {
    "if": {"properties": {"rotation": _ENABLED_ROTATION}, "required": ["rotation"]},
    "then": {"properties": {"requirement": _RELATIVE}},
}
_REWARD_OR_REWARDS = {"oneOf": [{"required": ["reward"]}, {"required": ["rewards"]}]}


def _none_of(keys: tuple[str, ...]) -> dict[str, Any]:
    return {"not": {"anyOf": [{"required": [key]} for key in keys]}}


_ROTATION_KEYS_BY_TYPE = {
    "allOf": [
        {
            "if": {"properties": {"type": {"const": "per_user"}}, "required": ["type"]},
            "then": {"required": list(PER_USER_ONLY), **_none_of(GLOBAL_ONLY)},
            "else": {"required": ["schedule"], **_none_of(PER_USER_ONLY)},
        },
        {
            "if": {"required": ["weekStart"]},
            "then": {"properties": {"schedule": {"const": "weekly"}}, "required": ["schedule"]},
        },
    ]
}
# RFC 3339 with an offset, the form msgspec (and so the catalog) reads.
RFC3339 = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


def catalog_schema() -> dict[str, Any]:
    """The JSON Schema of a challenge file."""
    _, definitions = msgspec.json.schema_components([CatalogFile], ref_template="#/$defs/{name}")
    file_schema = definitions.pop("CatalogFile")
    goal = definitions["Goal"]
    del goal["properties"]["challengeId"]
    # `null` is not "no reward": a goal names its reward(s).
    goal["properties"]["reward"] = {"$ref": "#/$defs/Reward", "description": "what a claim grants"}
    goal.update(_ENABLED_ROTATION_NEEDS_RELATIVE, **_REWARD_OR_REWARDS)
    rotation = definitions["Rotation"]
    rotation.update(_ROTATION_KEYS_BY_TYPE)
    for key in ("schedule", "duration"):
        # Optional because only one rotation type takes each, not because `null` means anything.
        prop = rotation["properties"][key]
        kind, _null = prop.pop("anyOf")
        del prop["default"]
        prop.update(kind)
    for key in ("startsAt", "endsAt"):
        timestamp, _null = definitions["Challenge"]["properties"][key]["anyOf"]
        timestamp["pattern"] = RFC3339
    return {"$schema": DIALECT, **file_schema, "title": "challenges.json", "$defs": definitions}


def render() -> str:
    """The schema as committed: indented, keys in generation order, a final newline."""
    return msgspec.json.format(msgspec.json.encode(catalog_schema()), indent=2).decode() + "\n"


def json_path(steps: Iterable[str | int]) -> str:
    """`challenges[1].goals[0].reward` from ("challenges", 1, "goals", 0, "reward"); `$` for the root."""
    path = ""
    for step in steps:
        path += f"[{step}]" if isinstance(step, int) else (f".{step}" if path else step)
    return path or "$"


def schema_problems(document: Any) -> list[str]:
    """What the schema finds wrong in a decoded file, as `<json path>: <message>` lines in path order."""
    validator = Draft202012Validator(catalog_schema())
    errors = sorted(validator.iter_errors(document), key=lambda error: [str(s) for s in error.absolute_path])
    return [f"{json_path(error.absolute_path)}: {error.message}" for error in errors]


def not_covered(schema_found: list[str], validator_found: list[str]) -> list[str]:
    """The schema's problems the validator has not reported at the same place (or below it)."""
    places = [problem.split(": ", 1)[0] for problem in validator_found]

    def covered(problem: str) -> bool:
        place = problem.split(": ", 1)[0]
        if place == "$":
            return bool(places)
        return any(p == place or p.startswith((f"{place}.", f"{place}[")) for p in places)

    return [problem for problem in schema_found if not covered(problem)]


def main(argv: list[str]) -> int:
    """`python -m challenge_service.catalog.schema [FILE]`: write the schema to FILE (default stdout)."""
    if len(argv) > 1:
        Path(argv[1]).write_text(render())
    else:
        sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

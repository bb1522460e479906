"""Turns `challenges.json` bytes or a file into a `Catalog`, or a `CatalogError` listing every problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from challenge_service.catalog.catalog import Catalog
from challenge_service.catalog.model import Challenge
from challenge_service.catalog.validate import validate_document


class CatalogError(Exception):
    """An unusable challenge file; `problems` holds one `<json path>: <message>` line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def parse_catalog(data: bytes) -> Catalog:
    try:
        document = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise CatalogError([f"$: invalid JSON: {exc}"]) from None
    problems = validate_document(document)
    if problems:
        raise CatalogError(problems)
    _drop_goal_challenge_ids(document)
    try:
        challenges = msgspec.convert(document["challenges"], tuple[Challenge, ...])
    except msgspec.ValidationError as exc:  # pragma: no cover - the validator is meant to catch all of these
        raise CatalogError([f"$: {exc}"]) from None
    return Catalog(challenges)


def load_catalog(path: str | Path) -> Catalog:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    return parse_catalog(data)


def _drop_goal_challenge_ids(document: dict[str, Any]) -> None:
    # A goal's challengeId comes from its enclosing challenge; a stray key of that name in a goal is an
    # unknown key like any other and must neither be trusted nor break the conversion.
    for challenge in document["challenges"]:
        for goal in challenge["goals"]:
            goal.pop("challengeId", None)

"""Request bodies (docs/api.md): JSON objects whose keys may be snake_case or camelCase.

An empty or `null` body counts as `{}`; unknown keys are ignored. Every field is read through one of the
typed getters below, which refuse anything but the exact JSON type (no `"5"` for 5, no `1` for true, no
`5.0` for a count) with a 400 `INVALID_INPUT` naming the field, so clients learn their mistake at once.
Path parameters are never read from a body: the route's path always wins.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from challenge_service.claims.grants import Resolution
from challenge_service.errors import invalid_input

# Bounds on what a body may ask for; ids match the database columns (varchar(100)).
MAX_ID_LENGTH = 100
MAX_GOAL_IDS = 100
MAX_INT = 2**31 - 1

_DECODER = msgspec.json.Decoder()

# -- what each route reads, as structs for the OpenAPI schema ------------------------------------------
# The handlers read bodies through `Body` below (both key styles, exact JSON types); these structs only
# describe the camelCase form. `api/openapi.py` adds the snake_case spelling of each key to its description.

GoalId = Annotated[str, Meta(min_length=1, max_length=MAX_ID_LENGTH, examples=["daily-10-kills"])]
REPLACE_EXISTING = "first deactivate the challenge's other active goals (reported in `replacedGoals`)"


class EmptyRequest(msgspec.Struct):
    """Nothing to send: `{}`, `null` or an empty body."""


class SetActiveRequest(msgspec.Struct, rename="camel"):
    is_active: Annotated[bool, Meta(description="`true` activates the goal, `false` deactivates it")]


class BatchSelectRequest(msgspec.Struct, rename="camel"):
    goal_ids: Annotated[
        list[GoalId],
        Meta(
            min_length=1,
            max_length=MAX_GOAL_IDS,
            description="goals of this challenge to activate; duplicates count once",
        ),
    ]
    replace_existing: Annotated[bool, Meta(description=REPLACE_EXISTING)] = False


class RandomSelectRequest(msgspec.Struct, rename="camel"):
    count: Annotated[
        int,
        Meta(
            ge=1,
            le=MAX_INT,
            description="how many goals to pick; a smaller pool gives all of it",
        ),
    ]
    replace_existing: Annotated[bool, Meta(description=REPLACE_EXISTING)] = False
    exclude_active: Annotated[
        bool, Meta(description="leave out goals that are already active (implied by `replaceExisting`)")
    ] = False


class SetProgressRequest(msgspec.Struct, rename="camel"):
    progress: Annotated[
        int,
        Meta(ge=0, le=MAX_INT, description="the progress the player should see; the status follows from it"),
    ]


class ResolveGrantRequest(msgspec.Struct):
    as_: Annotated[
        Resolution,
        Meta(
            description="`granted`: AGS has the reward, the goal becomes claimed; `failed`: AGS does not, "
            "the player may claim again"
        ),
    ] = msgspec.field(name="as")


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)


class Body:
    """A decoded JSON object body with typed, case-tolerant getters."""

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[str, Any]) -> None:
        self._fields = fields

    def _get(self, name: str) -> Any:
        """The value under the snake_case `name` or its camelCase spelling (snake wins if both)."""
        if name in self._fields:
            return self._fields[name]
        return self._fields.get(_camel(name))

    def boolean(self, name: str, default: bool | None = None) -> bool:
        value = self._get(name)
        if value is None:
            if default is None:
                raise invalid_input(f"{name} is required and must be a boolean")
            return default
        if not isinstance(value, bool):
            raise invalid_input(f"{name} must be a boolean")
        return value

    def positive_int(self, name: str) -> int:
        return self._int(name, 1, "a positive integer")

    def non_negative_int(self, name: str) -> int:
        return self._int(name, 0, "an integer >= 0")

    def _int(self, name: str, low: int, what: str) -> int:
        value = self._get(name)
        # bool is a subclass of int in Python, but `true` is not a count.
        if value is None or isinstance(value, bool) or not isinstance(value, int):
            raise invalid_input(f"{name} is required and must be {what}")
        if not low <= value <= MAX_INT:
            raise invalid_input(f"{name} must be {what} at most {MAX_INT}, got {value}")
        return value

    def choice(self, name: str, options: tuple[str, ...]) -> str:
        value = self._get(name)
        if value not in options:
            raise invalid_input(f"{name} is required and must be one of: {', '.join(options)}")
        return str(value)

    def id_list(self, name: str) -> list[str]:
        """A non-empty list of ids, duplicates removed (first occurrence kept)."""
        value = self._get(name)
        if value is None:
            raise invalid_input(f"{name} is required and must be a non-empty list of ids")
        if not isinstance(value, list):
            raise invalid_input(f"{name} must be a list of ids")
        if not value:
            raise invalid_input(f"{name} must not be empty")
        if len(value) > MAX_GOAL_IDS:
            raise invalid_input(f"{name} holds {len(value)} ids; at most {MAX_GOAL_IDS} are allowed")
        for item in value:
            if not isinstance(item, str):
                raise invalid_input(f"{name} must be a list of strings")
            check_id(name, item)
        return list(dict.fromkeys(value))


def check_id(name: str, value: str) -> None:
    if not value or len(value) > MAX_ID_LENGTH or not value.isprintable():
        raise invalid_input(f"{name}: each id must be 1..{MAX_ID_LENGTH} printable characters")


def parse_body(raw: bytes) -> Body:
    """Decode a request body; empty, whitespace-only or `null` is `{}`."""
    if not raw.strip():
        return Body({})
    try:
        decoded = _DECODER.decode(raw)
    except msgspec.DecodeError as exc:
        raise invalid_input(f"request body is not valid JSON: {exc}") from None
    if decoded is None:
        return Body({})
    if not isinstance(decoded, dict):
        raise invalid_input("request body must be a JSON object")
    return Body(decoded)

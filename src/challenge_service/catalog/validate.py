"""Checks a decoded `challenges.json` against the catalog rules; lists every problem with its JSON path.

It walks plain decoded JSON rather than converting straight into the Structs because msgspec stops at the
first error, and whoever fixes a broken file wants the whole list in one go.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any, get_args
from zoneinfo import ZoneInfo

import msgspec

from challenge_service.catalog.model import (
    DURATION_PATTERN,
    MAX_CLAIM_GRACE_HOURS,
    MAX_DURATION_S,
    MAX_ID_LENGTH,
    MAX_QUANTITY,
    MAX_REWARDS,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TARGET_VALUE,
    MIN_DURATION_S,
    RESET_TIME_PATTERN,
    TAG_PATTERN,
    EventSource,
    Operator,
    ProgressMode,
    RewardType,
    RotationType,
    Schedule,
    Weekday,
    duration_seconds,
)
from challenge_service.catalog.prerequisites import PrerequisiteRef, check_prerequisites

EVENT_SOURCES: tuple[str, ...] = get_args(EventSource)
PROGRESS_MODES: tuple[str, ...] = get_args(ProgressMode)
REWARD_TYPES: tuple[str, ...] = get_args(RewardType)
ROTATION_TYPES: tuple[str, ...] = get_args(RotationType)
SCHEDULES: tuple[str, ...] = get_args(Schedule)
OPERATORS: tuple[str, ...] = get_args(Operator)
WEEKDAYS: tuple[str, ...] = get_args(Weekday)
# Keys of a rotation that only one type takes.
GLOBAL_ONLY = ("schedule", "resetTime", "timezone", "weekStart")
PER_USER_ONLY = ("duration",)
_TAG = re.compile(TAG_PATTERN)
_DURATION = re.compile(DURATION_PATTERN)
_RESET_TIME = re.compile(RESET_TIME_PATTERN)

_ARTICLES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "boolean": "a boolean",
}


def validate_document(document: Any) -> list[str]:
    """Every problem in `document` (decoded JSON), in file order; empty when it is a valid catalog."""
    validator = _Validator()
    validator.root(document)
    return validator.problems


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _quote(value: str) -> str:
    return msgspec.json.encode(value).decode()


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_kind(value: Any, kind: str) -> bool:
    # JSON has no separate integer type, but a bool is never an integer here even though Python agrees.
    return type_name(value) == kind


class _Validator:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self._challenge_paths: dict[str, str] = {}
        self._goal_paths: dict[str, str] = {}
        self._prerequisites: dict[str, tuple[str, list[PrerequisiteRef]]] = {}

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    # -- document structure -------------------------------------------------------------------------

    def root(self, document: Any) -> None:
        if not isinstance(document, dict):
            self.add("$", f"expected an object, got {type_name(document)}")
            return
        challenges = self.field(document, "challenges", "", "array")
        if challenges is None:
            return
        if not challenges:
            self.add("challenges", "must contain at least one challenge")
        for index, challenge in enumerate(challenges):
            self.challenge(challenge, f"challenges[{index}]")
        self.problems.extend(check_prerequisites(self._goal_paths, self._prerequisites))

    def challenge(self, challenge: Any, path: str) -> None:
        if not isinstance(challenge, dict):
            self.add(path, f"expected an object, got {type_name(challenge)}")
            return
        self.identifier(challenge, "challengeId", path, self._challenge_paths)
        self.text(challenge, "name", path)
        self.field(challenge, "description", path, "string", required=False)
        self.tags(challenge, path)
        self.window(challenge, path)
        goals = self.field(challenge, "goals", path, "array")
        if goals is None:
            return
        if not goals:
            self.add(f"{path}.goals", "must contain at least one goal")
        for index, goal in enumerate(goals):
            self.goal(goal, f"{path}.goals[{index}]")

    def goal(self, goal: Any, path: str) -> None:
        if not isinstance(goal, dict):
            self.add(path, f"expected an object, got {type_name(goal)}")
            return
        goal_id = self.identifier(goal, "goalId", path, self._goal_paths)
        self.text(goal, "name", path)
        self.field(goal, "description", path, "string", required=False)
        self.choice(goal, "eventSource", path, EVENT_SOURCES)
        progress_mode = self.requirement(goal, path)
        self.rewards(goal, path)
        prerequisites = self.prerequisite_list(goal, path)
        self.field(goal, "defaultAssigned", path, "boolean", required=False)
        self.tags(goal, path)
        self.field(goal, "autoClaim", path, "boolean", required=False)
        if self.rotation(goal, path) and progress_mode == "absolute":
            # Rotation resets re-derive a baseline; an absolute goal would complete again at once.
            self.add(f"{path}.requirement.progressMode", 'must be "relative" when rotation is enabled')
        # A duplicate id is already reported; only its first definition joins the prerequisite graph.
        if goal_id is not None and self._goal_paths[goal_id] == path and prerequisites is not None:
            self._prerequisites[goal_id] = (path, prerequisites)

    def requirement(self, goal: dict[str, Any], path: str) -> str | None:
        """The effective progress mode, or None when it cannot be known."""
        requirement = self.field(goal, "requirement", path, "object")
        if requirement is None:
            return None
        path = f"{path}.requirement"
        self.text(requirement, "statCode", path)
        self.choice(requirement, "operator", path, OPERATORS)
        self.positive_int(requirement, "targetValue", path, MAX_TARGET_VALUE)
        if "progressMode" not in requirement:
            return "absolute"
        return self.choice(requirement, "progressMode", path, PROGRESS_MODES)

    def rewards(self, goal: dict[str, Any], path: str) -> None:
        """`reward` or `rewards` (1 … MAX_REWARDS of them), never both."""
        if "rewards" not in goal:
            if "reward" in goal:
                self.reward(goal["reward"], f"{path}.reward")
            else:
                self.add(f"{path}.reward", "is required")
            return
        if "reward" in goal:
            self.add(f"{path}.rewards", 'must not be given together with "reward"; list every reward here')
        rewards = self.field(goal, "rewards", path, "array")
        if rewards is None:
            return
        if not rewards:
            self.add(f"{path}.rewards", "must contain at least one reward")
        elif len(rewards) > MAX_REWARDS:
            self.add(f"{path}.rewards", f"must contain at most {MAX_REWARDS} rewards")
        for index, reward in enumerate(rewards):
            self.reward(reward, f"{path}.rewards[{index}]")

    def reward(self, reward: Any, path: str) -> None:
        if not isinstance(reward, dict):
            self.add(path, f"expected an object, got {type_name(reward)}")
            return
        self.choice(reward, "type", path, REWARD_TYPES)
        self.text(reward, "rewardId", path)
        self.positive_int(reward, "quantity", path, MAX_QUANTITY)

    def prerequisite_list(self, goal: dict[str, Any], path: str) -> list[PrerequisiteRef] | None:
        items = self.field(goal, "prerequisites", path, "array", required=False)
        if items is None:
            return None if "prerequisites" in goal else []
        refs: list[PrerequisiteRef] = []
        for index, item in enumerate(items):
            item_path = f"{path}.prerequisites[{index}]"
            if isinstance(item, str):
                refs.append(PrerequisiteRef(item_path, item))
            else:
                self.add(item_path, f"expected a string, got {type_name(item)}")
        return refs

    def rotation(self, goal: dict[str, Any], path: str) -> bool:
        """Whether the goal has a valid, enabled rotation; `null` counts as no rotation."""
        if goal.get("rotation") is None:
            return False
        rotation = self.field(goal, "rotation", path, "object")
        if rotation is None:
            return False
        path = f"{path}.rotation"
        enabled = self.field(rotation, "enabled", path, "boolean")
        kind = self.choice(rotation, "type", path, ROTATION_TYPES)
        if kind == "per_user":
            self.per_user_rotation(rotation, path)
        elif kind == "global":
            self.global_rotation(rotation, path)
        on_expiry = self.field(rotation, "onExpiry", path, "object")
        if on_expiry is not None:
            self.field(on_expiry, "resetProgress", f"{path}.onExpiry", "boolean")
            self.field(on_expiry, "allowReselection", f"{path}.onExpiry", "boolean")
            self.field(on_expiry, "deactivate", f"{path}.onExpiry", "boolean", required=False)
        return enabled is True

    def global_rotation(self, rotation: dict[str, Any], path: str) -> None:
        for key in PER_USER_ONLY:
            if key in rotation:
                self.add(f"{path}.{key}", "is for per_user rotation only")
        schedule = self.choice(rotation, "schedule", path, SCHEDULES)
        reset_time = self.field(rotation, "resetTime", path, "string", required=False)
        if reset_time is not None and not _RESET_TIME.fullmatch(reset_time):
            self.add(f"{path}.resetTime", f'must be "HH:MM" (24 h, 00:00 to 23:59), got {_quote(reset_time)}')
        zone = self.field(rotation, "timezone", path, "string", required=False)
        if zone is not None and not is_time_zone(zone):
            self.add(
                f"{path}.timezone", f'must be an IANA time zone name such as "Asia/Tokyo", got {_quote(zone)}'
            )
        if "weekStart" in rotation:
            if schedule is not None and schedule != "weekly":
                self.add(f"{path}.weekStart", "is for the weekly schedule only")
            else:
                self.choice(rotation, "weekStart", path, WEEKDAYS)

    def per_user_rotation(self, rotation: dict[str, Any], path: str) -> None:
        for key in GLOBAL_ONLY:
            if key in rotation:
                self.add(f"{path}.{key}", "is for global rotation only; a per_user period lasts `duration`")
        duration = self.field(rotation, "duration", path, "string")
        if duration is None:
            return
        if not _DURATION.fullmatch(duration):
            self.add(f"{path}.duration", f'must be "<n>h" or "<n>d", got {_quote(duration)}')
        # The length bound first: int() of thousands of digits is refused (and slow).
        elif len(duration) > 12 or not MIN_DURATION_S <= duration_seconds(duration) <= MAX_DURATION_S:
            self.add(f"{path}.duration", f"must be between 1 h and 90 d, got {_quote(duration)}")

    def tags(self, obj: dict[str, Any], path: str) -> None:
        tags = self.field(obj, "tags", path, "array", required=False)
        if tags is None:
            return
        path = f"{path}.tags"
        if len(tags) > MAX_TAGS:
            self.add(path, f"must contain at most {MAX_TAGS} tags")
        for index, tag in enumerate(tags):
            if not isinstance(tag, str):
                self.add(f"{path}[{index}]", f"expected a string, got {type_name(tag)}")
            elif not (len(tag) <= MAX_TAG_LENGTH and _TAG.fullmatch(tag)):
                self.add(
                    f"{path}[{index}]",
                    f"must be 1–{MAX_TAG_LENGTH} characters of a-z, 0-9, _ and -, got {_quote(tag)}",
                )

    def window(self, challenge: dict[str, Any], path: str) -> None:
        """`startsAt` / `endsAt` (RFC 3339, the second after the first) and `claimGraceHours`."""
        starts_at = self.timestamp(challenge, "startsAt", path)
        ends_at = self.timestamp(challenge, "endsAt", path)
        if starts_at is not None and ends_at is not None and ends_at <= starts_at:
            self.add(f"{path}.endsAt", "must be after startsAt")
        grace = self.field(challenge, "claimGraceHours", path, "integer", required=False)
        if grace is not None and not 0 <= grace <= MAX_CLAIM_GRACE_HOURS:
            self.add(f"{path}.claimGraceHours", f"must be between 0 and {MAX_CLAIM_GRACE_HOURS}")

    def timestamp(self, obj: dict[str, Any], key: str, path: str) -> datetime | None:
        if obj.get(key) is None:
            return None  # absent or null: no bound
        value = self.field(obj, key, path, "string")
        if value is None:
            return None
        try:
            parsed = msgspec.convert(value, datetime)
        except msgspec.ValidationError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            self.add(
                _join(path, key),
                f'must be an RFC 3339 timestamp with an offset, such as "2026-07-04T00:00:00Z", '
                f"got {_quote(value)}",
            )
            return None
        return parsed

    # -- single values --------------------------------------------------------------------------------

    def field(self, obj: dict[str, Any], key: str, path: str, kind: str, *, required: bool = True) -> Any:
        """The value when present and of the right JSON kind, else None (after noting any problem)."""
        if key not in obj:
            if required:
                self.add(_join(path, key), "is required")
            return None
        value = obj[key]
        if not _is_kind(value, kind):
            self.add(_join(path, key), f"expected {_ARTICLES[kind]}, got {type_name(value)}")
            return None
        return value

    def text(self, obj: dict[str, Any], key: str, path: str) -> str | None:
        value: str | None = self.field(obj, key, path, "string")
        if value == "":
            self.add(_join(path, key), "must not be empty")
            return None
        return value

    def identifier(self, obj: dict[str, Any], key: str, path: str, seen: dict[str, str]) -> str | None:
        value = self.text(obj, key, path)
        if value is None:
            return None
        key_path = _join(path, key)
        if len(value) > MAX_ID_LENGTH:
            self.add(key_path, f"must be at most {MAX_ID_LENGTH} characters")
        if any(_is_forbidden_id_char(char) for char in value):
            self.add(key_path, "must not contain whitespace or control characters")
        if value in seen:
            self.add(key_path, f"duplicate {_quote(value)}, already used at {seen[value]}")
        else:
            seen[value] = path
        return value

    def choice(self, obj: dict[str, Any], key: str, path: str, allowed: tuple[str, ...]) -> str | None:
        value: str | None = self.field(obj, key, path, "string")
        if value is None or value in allowed:
            return value
        expected = _quote(allowed[0]) if len(allowed) == 1 else "one of " + "|".join(allowed)
        self.add(_join(path, key), f"must be {expected}, got {_quote(value)}")
        return None

    def positive_int(self, obj: dict[str, Any], key: str, path: str, maximum: int) -> None:
        value: int | None = self.field(obj, key, path, "integer")
        if value is None:
            return
        if value <= 0:
            self.add(_join(path, key), "must be > 0")
        elif value > maximum:
            self.add(_join(path, key), f"must be <= {maximum}")


def is_time_zone(name: str) -> bool:
    """Whether `name` is a zone of the IANA database (shipped by the `tzdata` package)."""
    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


def _is_forbidden_id_char(char: str) -> bool:
    # Category C covers control and invisible format characters (e.g. zero-width space), Z the
    # separators: none of them survive a URL path or a log line intact.
    return char.isspace() or unicodedata.category(char)[0] in "CZ"

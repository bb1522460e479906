"""Response structs: lowerCamelCase, every field always present, timestamps RFC 3339 `Z` (SPEC §5)."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec


def timestamp(value: datetime | None) -> str:
    """RFC 3339 UTC, whole seconds; '' for "never" (the contract has no null timestamps)."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Requirement(msgspec.Struct, rename="camel"):
    stat_code: str
    operator: str
    target_value: int


class Reward(msgspec.Struct, rename="camel"):
    type: str
    reward_id: str
    quantity: int


class GoalView(msgspec.Struct, rename="camel"):
    goal_id: str
    name: str
    description: str
    requirement: Requirement
    reward: Reward
    prerequisites: list[str]
    progress: int
    status: str
    locked: bool
    completed_at: str
    claimed_at: str
    is_active: bool
    expires_at: str
    expires_in_seconds: int


class ChallengeView(msgspec.Struct, rename="camel"):
    challenge_id: str
    name: str
    description: str
    goals: list[GoalView]


class ChallengeList(msgspec.Struct, rename="camel"):
    challenges: list[ChallengeView]


class Health(msgspec.Struct):
    status: str

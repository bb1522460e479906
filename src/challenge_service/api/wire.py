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


class AssignedGoal(msgspec.Struct, rename="camel"):
    challenge_id: str
    goal_id: str
    name: str
    description: str
    is_active: bool
    assigned_at: str
    expires_at: str
    progress: int
    target: int
    status: str
    requirement: Requirement
    reward: Reward


class Initialized(msgspec.Struct, rename="camel"):
    assigned_goals: list[AssignedGoal]
    new_assignments: int
    total_active: int


class ActiveSet(msgspec.Struct, rename="camel"):
    challenge_id: str
    goal_id: str
    is_active: bool
    assigned_at: str
    message: str


class SelectedGoal(msgspec.Struct, rename="camel"):
    goal_id: str
    name: str
    description: str
    requirement: Requirement
    reward: Reward
    status: str
    progress: int
    target: int
    is_active: bool
    assigned_at: str
    expires_at: str


class GoalSelection(msgspec.Struct, rename="camel"):
    selected_goals: list[SelectedGoal]
    challenge_id: str
    total_active_goals: int
    replaced_goals: list[str]


class RotationPeriod(msgspec.Struct, rename="camel"):
    start_time: str
    end_time: str
    expires_in_seconds: int


class Rotation(msgspec.Struct, rename="camel"):
    enabled: bool
    type: str
    schedule: str
    # The contract's one exception to "never null": no rotation → both periods are null.
    current_period: RotationPeriod | None
    next_period: RotationPeriod | None


class ChallengeRotation(msgspec.Struct, rename="camel"):
    challenge_id: str
    rotation: Rotation


class ClaimResult(msgspec.Struct, rename="camel"):
    goal_id: str
    status: str
    reward: Reward
    claimed_at: str


class UserDataDeleted(msgspec.Struct, rename="camel"):
    user_id: str
    deleted_goals: int
    deleted_grants: int

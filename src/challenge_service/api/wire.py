"""Response structs — lowerCamelCase, every field always present, timestamps RFC 3339 `Z` — and the
functions that build them from catalog goals and a player's rows.

The challenge reads (`GET /v1/challenges…`) are encoded by `api/views.py` instead, for speed; the
`GoalView`/`ChallengeView` structs here describe the same JSON for the OpenAPI schema.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from challenge_service import assignments
from challenge_service.catalog import Challenge, Goal
from challenge_service.rules.periods import Schedule, period_end, period_start
from challenge_service.rules.progress import Progress, displayed


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
    # Operator audit rows about the player: kept, without the player's id and row images.
    anonymised_audit_entries: int


# -- from catalog goals and a player's rows ------------------------------------------------------------


def requirement(goal: Goal) -> Requirement:
    r = goal.requirement
    return Requirement(r.stat_code, r.operator, r.target_value)


def reward(goal: Goal) -> Reward:
    r = goal.reward
    return Reward(r.type, r.reward_id, r.quantity)


def row_expiry(goal: Goal, row: Progress) -> str:
    """AssignedGoal/SelectedGoal `expiresAt`: the row's period end for rotating goals, else ''."""
    return timestamp(row.expires_at) if goal.rotating else ""


def assigned_goal(goal: Goal, row: Progress) -> AssignedGoal:
    return AssignedGoal(
        challenge_id=goal.challenge_id,
        goal_id=goal.goal_id,
        name=goal.name,
        description=goal.description,
        is_active=row.is_active,
        assigned_at=timestamp(row.assigned_at),
        expires_at=row_expiry(goal, row),
        progress=displayed(goal, row),
        target=goal.requirement.target_value,
        status=row.status,
        requirement=requirement(goal),
        reward=reward(goal),
    )


def selected_goal(goal: Goal, row: Progress) -> SelectedGoal:
    return SelectedGoal(
        goal_id=goal.goal_id,
        name=goal.name,
        description=goal.description,
        requirement=requirement(goal),
        reward=reward(goal),
        status=row.status,
        progress=displayed(goal, row),
        target=goal.requirement.target_value,
        is_active=row.is_active,
        assigned_at=timestamp(row.assigned_at),
        expires_at=row_expiry(goal, row),
    )


def initialized(result: assignments.Initialized) -> Initialized:
    assigned = [assigned_goal(goal, row) for goal, row in result.active]
    return Initialized(
        assigned_goals=assigned, new_assignments=result.new_assignments, total_active=len(assigned)
    )


def goal_selection(result: assignments.Selected) -> GoalSelection:
    return GoalSelection(
        selected_goals=[selected_goal(goal, row) for goal, row in result.goals],
        challenge_id=result.challenge_id,
        total_active_goals=result.total_active,
        replaced_goals=result.replaced,
    )


NO_ROTATION = Rotation(enabled=False, type="", schedule="", current_period=None, next_period=None)


def _period(schedule: Schedule, at: datetime, now: datetime) -> RotationPeriod:
    """The period containing `at`; `expiresInSeconds` counts from `now` to its end."""
    start, end = period_start(schedule, at), period_end(schedule, at)
    return RotationPeriod(
        start_time=timestamp(start),
        end_time=timestamp(end),
        expires_in_seconds=max(int((end - now).total_seconds()), 0),
    )


def challenge_rotation(challenge: Challenge, now: datetime) -> Rotation:
    # Goals of one challenge share a rotation in practice; the first rotating goal's stands for all.
    for goal in challenge.goals:
        rotation = goal.rotation
        if rotation is not None and rotation.enabled:
            current = _period(rotation.schedule, now, now)
            return Rotation(
                enabled=True,
                type=rotation.type,
                schedule=rotation.schedule,
                current_period=current,
                next_period=_period(rotation.schedule, period_end(rotation.schedule, now), now),
            )
    return NO_ROTATION

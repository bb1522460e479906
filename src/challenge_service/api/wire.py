"""Response structs — lowerCamelCase, every field always present, timestamps RFC 3339 `Z` — and the
functions that build them from catalog goals and a player's rows.

The challenge reads (`GET /v1/challenges…`) are encoded by `api/views.py` instead, for speed; the
`GoalView`/`ChallengeView` structs here describe the same JSON for the OpenAPI schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import msgspec

from challenge_service import assignments
from challenge_service.catalog import Challenge, Goal
from challenge_service.catalog import Reward as CatalogReward
from challenge_service.catalog import Rotation as RotationConfig
from challenge_service.rules.periods import Calendar, calendar, period_end, period_start
from challenge_service.rules.progress import Progress, displayed, view


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
    # The first of `rewards`: what a client written for one reward per goal shows.
    reward: Reward
    # Every reward a claim grants.
    rewards: list[Reward]
    prerequisites: list[str]
    tags: list[str]
    # The rewards are granted when the goal completes, without a claim call.
    auto_claim: bool
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
    tags: list[str]
    # The challenge's time window; "" when open on that side.
    starts_at: str
    ends_at: str
    # upcoming (before startsAt), live, ended (from endsAt).
    state: str
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
    rewards: list[Reward]


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
    rewards: list[Reward]
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
    # global or per_user; "" without rotation.
    type: str
    # Global rotation's calendar ("" otherwise): daily, weekly or monthly periods starting at
    # `resetTime` in `timezone` (on `weekStart` for weekly ones).
    schedule: str
    reset_time: str
    timezone: str
    week_start: str
    # Per-user rotation's period length ("" otherwise), e.g. "24h".
    duration: str
    # The contract's one exception to "never null": no rotation → both periods are null. Per-user
    # rotation: the player's period (null while the player has none running) and the one that follows
    # it (null when the goal deactivates on expiry: the next starts when the player picks it again).
    current_period: RotationPeriod | None
    next_period: RotationPeriod | None


class ChallengeRotation(msgspec.Struct, rename="camel"):
    challenge_id: str
    rotation: Rotation


class ClaimResult(msgspec.Struct, rename="camel"):
    goal_id: str
    status: str
    # The first of `rewards`.
    reward: Reward
    # Every reward granted.
    rewards: list[Reward]
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


def reward_struct(r: CatalogReward) -> Reward:
    return Reward(r.type, r.reward_id, r.quantity)


def reward(goal: Goal) -> Reward:
    """The goal's first reward, the one the single-reward `reward` field shows."""
    return reward_struct(goal.reward_list[0])


def rewards(goal: Goal) -> list[Reward]:
    return [reward_struct(r) for r in goal.reward_list]


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
        rewards=rewards(goal),
    )


def selected_goal(goal: Goal, row: Progress) -> SelectedGoal:
    return SelectedGoal(
        goal_id=goal.goal_id,
        name=goal.name,
        description=goal.description,
        requirement=requirement(goal),
        reward=reward(goal),
        rewards=rewards(goal),
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


NO_ROTATION = Rotation(
    enabled=False,
    type="",
    schedule="",
    reset_time="",
    timezone="",
    week_start="",
    duration="",
    current_period=None,
    next_period=None,
)


def _period(start: datetime, end: datetime, now: datetime) -> RotationPeriod:
    """`expiresInSeconds` counts from `now` to the period's end."""
    return RotationPeriod(
        start_time=timestamp(start),
        end_time=timestamp(end),
        expires_in_seconds=max(int((end - now).total_seconds()), 0),
    )


def _calendar_period(cal: Calendar, at: datetime, now: datetime) -> RotationPeriod:
    """The calendar's period containing `at`."""
    return _period(period_start(cal, at), period_end(cal, at), now)


def rotating_goal(challenge: Challenge) -> Goal | None:
    """The goal whose rotation stands for the challenge's: the first rotating one (goals of one
    challenge share a rotation in practice)."""
    return next((goal for goal in challenge.goals if goal.rotating), None)


def soonest_period(
    challenge: Challenge, rows: Mapping[str, Progress], now: datetime
) -> tuple[Goal, datetime] | None:
    """The player's per-user period of the challenge that ends first, with its goal (as shown: an
    expiry due is applied); None when the player has none running."""
    running = []
    for goal in challenge.goals:
        row = rows.get(goal.goal_id)
        if row is None or goal.rotation is None or not goal.rotating or not goal.rotation.per_user:
            continue
        end = view(goal, row, now).expires_at
        if end is not None and end > now:
            running.append((end, goal.goal_id, goal))
    if not running:
        return None
    end, _, goal = min(running)
    return goal, end


def challenge_rotation(
    challenge: Challenge, now: datetime, own: tuple[Goal, datetime] | None = None
) -> Rotation:
    """The rotation route's answer. Global rotation: the calendar's current and next period. Per-user
    rotation: the player's period that ends first, `own` (`soonest_period`)."""
    goal = rotating_goal(challenge)
    if goal is None or goal.rotation is None:
        return NO_ROTATION
    if goal.rotation.per_user:
        return _per_user_rotation(goal.rotation, own, now)
    rotation = goal.rotation
    cal = calendar(rotation)
    return Rotation(
        enabled=True,
        type=rotation.type,
        schedule=rotation.schedule or "",
        reset_time=rotation.reset_time,
        timezone=rotation.timezone,
        week_start=rotation.week_start if rotation.schedule == "weekly" else "",
        duration="",
        current_period=_calendar_period(cal, now, now),
        next_period=_calendar_period(cal, period_end(cal, now), now),
    )


def _per_user_rotation(
    rotation: RotationConfig, own: tuple[Goal, datetime] | None, now: datetime
) -> Rotation:
    current = following = None
    if own is not None and own[0].rotation is not None:
        rotation, end = own[0].rotation, own[1]
        length = timedelta(seconds=rotation.duration_s)
        current = _period(end - length, end, now)
        if not rotation.deactivates:
            following = _period(end, end + length, now)
    return Rotation(
        enabled=True,
        type=rotation.type,
        schedule="",
        reset_time="",
        timezone="",
        week_start="",
        duration=rotation.duration or "",
        current_period=current,
        next_period=following,
    )

"""Catalog + a player's rows → what the player is shown. Pure: rows and `now` come in."""

from __future__ import annotations

from datetime import datetime

from challenge_service.api.wire import ChallengeView, GoalView, Requirement, Reward, timestamp
from challenge_service.catalog import Catalog, Challenge, Goal
from challenge_service.rules.periods import period_end
from challenge_service.rules.progress import Progress, displayed, locked, view


def goal_view(catalog: Catalog, goal: Goal, rows: dict[str, Progress], now: datetime) -> GoalView:
    row = view(goal, rows.get(goal.goal_id), now)
    expires = period_end(goal.rotation.schedule, now) if goal.rotating and goal.rotation else None
    requirement, reward = goal.requirement, goal.reward
    return GoalView(
        goal_id=goal.goal_id,
        name=goal.name,
        description=goal.description,
        requirement=Requirement(requirement.stat_code, requirement.operator, requirement.target_value),
        reward=Reward(reward.type, reward.reward_id, reward.quantity),
        prerequisites=list(goal.prerequisites),
        progress=displayed(goal, row),
        status=row.status,
        locked=locked(goal, rows, now, catalog.goal),
        completed_at=timestamp(row.completed_at),
        claimed_at=timestamp(row.claimed_at),
        is_active=row.is_active,
        expires_at=timestamp(expires),
        expires_in_seconds=max(int((expires - now).total_seconds()), 0) if expires else 0,
    )


def challenge_view(
    catalog: Catalog, challenge: Challenge, rows: dict[str, Progress], now: datetime, active_only: bool
) -> ChallengeView:
    goals = [
        goal_view(catalog, goal, rows, now)
        for goal in challenge.goals
        if not active_only or (goal.goal_id in rows and rows[goal.goal_id].is_active)
    ]
    return ChallengeView(challenge.challenge_id, challenge.name, challenge.description, goals)

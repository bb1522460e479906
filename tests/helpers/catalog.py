"""Goals built in code, for rule tests that need one goal of a given shape and no catalog file."""

from __future__ import annotations

from challenge_service.catalog import Goal, OnExpiry, Requirement, Reward, Rotation
from challenge_service.catalog.model import EventSource, ProgressMode, Schedule


def make_rotation(schedule: Schedule, *, reset: bool = True, reselect: bool = True) -> Rotation:
    return Rotation(
        enabled=True,
        type="global",
        schedule=schedule,
        on_expiry=OnExpiry(reset_progress=reset, allow_reselection=reselect),
    )


def make_goal(
    goal_id: str = "g",
    *,
    source: EventSource = "statistic",
    stat_code: str = "kills",
    target: int = 10,
    mode: ProgressMode = "absolute",
    rotation: Rotation | None = None,
    challenge_id: str = "c",
) -> Goal:
    return Goal(
        challenge_id=challenge_id,
        goal_id=goal_id,
        name=goal_id,
        event_source=source,
        requirement=Requirement(
            stat_code="login_count" if source == "login" else stat_code,
            operator=">=",
            target_value=target,
            progress_mode=mode,
        ),
        reward=Reward(type="ITEM", reward_id="r", quantity=1),
        rotation=rotation,
    )

"""Goals built in code, for rule tests that need one goal of a given shape and no catalog file."""

from __future__ import annotations

from challenge_service.catalog import Goal, OnExpiry, Requirement, Reward, Rotation
from challenge_service.catalog.model import EventSource, ProgressMode, Schedule, Weekday

REWARD = Reward(type="ITEM", reward_id="r", quantity=1)


def make_rotation(
    schedule: Schedule = "daily",
    *,
    reset: bool = True,
    reselect: bool = True,
    deactivate: bool | None = None,
    reset_time: str = "00:00",
    timezone: str = "UTC",
    week_start: Weekday = "monday",
) -> Rotation:
    """A global rotation."""
    return Rotation(
        enabled=True,
        type="global",
        schedule=schedule,
        reset_time=reset_time,
        timezone=timezone,
        week_start=week_start,
        on_expiry=OnExpiry(reset_progress=reset, allow_reselection=reselect, deactivate=deactivate),
    )


def per_user_rotation(
    duration: str = "24h", *, reset: bool = True, reselect: bool = True, deactivate: bool | None = None
) -> Rotation:
    return Rotation(
        enabled=True,
        type="per_user",
        duration=duration,
        on_expiry=OnExpiry(reset_progress=reset, allow_reselection=reselect, deactivate=deactivate),
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
    rewards: tuple[Reward, ...] = (),
    auto_claim: bool = False,
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
        reward=None if rewards else REWARD,
        rewards=rewards,
        rotation=rotation,
        auto_claim=auto_claim,
    )

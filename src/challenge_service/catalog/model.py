"""The challenge catalog as typed, immutable values (SPEC §3).

Field names are snake_case in Python and camelCase on the wire, matching `challenges.json`.
"""

from __future__ import annotations

from typing import Literal

import msgspec

EventSource = Literal["login", "statistic"]
ProgressMode = Literal["absolute", "relative"]
RewardType = Literal["ITEM", "WALLET"]
Schedule = Literal["daily", "weekly", "monthly"]


class Requirement(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    stat_code: str
    operator: Literal[">="]
    target_value: int
    progress_mode: ProgressMode = "absolute"


class Reward(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    type: RewardType
    # ITEM: the AGS item id; WALLET: the currency code.
    reward_id: str
    quantity: int


class OnExpiry(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    reset_progress: bool
    allow_reselection: bool


class Rotation(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    enabled: bool
    # Per-user rotation is future work (SPEC §3), so only "global" exists.
    type: Literal["global"]
    schedule: Schedule
    on_expiry: OnExpiry


class Goal(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    # Not part of a goal in challenges.json: the catalog stamps it from the enclosing challenge so a goal
    # found by id or stat code knows where it belongs.
    challenge_id: str = ""
    goal_id: str
    name: str
    description: str = ""
    event_source: EventSource
    requirement: Requirement
    reward: Reward
    prerequisites: tuple[str, ...] = ()
    default_assigned: bool = False
    rotation: Rotation | None = None

    @property
    def rotating(self) -> bool:
        return self.rotation is not None and self.rotation.enabled


class Challenge(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    challenge_id: str
    name: str
    description: str = ""
    goals: tuple[Goal, ...]

"""Catalog + a player's rows → the challenge JSON the player is shown (the hottest path of the API).

Everything that comes from the catalog is encoded once per catalog; a request only formats the few
per-player fields of each goal (progress, status, timestamps…) and joins bytes. A challenge's `state`
depends on the time, so its prefix is encoded once per state. The structs in `api.wire`
(`ChallengeList`, `ChallengeView`, `GoalView`) describe the same JSON for the OpenAPI schema, and a test
holds the two to each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import lru_cache

import msgspec

from challenge_service.api.wire import reward_struct, timestamp
from challenge_service.catalog import Catalog, Challenge, Goal
from challenge_service.rules.periods import Calendar, calendar, period_end
from challenge_service.rules.progress import Progress, displayed, locked, rotate
from challenge_service.rules.windows import STATES, state

_ENCODE = msgspec.json.encode
# Extra members for each goal object, as `,"name":value…` (the admin view's stored row), or None.
GoalExtra = Callable[[Goal], bytes] | None


class _Expiry:
    """`expiresAt` / `expiresInSeconds` of global rotation per calendar, computed once per request."""

    def __init__(self, now: datetime, calendars: int) -> None:
        self.now = now
        self._cache: list[tuple[str, int] | None] = [None] * calendars

    def of(self, slot: int, calendars: tuple[Calendar, ...]) -> tuple[str, int]:
        cached = self._cache[slot]
        if cached is None:
            cached = self._cache[slot] = self.until(period_end(calendars[slot], self.now))
        return cached

    def until(self, end: datetime | None) -> tuple[str, int]:
        if end is None or end <= self.now:
            return "", 0
        return timestamp(end), max(int((end - self.now).total_seconds()), 0)


# A goal's expiry: no rotation, the player's own period (per-user rotation), or a calendar's slot.
_NONE, _PER_USER = -2, -1


class CatalogEncoder:
    """The pre-encoded, catalog-only parts of every challenge and goal."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._challenge_prefix = {
            challenge.challenge_id: {current: _challenge_prefix(challenge, current) for current in STATES}
            for challenge in catalog.challenges
        }
        self._goal_prefix = {goal.goal_id: _goal_prefix(goal) for goal in catalog.goals}
        slots: dict[Calendar, int] = {}
        self._expiry_slot: dict[str, int] = {}
        for goal in catalog.goals:
            rotation = goal.rotation
            if rotation is None or not rotation.enabled:
                self._expiry_slot[goal.goal_id] = _NONE
            elif rotation.per_user:
                self._expiry_slot[goal.goal_id] = _PER_USER
            else:
                self._expiry_slot[goal.goal_id] = slots.setdefault(calendar(rotation), len(slots))
        self._calendars = tuple(slots)

    def challenges(
        self,
        challenges: Iterable[Challenge],
        rows: Mapping[str, Progress],
        now: datetime,
        active_only: bool,
        extra: GoalExtra = None,
    ) -> list[bytes]:
        expiry = _Expiry(now, len(self._calendars))
        return [self._challenge(challenge, rows, expiry, active_only, extra) for challenge in challenges]

    def _challenge(
        self,
        challenge: Challenge,
        rows: Mapping[str, Progress],
        expiry: _Expiry,
        active_only: bool,
        extra: GoalExtra,
    ) -> bytes:
        goals = [
            self._goal(goal, rows, expiry)
            if extra is None
            else self._goal(goal, rows, expiry)[:-1] + extra(goal) + b"}"
            for goal in challenge.goals
            if not active_only or _shown_active(goal, rows.get(goal.goal_id), expiry.now)
        ]
        prefix = self._challenge_prefix[challenge.challenge_id][state(challenge, expiry.now)]
        return b"".join((prefix, b",".join(goals), b"]}"))

    def _goal(self, goal: Goal, rows: Mapping[str, Progress], expiry: _Expiry) -> bytes:
        now = expiry.now
        stored = rows.get(goal.goal_id)
        slot = self._expiry_slot[goal.goal_id]
        is_locked = bool(goal.prerequisites) and locked(goal, rows, now, self.catalog.goal)
        if stored is None:
            expires_at, expires_in = expiry.of(slot, self._calendars) if slot >= 0 else ("", 0)
            dynamic = (
                f'"progress":0,"status":"not_started","locked":{_BOOL[is_locked]},"completedAt":"",'
                f'"claimedAt":"","isActive":false,"expiresAt":"{expires_at}","expiresInSeconds":{expires_in}}}'
            )
        else:
            # Reads show a due rotation reset before it is persisted.
            row = rotate(goal, stored, now)
            if slot >= 0:
                expires_at, expires_in = expiry.of(slot, self._calendars)
            else:
                expires_at, expires_in = expiry.until(row.expires_at) if slot == _PER_USER else ("", 0)
            dynamic = (
                f'"progress":{displayed(goal, row)},"status":"{row.status}","locked":{_BOOL[is_locked]},'
                f'"completedAt":"{timestamp(row.completed_at)}","claimedAt":"{timestamp(row.claimed_at)}",'
                f'"isActive":{_BOOL[row.is_active]},"expiresAt":"{expires_at}",'
                f'"expiresInSeconds":{expires_in}}}'
            )
        return self._goal_prefix[goal.goal_id] + dynamic.encode()


_BOOL = {True: "true", False: "false"}


def _shown_active(goal: Goal, row: Progress | None, now: datetime) -> bool:
    """Active as the player is shown it: a period that ended and deactivates the goal counts as over."""
    return row is not None and row.is_active and rotate(goal, row, now).is_active


def _challenge_prefix(challenge: Challenge, current: str) -> bytes:
    static = {
        "challengeId": challenge.challenge_id,
        "name": challenge.name,
        "description": challenge.description,
        "tags": list(challenge.tags),
        "startsAt": timestamp(challenge.starts_at),
        "endsAt": timestamp(challenge.ends_at),
        "state": current,
    }
    return _ENCODE(static)[:-1] + b',"goals":['


def _goal_prefix(goal: Goal) -> bytes:
    requirement = goal.requirement
    rewards = [reward_struct(reward) for reward in goal.reward_list]
    static = {
        "goalId": goal.goal_id,
        "name": goal.name,
        "description": goal.description,
        "requirement": {
            "statCode": requirement.stat_code,
            "operator": requirement.operator,
            "targetValue": requirement.target_value,
        },
        "reward": rewards[0],
        "rewards": rewards,
        "prerequisites": list(goal.prerequisites),
        "tags": list(goal.tags),
        "autoClaim": goal.auto_claim,
    }
    return _ENCODE(static)[:-1] + b","


@lru_cache(maxsize=4)
def encoder_for(catalog: Catalog) -> CatalogEncoder:
    """One encoder per catalog object: a reloaded catalog gets its own, the old one ages out."""
    return CatalogEncoder(catalog)

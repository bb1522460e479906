"""Catalog + a player's rows → the challenge JSON the player is shown (the hottest path of the API).

Everything that comes from the catalog is encoded once per catalog; a request only formats the few
per-player fields of each goal (progress, status, timestamps…) and joins bytes. The structs in
`api.wire` (`ChallengeList`, `ChallengeView`, `GoalView`) describe the same JSON for the OpenAPI schema,
and a test holds the two to each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import lru_cache

import msgspec

from challenge_service.api.wire import timestamp
from challenge_service.catalog import Catalog, Challenge, Goal
from challenge_service.rules.periods import Schedule, period_end
from challenge_service.rules.progress import Progress, displayed, locked, rotate

_ENCODE = msgspec.json.encode
# Extra members for each goal object, as `,"name":value…` (the admin view's stored row), or None.
GoalExtra = Callable[[Goal], bytes] | None


class _Expiry:
    """`expiresAt` / `expiresInSeconds` per schedule, computed once per request."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._cache: dict[Schedule, tuple[str, int]] = {}

    def of(self, goal: Goal) -> tuple[str, int]:
        if not goal.rotating or goal.rotation is None:
            return "", 0
        schedule = goal.rotation.schedule
        cached = self._cache.get(schedule)
        if cached is None:
            end = period_end(schedule, self.now)
            cached = self._cache[schedule] = (timestamp(end), max(int((end - self.now).total_seconds()), 0))
        return cached


class CatalogEncoder:
    """The pre-encoded, catalog-only parts of every challenge and goal."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._challenge_prefix = {
            challenge.challenge_id: _ENCODE(
                {
                    "challengeId": challenge.challenge_id,
                    "name": challenge.name,
                    "description": challenge.description,
                }
            )[:-1]
            + b',"goals":['
            for challenge in catalog.challenges
        }
        self._goal_prefix = {goal.goal_id: _goal_prefix(goal) for goal in catalog.goals}

    def challenges(
        self,
        challenges: Iterable[Challenge],
        rows: Mapping[str, Progress],
        now: datetime,
        active_only: bool,
        extra: GoalExtra = None,
    ) -> list[bytes]:
        expiry = _Expiry(now)
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
            if not active_only or (goal.goal_id in rows and rows[goal.goal_id].is_active)
        ]
        return b"".join((self._challenge_prefix[challenge.challenge_id], b",".join(goals), b"]}"))

    def _goal(self, goal: Goal, rows: Mapping[str, Progress], expiry: _Expiry) -> bytes:
        now = expiry.now
        stored = rows.get(goal.goal_id)
        expires_at, expires_in = expiry.of(goal)
        is_locked = bool(goal.prerequisites) and locked(goal, rows, now, self.catalog.goal)
        if stored is None:
            dynamic = (
                f'"progress":0,"status":"not_started","locked":{_BOOL[is_locked]},"completedAt":"",'
                f'"claimedAt":"","isActive":false,"expiresAt":"{expires_at}","expiresInSeconds":{expires_in}}}'
            )
        else:
            # Reads show a due rotation reset before it is persisted.
            row = rotate(goal, stored, now)
            dynamic = (
                f'"progress":{displayed(goal, row)},"status":"{row.status}","locked":{_BOOL[is_locked]},'
                f'"completedAt":"{timestamp(row.completed_at)}","claimedAt":"{timestamp(row.claimed_at)}",'
                f'"isActive":{_BOOL[row.is_active]},"expiresAt":"{expires_at}",'
                f'"expiresInSeconds":{expires_in}}}'
            )
        return self._goal_prefix[goal.goal_id] + dynamic.encode()


_BOOL = {True: "true", False: "false"}


def _goal_prefix(goal: Goal) -> bytes:
    requirement, reward = goal.requirement, goal.reward
    static = {
        "goalId": goal.goal_id,
        "name": goal.name,
        "description": goal.description,
        "requirement": {
            "statCode": requirement.stat_code,
            "operator": requirement.operator,
            "targetValue": requirement.target_value,
        },
        "reward": {"type": reward.type, "rewardId": reward.reward_id, "quantity": reward.quantity},
        "prerequisites": list(goal.prerequisites),
    }
    return _ENCODE(static)[:-1] + b","


@lru_cache(maxsize=4)
def encoder_for(catalog: Catalog) -> CatalogEncoder:
    """One encoder per catalog object: a reloaded catalog gets its own, the old one ages out."""
    return CatalogEncoder(catalog)

"""Read-only lookups over a validated set of challenges."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from challenge_service.catalog.model import Challenge, Goal
from challenge_service.errors import challenge_not_found, goal_not_found


class Catalog:
    """Every challenge and goal, indexed once at build time so each lookup is a dict hit.

    Expects validated challenges (see `parse_catalog`); duplicate ids would make lookups ambiguous, so
    they are refused here too.
    """

    __slots__ = (
        "_challenge_by_id",
        "_challenges",
        "_default_goals",
        "_goal_by_id",
        "_goals",
        "_login_goals",
        "_stat_goals",
        "_windowed",
    )

    def __init__(self, challenges: Iterable[Challenge]) -> None:
        stamped = tuple(_stamp_goals(c) for c in challenges)
        self._challenges = stamped
        self._challenge_by_id: dict[str, Challenge] = {}
        self._goal_by_id: dict[str, Goal] = {}
        stat_goals: dict[str, list[Goal]] = {}
        for challenge in stamped:
            if challenge.challenge_id in self._challenge_by_id:
                raise ValueError(f"duplicate challengeId {challenge.challenge_id!r}")
            self._challenge_by_id[challenge.challenge_id] = challenge
            for goal in challenge.goals:
                if goal.goal_id in self._goal_by_id:
                    raise ValueError(f"duplicate goalId {goal.goal_id!r}")
                self._goal_by_id[goal.goal_id] = goal
                if goal.event_source == "statistic":
                    stat_goals.setdefault(goal.requirement.stat_code, []).append(goal)
        self._goals = tuple(self._goal_by_id.values())
        self._stat_goals = {code: tuple(goals) for code, goals in stat_goals.items()}
        self._login_goals = tuple(g for g in self._goals if g.event_source == "login")
        self._default_goals = tuple(g for g in self._goals if g.default_assigned)
        self._windowed = any(c.starts_at is not None or c.ends_at is not None for c in stamped)

    @property
    def challenges(self) -> tuple[Challenge, ...]:
        return self._challenges

    @property
    def goals(self) -> tuple[Goal, ...]:
        return self._goals

    @property
    def windowed(self) -> bool:
        """Some challenge has a time window (`startsAt` or `endsAt`): not every challenge is always live."""
        return self._windowed

    @property
    def login_goals(self) -> tuple[Goal, ...]:
        return self._login_goals

    @property
    def default_goals(self) -> tuple[Goal, ...]:
        return self._default_goals

    def challenge(self, challenge_id: str) -> Challenge | None:
        return self._challenge_by_id.get(challenge_id)

    def goal(self, goal_id: str) -> Goal | None:
        return self._goal_by_id.get(goal_id)

    def require_challenge(self, challenge_id: str) -> Challenge:
        """The challenge a request names, or `CHALLENGE_NOT_FOUND`."""
        challenge = self._challenge_by_id.get(challenge_id)
        if challenge is None:
            raise challenge_not_found(challenge_id)
        return challenge

    def require_goal(self, challenge_id: str, goal_id: str) -> Goal:
        """The goal a request names within a challenge: `CHALLENGE_NOT_FOUND` for an unknown challenge,
        `GOAL_NOT_FOUND` for a goal that is unknown or belongs to another challenge."""
        self.require_challenge(challenge_id)
        goal = self._goal_by_id.get(goal_id)
        if goal is None or goal.challenge_id != challenge_id:
            raise goal_not_found(goal_id, challenge_id)
        return goal

    def stat_goals(self, stat_code: str) -> tuple[Goal, ...]:
        """Statistic goals fed by `stat_code`; login goals never match, whatever their label."""
        return self._stat_goals.get(stat_code, ())

    def __repr__(self) -> str:
        return f"Catalog(challenges={len(self._challenges)}, goals={len(self._goals)})"


def _stamp_goals(challenge: Challenge) -> Challenge:
    if all(g.challenge_id == challenge.challenge_id for g in challenge.goals):
        return challenge
    goals = tuple(msgspec.structs.replace(g, challenge_id=challenge.challenge_id) for g in challenge.goals)
    return msgspec.structs.replace(challenge, goals=goals)

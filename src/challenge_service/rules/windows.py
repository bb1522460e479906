"""A challenge's time window: `upcoming` before `startsAt`, `live` inside it, `ended` from `endsAt`.

Only live challenges move on events and can be initialized, activated or selected; a completed goal of
an ended challenge stays claimable for `claimGraceHours` after `endsAt`. A challenge without a window is
always live. The caller passes `now`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from challenge_service.catalog import Challenge

State = Literal["upcoming", "live", "ended"]
STATES: tuple[State, ...] = ("upcoming", "live", "ended")


def state(challenge: Challenge, now: datetime) -> State:
    if challenge.starts_at is not None and now < challenge.starts_at:
        return "upcoming"
    if challenge.ends_at is not None and now >= challenge.ends_at:
        return "ended"
    return "live"


def is_live(challenge: Challenge, now: datetime) -> bool:
    return state(challenge, now) == "live"


def claimable_until(challenge: Challenge) -> datetime | None:
    """When completed goals stop being claimable: `endsAt` + the grace; None without an end."""
    if challenge.ends_at is None:
        return None
    return challenge.ends_at + timedelta(hours=challenge.claim_grace_hours)


def in_grace(challenge: Challenge, now: datetime) -> bool:
    """Ended, but its completed goals are still claimable."""
    until = claimable_until(challenge)
    return state(challenge, now) == "ended" and until is not None and now < until


def listed_by_default(challenge: Challenge, now: datetime) -> bool:
    """What `GET /v1/challenges` lists without `state=`: live challenges and ended ones in their grace."""
    return is_live(challenge, now) or in_grace(challenge, now)


def next_change(challenges: Iterable[Challenge], now: datetime) -> datetime | None:
    """The first instant after `now` at which one of `challenges` changes state (None: never)."""
    bounds = [
        bound
        for challenge in challenges
        for bound in (challenge.starts_at, challenge.ends_at)
        if bound is not None and bound > now
    ]
    return min(bounds, default=None)

"""What every reward client shares: the reward shape, the client protocol and the one error type."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

import msgspec

RewardType = Literal["ITEM", "WALLET"]
# How `RewardClient.settle` made sure of a grant: AGS already had it, or it was sent (again) in a form AGS
# applies at most once.
Settled = Literal["found", "sent"]


class RewardLike(Protocol):
    """Anything shaped like a reward: the catalog's ``Reward`` and ``RewardSpec`` both qualify."""

    @property
    def type(self) -> str: ...

    @property
    def reward_id(self) -> str: ...

    @property
    def quantity(self) -> int: ...


class RewardSpec(msgspec.Struct, frozen=True):
    """One reward to grant: ITEM → entitlement of ``reward_id``; WALLET → credit of currency ``reward_id``."""

    type: RewardType
    reward_id: str
    quantity: int


class RewardGrantError(Exception):
    """A grant did not (verifiably) happen; the goal stays claimable (502 REWARD_GRANT_FAILED).

    ``retryable``: trying again later may succeed (AGS overloaded, down, timing out). ``in_doubt``: some
    attempt may have reached AGS without an answer (timeout, dropped connection, 5xx), so the reward may
    have been granted after all — the ledger must not blindly re-grant it. ``status`` is the last HTTP
    status from AGS, if any.
    """

    def __init__(
        self, message: str, *, retryable: bool, in_doubt: bool = False, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.in_doubt = in_doubt
        self.status = status

    def __repr__(self) -> str:
        return (
            f"RewardGrantError({self.message!r}, retryable={self.retryable}, in_doubt={self.in_doubt}, "
            f"status={self.status})"
        )


class RewardClient(Protocol):
    async def grant(self, user_id: str, reward: RewardLike, grant_id: str) -> None:
        """Grant ``reward`` to ``user_id``; raise ``RewardGrantError`` when it did not happen.

        ``grant_id`` is the ledger row's id (32 hex digits), the same for every attempt of that row: the
        grant carries it so that AGS applies it once (an ITEM fulfillment's transaction id) or so that it
        can be found again (a WALLET credit's mark).
        """
        ...

    async def settle(self, user_id: str, reward: RewardLike, grant_id: str, since: datetime) -> Settled:
        """Make sure a grant whose earlier attempts (none before ``since``) may or may not have reached
        AGS ends up applied exactly once. Raises ``RewardGrantError`` when that cannot be done now;
        ``in_doubt`` on it means the grant may still have happened."""
        ...


def to_spec(reward: RewardLike) -> RewardSpec:
    """Validate a reward-shaped object; a bad one is a config bug, never worth retrying."""
    if reward.quantity <= 0:
        raise RewardGrantError(f"reward quantity must be > 0, got {reward.quantity}", retryable=False)
    if not reward.reward_id:
        raise RewardGrantError("reward id is empty", retryable=False)
    # str() accepts a str-based enum from the catalog as well as a plain string.
    match str(reward.type):
        case "ITEM":
            return RewardSpec("ITEM", reward.reward_id, reward.quantity)
        case "WALLET":
            return RewardSpec("WALLET", reward.reward_id, reward.quantity)
        case other:
            raise RewardGrantError(f"unknown reward type {other!r}", retryable=False)

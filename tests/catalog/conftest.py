from __future__ import annotations

import copy
from typing import Any

import pytest


def _rotation(schedule: str) -> dict[str, Any]:
    return {
        "enabled": True,
        "type": "global",
        "schedule": schedule,
        "onExpiry": {"resetProgress": True, "allowReselection": True},
    }


def _requirement(stat_code: str, target: int, mode: str = "absolute") -> dict[str, Any]:
    return {"statCode": stat_code, "operator": ">=", "targetValue": target, "progressMode": mode}


# Small but complete: two challenges, a rotating login goal, an ITEM reward, and a prerequisite chain
# tutorial <- first-win <- ten-wins that no other goal refers to, so each test can break one thing.
VALID_DOCUMENT: dict[str, Any] = {
    "challenges": [
        {
            "challengeId": "daily",
            "name": "Daily",
            "description": "Resets every day",
            "goals": [
                {
                    "goalId": "daily-login",
                    "name": "Log in",
                    "eventSource": "login",
                    "requirement": _requirement("login_count", 1, "relative"),
                    "reward": {"type": "WALLET", "rewardId": "GOLD", "quantity": 50},
                    "defaultAssigned": True,
                    "rotation": _rotation("daily"),
                },
                {
                    "goalId": "daily-kills",
                    "name": "Get 10 kills",
                    "eventSource": "statistic",
                    "requirement": _requirement("enemy_kills", 10, "relative"),
                    "reward": {"type": "ITEM", "rewardId": "767d2217abe241aab2245794761e9dc4", "quantity": 1},
                    "rotation": _rotation("daily"),
                },
            ],
        },
        {
            "challengeId": "story",
            "name": "Story",
            "goals": [
                {
                    "goalId": "tutorial",
                    "name": "Finish the tutorial",
                    "eventSource": "statistic",
                    "requirement": _requirement("tutorial_completed", 1),
                    "reward": {"type": "WALLET", "rewardId": "GEMS", "quantity": 5},
                    "defaultAssigned": True,
                },
                {
                    "goalId": "first-win",
                    "name": "Win a match",
                    "eventSource": "statistic",
                    "requirement": _requirement("wins", 1),
                    "reward": {"type": "WALLET", "rewardId": "GOLD", "quantity": 100},
                    "prerequisites": ["tutorial"],
                },
                {
                    "goalId": "ten-wins",
                    "name": "Win 10 matches",
                    "eventSource": "statistic",
                    "requirement": _requirement("wins", 10),
                    "reward": {"type": "WALLET", "rewardId": "GEMS", "quantity": 20},
                    "prerequisites": ["first-win"],
                },
            ],
        },
    ]
}


@pytest.fixture
def document() -> dict[str, Any]:
    """A fresh copy of a valid catalog document that the test may change freely."""
    return copy.deepcopy(VALID_DOCUMENT)

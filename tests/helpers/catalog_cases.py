"""Challenge files for the catalog's tests: a valid document, one broken case per validation rule, and
edge cases that must be accepted. The validator's tests and the JSON Schema's tests share them."""

from __future__ import annotations

from typing import Any

import pytest


def _rotation(schedule: str) -> dict[str, Any]:
    return {
        "enabled": True,
        "type": "global",
        "schedule": schedule,
        "onExpiry": {"resetProgress": True, "allowReselection": True},
    }


def _per_user(duration: str, **extra: object) -> dict[str, Any]:
    return {
        "enabled": True,
        "type": "per_user",
        "duration": duration,
        "onExpiry": {"resetProgress": True, "allowReselection": True},
        **extra,
    }


_NOT_RFC3339 = (
    '{path}: must be an RFC 3339 timestamp with an offset, such as "2026-07-04T00:00:00Z", got "{value}"'
)


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


DELETE = object()
C0G0 = ("challenges", 0, "goals", 0)  # daily-login: login, rotating daily, relative
C1 = ("challenges", 1)  # story
C1G1 = ("challenges", 1, "goals", 1)  # first-win: requires tutorial
C1G2 = ("challenges", 1, "goals", 2)  # ten-wins: requires first-win; nothing requires it


def set_at(document: dict[str, Any], path: tuple[str | int, ...], value: object) -> None:
    parent: Any = document
    for step in path[:-1]:
        parent = parent[step]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value


# One case per validation rule: (where to change the valid document, new value, the one problem expected).
RULES = [
    # root
    (("challenges",), DELETE, "challenges: is required"),
    (("challenges",), {}, "challenges: expected an array, got object"),
    (("challenges",), [], "challenges: must contain at least one challenge"),
    # challenge
    (C1, "story", "challenges[1]: expected an object, got string"),
    ((*C1, "challengeId"), DELETE, "challenges[1].challengeId: is required"),
    ((*C1, "challengeId"), "", "challenges[1].challengeId: must not be empty"),
    ((*C1, "challengeId"), 7, "challenges[1].challengeId: expected a string, got integer"),
    (
        (*C1, "challengeId"),
        "daily",
        'challenges[1].challengeId: duplicate "daily", already used at challenges[0]',
    ),
    ((*C1, "challengeId"), "s" * 101, "challenges[1].challengeId: must be at most 100 characters"),
    (
        (*C1, "challengeId"),
        "my story",
        "challenges[1].challengeId: must not contain whitespace or control characters",
    ),
    ((*C1, "name"), DELETE, "challenges[1].name: is required"),
    ((*C1, "name"), "", "challenges[1].name: must not be empty"),
    ((*C1, "description"), None, "challenges[1].description: expected a string, got null"),
    ((*C1, "goals"), DELETE, "challenges[1].goals: is required"),
    ((*C1, "goals"), [], "challenges[1].goals: must contain at least one goal"),
    ((*C1G2,), [], "challenges[1].goals[2]: expected an object, got array"),
    # goal
    ((*C1G2, "goalId"), DELETE, "challenges[1].goals[2].goalId: is required"),
    ((*C1G2, "goalId"), "", "challenges[1].goals[2].goalId: must not be empty"),
    (
        (*C1G2, "goalId"),
        "daily-login",
        'challenges[1].goals[2].goalId: duplicate "daily-login", already used at challenges[0].goals[0]',
    ),
    ((*C1G2, "goalId"), "w" * 101, "challenges[1].goals[2].goalId: must be at most 100 characters"),
    (
        (*C1G2, "goalId"),
        "ten\twins",
        "challenges[1].goals[2].goalId: must not contain whitespace or control characters",
    ),
    (
        (*C1G2, "goalId"),
        "ten\x00wins",
        "challenges[1].goals[2].goalId: must not contain whitespace or control characters",
    ),
    (
        (*C1G2, "goalId"),
        "ten\u200bwins",
        "challenges[1].goals[2].goalId: must not contain whitespace or control characters",
    ),
    ((*C1G2, "name"), "", "challenges[1].goals[2].name: must not be empty"),
    ((*C1G2, "name"), DELETE, "challenges[1].goals[2].name: is required"),
    ((*C1G2, "description"), 1, "challenges[1].goals[2].description: expected a string, got integer"),
    ((*C1G2, "eventSource"), DELETE, "challenges[1].goals[2].eventSource: is required"),
    (
        (*C1G2, "eventSource"),
        "achievement",
        'challenges[1].goals[2].eventSource: must be one of login|statistic, got "achievement"',
    ),
    (
        (*C1G2, "defaultAssigned"),
        "yes",
        "challenges[1].goals[2].defaultAssigned: expected a boolean, got string",
    ),
    # requirement
    ((*C1G2, "requirement"), DELETE, "challenges[1].goals[2].requirement: is required"),
    ((*C1G2, "requirement"), [], "challenges[1].goals[2].requirement: expected an object, got array"),
    ((*C1G2, "requirement", "statCode"), DELETE, "challenges[1].goals[2].requirement.statCode: is required"),
    (
        (*C1G2, "requirement", "statCode"),
        "",
        "challenges[1].goals[2].requirement.statCode: must not be empty",
    ),
    ((*C1G2, "requirement", "operator"), DELETE, "challenges[1].goals[2].requirement.operator: is required"),
    (
        (*C1G2, "requirement", "operator"),
        ">",
        'challenges[1].goals[2].requirement.operator: must be ">=", got ">"',
    ),
    (
        (*C1G2, "requirement", "targetValue"),
        DELETE,
        "challenges[1].goals[2].requirement.targetValue: is required",
    ),
    ((*C1G2, "requirement", "targetValue"), 0, "challenges[1].goals[2].requirement.targetValue: must be > 0"),
    (
        (*C1G2, "requirement", "targetValue"),
        -3,
        "challenges[1].goals[2].requirement.targetValue: must be > 0",
    ),
    (
        (*C1G2, "requirement", "targetValue"),
        2**53 + 1,
        "challenges[1].goals[2].requirement.targetValue: must be <= 9007199254740992",
    ),
    (
        (*C1G2, "requirement", "targetValue"),
        "10",
        "challenges[1].goals[2].requirement.targetValue: expected an integer, got string",
    ),
    (
        (*C1G2, "requirement", "targetValue"),
        10.5,
        "challenges[1].goals[2].requirement.targetValue: expected an integer, got number",
    ),
    (
        (*C1G2, "requirement", "targetValue"),
        True,
        "challenges[1].goals[2].requirement.targetValue: expected an integer, got boolean",
    ),
    (
        (*C1G2, "requirement", "progressMode"),
        "delta",
        'challenges[1].goals[2].requirement.progressMode: must be one of absolute|relative, got "delta"',
    ),
    # reward
    ((*C1G2, "reward"), DELETE, "challenges[1].goals[2].reward: is required"),
    ((*C1G1, "reward"), DELETE, "challenges[1].goals[1].reward: is required"),
    (
        (*C1G2, "reward", "type"),
        "COINS",
        'challenges[1].goals[2].reward.type: must be one of ITEM|WALLET, got "COINS"',
    ),
    ((*C1G2, "reward", "type"), DELETE, "challenges[1].goals[2].reward.type: is required"),
    ((*C1G2, "reward", "rewardId"), "", "challenges[1].goals[2].reward.rewardId: must not be empty"),
    ((*C1G2, "reward", "rewardId"), DELETE, "challenges[1].goals[2].reward.rewardId: is required"),
    ((*C1G2, "reward", "quantity"), 0, "challenges[1].goals[2].reward.quantity: must be > 0"),
    ((*C1G2, "reward", "quantity"), 2**31, "challenges[1].goals[2].reward.quantity: must be <= 2147483647"),
    (
        (*C1G2, "reward", "quantity"),
        "1",
        "challenges[1].goals[2].reward.quantity: expected an integer, got string",
    ),
    ((*C1G2, "reward", "quantity"), DELETE, "challenges[1].goals[2].reward.quantity: is required"),
    # prerequisites
    (
        (*C1G1, "prerequisites"),
        "tutorial",
        "challenges[1].goals[1].prerequisites: expected an array, got string",
    ),
    (
        (*C1G1, "prerequisites"),
        [1],
        "challenges[1].goals[1].prerequisites[0]: expected a string, got integer",
    ),
    (
        (*C1G1, "prerequisites"),
        ["tutorial", "nope"],
        'challenges[1].goals[1].prerequisites[1]: unknown goal "nope"',
    ),
    (
        (*C1G1, "prerequisites"),
        ["first-win"],
        "challenges[1].goals[1].prerequisites[0]: must not be the goal itself",
    ),
    (
        ("challenges", 1, "goals", 0, "prerequisites"),
        ["first-win"],
        "challenges[1].goals[0].prerequisites: cycle tutorial -> first-win -> tutorial",
    ),
    (
        ("challenges", 1, "goals", 0, "prerequisites"),
        ["ten-wins"],
        "challenges[1].goals[0].prerequisites: cycle tutorial -> ten-wins -> first-win -> tutorial",
    ),
    # rotation
    ((*C0G0, "rotation"), "daily", "challenges[0].goals[0].rotation: expected an object, got string"),
    ((*C0G0, "rotation", "enabled"), DELETE, "challenges[0].goals[0].rotation.enabled: is required"),
    (
        (*C0G0, "rotation", "enabled"),
        "true",
        "challenges[0].goals[0].rotation.enabled: expected a boolean, got string",
    ),
    ((*C0G0, "rotation", "type"), DELETE, "challenges[0].goals[0].rotation.type: is required"),
    (
        (*C0G0, "rotation", "type"),
        "user",
        'challenges[0].goals[0].rotation.type: must be one of global|per_user, got "user"',
    ),
    (
        (*C0G0, "rotation", "schedule"),
        "hourly",
        'challenges[0].goals[0].rotation.schedule: must be one of daily|weekly|monthly, got "hourly"',
    ),
    ((*C0G0, "rotation", "schedule"), DELETE, "challenges[0].goals[0].rotation.schedule: is required"),
    ((*C0G0, "rotation", "onExpiry"), DELETE, "challenges[0].goals[0].rotation.onExpiry: is required"),
    (
        (*C0G0, "rotation", "onExpiry", "resetProgress"),
        DELETE,
        "challenges[0].goals[0].rotation.onExpiry.resetProgress: is required",
    ),
    (
        (*C0G0, "rotation", "onExpiry", "allowReselection"),
        "no",
        "challenges[0].goals[0].rotation.onExpiry.allowReselection: expected a boolean, got string",
    ),
    # challenge design beyond the reference: time windows, tags, several rewards, per-player and
    # zoned rotation, auto-claim
    ((*C1, "startsAt"), "tomorrow", _NOT_RFC3339.format(path="challenges[1].startsAt", value="tomorrow")),
    (
        (*C1, "endsAt"),
        "2026-07-04T00:00:00",
        _NOT_RFC3339.format(path="challenges[1].endsAt", value="2026-07-04T00:00:00"),
    ),
    (
        C1,
        {
            **VALID_DOCUMENT["challenges"][1],
            "startsAt": "2026-07-06T00:00:00Z",
            "endsAt": "2026-07-04T00:00:00Z",
        },
        "challenges[1].endsAt: must be after startsAt",
    ),
    ((*C1, "claimGraceHours"), 721, "challenges[1].claimGraceHours: must be between 0 and 720"),
    ((*C1, "claimGraceHours"), -1, "challenges[1].claimGraceHours: must be between 0 and 720"),
    ((*C1, "tags"), "event", "challenges[1].tags: expected an array, got string"),
    (
        (*C1, "tags"),
        ["weekend", "Big Event"],
        'challenges[1].tags[1]: must be 1–50 characters of a-z, 0-9, _ and -, got "Big Event"',
    ),
    (
        (*C1G2, "tags"),
        ["t" * 51],
        f'challenges[1].goals[2].tags[0]: must be 1–50 characters of a-z, 0-9, _ and -, got "{"t" * 51}"',
    ),
    (
        (*C1G2, "tags"),
        [f"t{i}" for i in range(21)],
        "challenges[1].goals[2].tags: must contain at most 20 tags",
    ),
    ((*C1G2, "autoClaim"), "yes", "challenges[1].goals[2].autoClaim: expected a boolean, got string"),
    (
        (*C1G2, "rewards"),
        [{"type": "ITEM", "rewardId": "sword", "quantity": 1}],
        'challenges[1].goals[2].rewards: must not be given together with "reward"; list every reward here',
    ),
    ((*C1G2, "reward"), DELETE, "challenges[1].goals[2].reward: is required"),
    ((*C1G1, "reward"), DELETE, "challenges[1].goals[1].reward: is required"),
    (
        (*C0G0, "rotation", "timezone"),
        "Mars/Olympus_Mons",
        'challenges[0].goals[0].rotation.timezone: must be an IANA time zone name such as "Asia/Tokyo", '
        'got "Mars/Olympus_Mons"',
    ),
    (
        (*C0G0, "rotation", "resetTime"),
        "25:00",
        'challenges[0].goals[0].rotation.resetTime: must be "HH:MM" (24 h, 00:00 to 23:59), got "25:00"',
    ),
    (
        (*C0G0, "rotation", "weekStart"),
        "sunday",
        "challenges[0].goals[0].rotation.weekStart: is for the weekly schedule only",
    ),
    (
        (*C0G0, "rotation", "duration"),
        "24h",
        "challenges[0].goals[0].rotation.duration: is for per_user rotation only",
    ),
    (
        (*C0G0, "rotation"),
        _per_user("0h"),
        'challenges[0].goals[0].rotation.duration: must be between 1 h and 90 d, got "0h"',
    ),
    (
        (*C0G0, "rotation"),
        _per_user("91d"),
        'challenges[0].goals[0].rotation.duration: must be between 1 h and 90 d, got "91d"',
    ),
    (
        (*C0G0, "rotation"),
        _per_user("1w"),
        'challenges[0].goals[0].rotation.duration: must be "<n>h" or "<n>d", got "1w"',
    ),
    (
        (*C0G0, "rotation"),
        _per_user("24h", resetTime="04:00"),
        "challenges[0].goals[0].rotation.resetTime: is for global rotation only; a per_user period lasts "
        "`duration`",
    ),
    (
        (*C0G0, "rotation"),
        {k: v for k, v in _per_user("24h").items() if k != "duration"},
        "challenges[0].goals[0].rotation.duration: is required",
    ),
    (
        (*C0G0, "rotation", "onExpiry", "deactivate"),
        "no",
        "challenges[0].goals[0].rotation.onExpiry.deactivate: expected a boolean, got string",
    ),
    (
        (*C0G0, "requirement", "progressMode"),
        "absolute",
        'challenges[0].goals[0].requirement.progressMode: must be "relative" when rotation is enabled',
    ),
    (
        (*C0G0, "requirement", "progressMode"),
        DELETE,
        'challenges[0].goals[0].requirement.progressMode: must be "relative" when rotation is enabled',
    ),
]

# Changes to the valid document that must still load: defaults, nulls, unknown keys, bounds.
ACCEPTED = [
    pytest.param((*C0G0, "unknownKey"), {"anything": [1]}, id="unknown-key"),
    pytest.param((*C1G2, "type"), "absolute", id="legacy-type-key"),
    pytest.param(("version",), 2, id="unknown-root-key"),
    pytest.param((*C1G2, "requirement", "progressMode"), DELETE, id="progress-mode-defaults"),
    pytest.param((*C1G2, "prerequisites"), DELETE, id="prerequisites-default"),
    pytest.param((*C0G0, "defaultAssigned"), DELETE, id="default-assigned-default"),
    pytest.param((*C1G2, "rotation"), None, id="null-rotation"),
    pytest.param(
        (*C1G2, "rotation"),
        {
            "enabled": False,
            "type": "global",
            "schedule": "weekly",
            "onExpiry": {"resetProgress": True, "allowReselection": True},
        },
        id="disabled-rotation-absolute",
    ),
    pytest.param((*C1G2, "goalId"), "w" * 100, id="id-100-chars"),
    pytest.param((*C1G2, "goalId"), "défi-été", id="id-non-ascii"),
    pytest.param((*C1G2, "requirement", "targetValue"), 2**53, id="max-target"),
    pytest.param((*C1G2, "reward", "quantity"), 2**31 - 1, id="max-quantity"),
    pytest.param(("challenges", 0, "goals", 1, "prerequisites"), ["ten-wins"], id="forward-reference"),
    pytest.param((*C1, "startsAt"), "2026-07-03T18:00:00+09:00", id="window-start-with-offset"),
    pytest.param((*C1, "endsAt"), "2026-07-06T00:00:00Z", id="window-end-only"),
    pytest.param((*C1, "startsAt"), None, id="null-window-start"),
    pytest.param((*C1, "claimGraceHours"), 0, id="no-claim-grace"),
    pytest.param((*C1, "claimGraceHours"), 720, id="max-claim-grace"),
    pytest.param((*C1, "tags"), ["weekend", "pvp_2", "event-1"], id="tags"),
    pytest.param((*C1G2, "tags"), [], id="no-tags"),
    pytest.param((*C1G2, "autoClaim"), True, id="auto-claim"),
    pytest.param((*C0G0, "rotation", "timezone"), "Asia/Tokyo", id="zone"),
    pytest.param((*C0G0, "rotation", "resetTime"), "23:59", id="reset-time"),
    pytest.param((*C0G0, "rotation", "onExpiry", "deactivate"), True, id="global-deactivate"),
    pytest.param((*C0G0, "rotation"), _per_user("1h"), id="per-user-1h"),
    pytest.param((*C0G0, "rotation"), _per_user("90d"), id="per-user-90d"),
    pytest.param(
        (*C0G0, "rotation"),
        _per_user("24h", onExpiry={"resetProgress": True, "allowReselection": True, "deactivate": False}),
        id="per-user-no-deactivate",
    ),
]

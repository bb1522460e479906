"""AGS permission matching (`auth/permissions.py`): resources with `*` segments, action bitmasks."""

from __future__ import annotations

import pytest

from challenge_service.auth.permissions import Action, Caller, Permission, allows, parse_permissions

REQUIRED = "ADMIN:NAMESPACE:mygame:CHALLENGE"


@pytest.mark.parametrize(
    ("granted", "expected"),
    [
        ("ADMIN:NAMESPACE:mygame:CHALLENGE", True),
        ("ADMIN:NAMESPACE:*:CHALLENGE", True),
        ("ADMIN:*:*:*", True),
        ("ADMIN:NAMESPACE:mygame:*", True),
        ("ADMIN:NAMESPACE:mygame:CHALLENGE:*", True),  # extra wildcard segments are no narrower
        ("ADMIN:*", True),
        ("*", True),
        ("ADMIN:NAMESPACE:othergame:CHALLENGE", False),
        ("ADMIN:NAMESPACE:mygame:WALLET", False),
        ("ADMIN:NAMESPACE:mygame", False),  # shorter, without a trailing wildcard
        ("ADMIN:NAMESPACE:*", False),  # a wildcard namespace is one namespace, not everything below it
        ("ADMIN:NAMESPACE:mygame:CHALLENGE:GOAL", False),  # more specific than what is required
        ("NAMESPACE:mygame:CHALLENGE", False),
        ("admin:namespace:mygame:challenge", False),  # segments are case-sensitive
    ],
)
def test_resources_match_segment_by_segment(granted: str, expected: bool) -> None:
    assert allows([Permission(granted, 15)], REQUIRED, Action.READ) is expected


@pytest.mark.parametrize(
    ("action", "needed", "expected"),
    [
        (2, Action.READ, True),
        (4, Action.READ, False),
        (4, Action.UPDATE, True),
        (6, Action.UPDATE, True),
        (3, Action.UPDATE, False),
        (15, Action.DELETE, True),
        (7, Action.DELETE, False),
        (0, Action.READ, False),
    ],
)
def test_the_action_bitmask_must_hold_every_needed_bit(action: int, needed: Action, expected: bool) -> None:
    assert allows([Permission(REQUIRED, action)], REQUIRED, needed) is expected


def test_any_granted_permission_may_allow() -> None:
    granted = [
        Permission("ADMIN:NAMESPACE:mygame:CHALLENGE", 2),
        Permission("ADMIN:NAMESPACE:*:CHALLENGE", 4),
    ]
    assert allows(granted, REQUIRED, Action.UPDATE)
    assert not allows(granted, REQUIRED, Action.DELETE)
    assert not allows([], REQUIRED, Action.READ)


def test_the_claim_is_read_in_both_spellings_and_malformed_entries_grant_nothing() -> None:
    claim = [
        {"resource": "A", "action": 2},
        {"Resource": "B", "Action": 4},  # as AGS IAM writes them
        {"resource": "C", "action": True},
        {"resource": "", "action": 2},
        {"resource": 7, "action": 2},
        {"action": 2},
        "ADMIN:NAMESPACE:*:CHALLENGE",
        None,
    ]
    assert parse_permissions(claim) == [Permission("A", 2), Permission("B", 4)]
    assert parse_permissions({"resource": "A", "action": 2}) == []
    assert parse_permissions(None) == []


def test_a_caller_may_what_its_token_grants_in_this_namespace() -> None:
    operator = Caller("ops", "mygame", [{"Resource": "ADMIN:NAMESPACE:mygame:CHALLENGE", "Action": 2}])
    assert operator.may(Action.READ)
    assert not operator.may(Action.UPDATE)
    assert not Caller("ops", "othergame", operator.grants).may(Action.READ)
    assert not Caller("player", "mygame").may(Action.READ)

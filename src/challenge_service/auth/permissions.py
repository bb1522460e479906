"""AGS permissions: does a token's `permissions` claim allow an action on a resource?

An AGS access token lists what its holder may do as `[{"resource": "...", "action": <bitmask>}]`
(AGS itself writes the keys as `Resource` / `Action`; both spellings are read). A resource is a
`:`-separated path such as `ADMIN:NAMESPACE:mygame:CHALLENGE`; the action is a bitmask of 1 create,
2 read, 4 update, 8 delete. A granted permission allows a required one when it holds every action bit
and its resource matches segment by segment, where a granted `*` matches any value; a granted resource
that ends in `*` also covers longer paths, except right after `NAMESPACE` or `USER` (a wildcard there
stands for one namespace or user, not for everything below it). These are the rules of AccelByte's own
token validators (the `validate_resource` of their Python SDK), without the studio/game namespace
shorthand, which this service does not need.

Pure functions, no I/O: the token was verified before (`auth/jwks.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntFlag
from typing import Any


class Action(IntFlag):
    CREATE = 1
    READ = 2
    UPDATE = 4
    DELETE = 8


ALL_ACTIONS = Action.CREATE | Action.READ | Action.UPDATE | Action.DELETE
# Segments after which a trailing `*` names one thing, not everything beneath it.
_SCOPE_SEGMENTS = ("NAMESPACE", "USER")


@dataclass(frozen=True, slots=True)
class Permission:
    resource: str
    action: int


def admin_resource(namespace: str) -> str:
    """The permission that guards this service's operator routes in one game namespace."""
    return f"ADMIN:NAMESPACE:{namespace}:CHALLENGE"


def parse_permissions(claim: object) -> list[Permission]:
    """The usable entries of a `permissions` claim; anything malformed grants nothing."""
    if not isinstance(claim, list):
        return []
    return [permission for entry in claim if (permission := _parse(entry)) is not None]


def _parse(entry: object) -> Permission | None:
    if not isinstance(entry, Mapping):
        return None
    resource = _field(entry, "resource")
    action = _field(entry, "action")
    # bool is an int in Python; `true` is not a bitmask.
    if (
        not isinstance(resource, str)
        or not resource
        or isinstance(action, bool)
        or not isinstance(action, int)
    ):
        return None
    return Permission(resource, action)


def _field(entry: Mapping[str, Any], name: str) -> object:
    return entry[name] if name in entry else entry.get(name.capitalize())


def allows(granted: Iterable[Permission], resource: str, action: Action) -> bool:
    """Whether any granted permission covers `action` on `resource`."""
    return any(
        permission.action & action == action and _matches(permission.resource, resource)
        for permission in granted
    )


def _matches(granted: str, required: str) -> bool:
    have = granted.split(":")
    want = required.split(":")
    for mine, theirs in zip(have, want, strict=False):
        if mine != "*" and mine != theirs:
            return False
    if len(have) < len(want):
        # A shorter grant covers the rest only through a trailing wildcard that is not a scope's value.
        return have[-1] == "*" and not (len(have) >= 2 and have[-2] in _SCOPE_SEGMENTS)
    # A longer grant is more specific than what is required, unless the extra segments are wildcards.
    return all(segment == "*" for segment in have[len(want) :])


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a request: the player the token names, and what else the token lets them do.

    `grants` is the token's `permissions` claim as sent; it is parsed only when an operator route asks
    (`may`), so player requests pay nothing for it. `actor` is the name audit records use.
    """

    user_id: str
    namespace: str
    grants: object = ()
    actor: str = ""

    def may(self, action: Action) -> bool:
        """Whether the caller holds this service's operator permission for `action`."""
        return allows(parse_permissions(self.grants), admin_resource(self.namespace), action)

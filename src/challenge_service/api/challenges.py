"""Challenge reads: the catalog merged with the player's progress."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from litestar import MediaType, Response, get
from litestar.params import FromPath, Parameter, QueryParameter

from challenge_service.api.deps import AnyRequest, current_user, services
from challenge_service.api.openapi import AUTH, CHALLENGES, DATABASE, errors
from challenge_service.api.views import encoder_for
from challenge_service.api.wire import ChallengeList, ChallengeView
from challenge_service.catalog import Catalog, Challenge
from challenge_service.errors import ErrorCode, invalid_input
from challenge_service.rules.windows import STATES, State, listed_by_default, state
from challenge_service.store.database import connection
from challenge_service.store.progress import user_rows


def _json(parts: list[bytes]) -> Response[Any]:
    return Response(b"".join(parts), media_type=MediaType.JSON)


# The handlers return pre-encoded bytes (see api/views.py); the annotations declare the JSON's shape for
# the OpenAPI schema, and tests/api/test_openapi.py checks real responses against it.
ACTIVE_ONLY = Parameter(
    description="`true`: every challenge is still listed, but its `goals` holds only the player's active ones"
)
# `state` is a name Litestar reserves for the application state.
StateQuery = Annotated[
    str | None,
    QueryParameter(
        name="state",
        description=f"a comma list of {', '.join(STATES)}: only challenges in one of these states; default "
        "the live ones and the ended ones whose completed goals are still claimable",
    ),
]
TagsQuery = Annotated[
    str | None,
    QueryParameter(description="a comma list: only challenges carrying at least one of these tags"),
]


def _comma_list(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def _states(raw: str | None) -> frozenset[State] | None:
    """The states asked for; None: the default listing."""
    if raw is None:
        return None
    wanted = _comma_list(raw)
    if not wanted or any(part not in STATES for part in wanted):
        raise invalid_input(f"state must be a comma list of {', '.join(STATES)}, got {raw!r}")
    return frozenset(current for current in STATES if current in wanted)


def listed(
    catalog: Catalog, now: datetime, states: frozenset[State] | None, tags: list[str]
) -> Sequence[Challenge]:
    """The challenges `GET /v1/challenges` lists, in catalog order (all of them for a catalog without
    time windows, asked with neither filter)."""
    if states is None and not tags and not catalog.windowed:
        return catalog.challenges
    wanted = set(tags)
    return [
        challenge
        for challenge in catalog.challenges
        if (listed_by_default(challenge, now) if states is None else state(challenge, now) in states)
        and (not wanted or not wanted.isdisjoint(challenge.tags))
    ]


@get(
    "/v1/challenges",
    operation_id="listChallenges",
    tags=[CHALLENGES],
    summary="List challenges with the player's progress",
    description="The live challenges of the catalog, and the ended ones whose completed goals are still "
    "claimable, in file order (`state` and `tags` choose others), each goal merged with the player's "
    "progress (rotation resets that are due are shown as applied).",
    responses=errors(*AUTH, *DATABASE),
)
async def list_challenges(
    request: AnyRequest,
    active_only: Annotated[bool, ACTIVE_ONLY] = False,
    states: StateQuery = None,
    tags: TagsQuery = None,
) -> Response[ChallengeList]:
    svc = services(request)
    user_id = await current_user(request)
    wanted, tagged = _states(states), _comma_list(tags)
    async with connection(svc.pool) as conn:
        rows = await user_rows(conn, user_id)
    catalog = svc.catalog
    now = svc.clock()
    shown = listed(catalog, now, wanted, tagged)
    encoded = encoder_for(catalog).challenges(shown, rows, now, active_only)
    return _json([b'{"challenges":[', b",".join(encoded), b"]}"])


@get(
    "/v1/challenges/{challenge_id:str}",
    operation_id="getChallenge",
    tags=[CHALLENGES],
    summary="One challenge with the player's progress",
    responses=errors(*AUTH, ErrorCode.CHALLENGE_NOT_FOUND, *DATABASE),
)
async def get_challenge(
    request: AnyRequest,
    challenge_id: FromPath[str],
    active_only: Annotated[bool, ACTIVE_ONLY] = False,
) -> Response[ChallengeView]:
    svc = services(request)
    user_id = await current_user(request)
    catalog = svc.catalog
    challenge = catalog.require_challenge(challenge_id)
    async with connection(svc.pool) as conn:
        rows = await user_rows(conn, user_id)
    return _json(encoder_for(catalog).challenges([challenge], rows, svc.clock(), active_only))

"""Challenge reads: the catalog merged with the player's progress."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import MediaType, Response, get
from litestar.params import FromPath, Parameter

from challenge_service.api.deps import AnyRequest, current_user, services
from challenge_service.api.openapi import AUTH, CHALLENGES, DATABASE, errors
from challenge_service.api.views import encoder_for
from challenge_service.api.wire import ChallengeList, ChallengeView
from challenge_service.errors import ErrorCode
from challenge_service.store.database import connection
from challenge_service.store.progress import user_rows


def _json(parts: list[bytes]) -> Response[Any]:
    return Response(b"".join(parts), media_type=MediaType.JSON)


# The handlers return pre-encoded bytes (see api/views.py); the annotations declare the JSON's shape for
# the OpenAPI schema, and tests/api/test_openapi.py checks real responses against it.
ACTIVE_ONLY = Parameter(
    description="`true`: every challenge is still listed, but its `goals` holds only the player's active ones"
)


@get(
    "/v1/challenges",
    operation_id="listChallenges",
    tags=[CHALLENGES],
    summary="List challenges with the player's progress",
    description="Every challenge of the catalog in file order, each goal merged with the player's progress "
    "(rotation resets that are due are shown as applied).",
    responses=errors(*AUTH, *DATABASE),
)
async def list_challenges(
    request: AnyRequest, active_only: Annotated[bool, ACTIVE_ONLY] = False
) -> Response[ChallengeList]:
    svc = services(request)
    user_id = await current_user(request)
    async with connection(svc.pool) as conn:
        rows = await user_rows(conn, user_id)
    catalog = svc.catalog
    encoded = encoder_for(catalog).challenges(catalog.challenges, rows, svc.clock(), active_only)
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

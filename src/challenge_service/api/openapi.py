"""What the OpenAPI document says beyond the handlers' signatures.

Litestar builds the document from the routes: paths, parameters and the response structs. The route
decorators add, through the helpers here, what it cannot see:

- the request body: the handlers read raw bytes (`api/body.py` accepts both key styles), so Litestar
  sees no `data` parameter; `request_body()` gives the route an `Operation` class that declares the
  body's struct, with the snake_case spelling of each key in its description;
- the error responses: `errors()` turns the errorCodes a route can answer into responses with the
  `ErrorBody` schema, under the HTTP status the one error table gives them (`api/errors.py`), with a
  real example of each (Litestar's automatic 400 advertises a body this API never sends; ours replaces
  it);
- the security scheme of the auth mode, the tags and the document's description: `openapi_config()`;
  the operator routes' extra requirement in dev mode (`X-Mock-Admin`): `admin_security()`.

The document is served at `{BASE_PATH}/openapi/openapi.json`; `api/apidocs.py` converts it to Swagger 2.0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.openapi.spec import Components, Example, Operation, Reference, SecurityScheme, Tag

from challenge_service.api.auth import MOCK_DEFAULT_USER
from challenge_service.api.body import MAX_ID_LENGTH
from challenge_service.api.errors import (
    BODY_TOO_LARGE,
    BODY_TOO_LARGE_STATUS,
    DATABASE_DOWN,
    OVERLOADED,
    WIRE,
    ErrorBody,
)
from challenge_service.assignments import insufficient_goals
from challenge_service.claims import errors as claim_errors
from challenge_service.errors import (
    DomainError,
    ErrorCode,
    challenge_not_found,
    challenge_not_live,
    goal_not_found,
    invalid_input,
)

API_VERSION = "1.0.0"

# Tags, in the order the browsable page lists them.
CHALLENGES, GOALS, CLAIMS, PLAYER_DATA, ADMIN, HEALTH = (
    "Challenges",
    "Goals",
    "Claims",
    "Player data",
    "Admin",
    "Health",
)
TAGS = [
    Tag(name=CHALLENGES, description="The catalog merged with the player's progress; rotation periods"),
    Tag(name=GOALS, description="Which goals the player works on: default assignment, activation, selection"),
    Tag(name=CLAIMS, description="Rewards of completed goals, granted exactly once per goal and period"),
    Tag(name=PLAYER_DATA, description="Everything stored about the player, for data-protection requests"),
    Tag(
        name=ADMIN,
        description="Operators: a player's full state, fixing a goal, settling reward grants, the audit "
        "trail. Needs the AGS permission `ADMIN:NAMESPACE:{namespace}:CHALLENGE` in the token",
    ),
    Tag(name=HEALTH, description="Liveness and database reachability; no token needed"),
]

BEARER, MOCK_USER, MOCK_ADMIN = "bearerAuth", "mockUser", "mockAdmin"

DESCRIPTION = f"""\
Players list their challenges and progress, choose the goals they work on and claim rewards; every
player call acts for the authenticated player. Operators look at and fix any player's goals and settle
reward grants (the Admin routes). The full reference, with examples, is `docs/api.md` in the repository.

**Bodies** are JSON objects. Keys may be camelCase (shown here) or snake_case (`goal_ids`, `is_active`,
…); unknown keys are ignored; an empty or `null` body counts as `{{}}`; path parameters win over body
fields.

**Responses** are lowerCamelCase JSON in which every field is always present; timestamps are RFC 3339
UTC with whole seconds, or `""` for "never".

**Errors** are `{{code, errorCode, message, details}}`: `code` is the gRPC status code, `errorCode` a
stable name to branch on. A 503 carries `Retry-After`; a 401 carries `WWW-Authenticate: Bearer`.

**Authentication**: an AGS IAM access token as `Authorization: Bearer …` (JWT mode, the default). In dev
mode (`PLUGIN_GRPC_SERVER_AUTH_ENABLED=false`) the `X-Mock-User-Id` header names the player instead
(default `{MOCK_DEFAULT_USER}`).

**Operators** (the Admin routes, `/v1/admin/…`) need the AGS permission
`ADMIN:NAMESPACE:{{namespace}}:CHALLENGE` in the token's `permissions` claim: read (2) for GET, update (4)
for writes; otherwise 403 `PERMISSION_DENIED`. In dev mode `X-Mock-Admin: true` stands for it. Every
write is recorded in the audit trail (`GET /v1/admin/audit`).
"""


def openapi_config(
    base_path: str, *, jwt_auth: bool, render_plugins: Sequence[OpenAPIRenderPlugin]
) -> OpenAPIConfig:
    """The document's metadata and the security scheme of the auth mode, applied to every route."""
    if jwt_auth:
        scheme = BEARER
        security_scheme = SecurityScheme(
            type="http",
            scheme="bearer",
            bearer_format="JWT",
            description="An AGS IAM access token (RS256); the player is its `sub` claim",
        )
        security: list[dict[str, list[str]]] = [{BEARER: []}]
    else:
        scheme = MOCK_USER
        security_scheme = SecurityScheme(
            type="apiKey",
            name="X-Mock-User-Id",
            security_scheme_in="header",
            description=f"Dev mode only: the player id (default `{MOCK_DEFAULT_USER}`); no token is checked",
        )
        # Optional: without the header the player is the default one.
        security = [{MOCK_USER: []}, {}]
    schemes: dict[str, SecurityScheme | Reference] = {scheme: security_scheme}
    if not jwt_auth:
        schemes[MOCK_ADMIN] = SecurityScheme(
            type="apiKey",
            name="X-Mock-Admin",
            security_scheme_in="header",
            description="Dev mode only: `true` stands for the operator permission the Admin routes need",
        )
    return OpenAPIConfig(
        title="Challenge Service",
        version=API_VERSION,
        description=DESCRIPTION,
        tags=TAGS,
        components=Components(security_schemes=schemes),
        security=security,
        path=f"{base_path}/openapi",
        render_plugins=render_plugins,
    )


# Routes that need no token declare this: one empty requirement means "no authentication".
NO_AUTH: list[dict[str, list[str]]] = [{}]


def admin_security(*, jwt_auth: bool) -> list[dict[str, list[str]]] | None:
    """What the operator routes require beyond the document's default: in JWT mode nothing (the
    permission travels in the same bearer token), in dev mode the `X-Mock-Admin` header, with or without
    `X-Mock-User-Id` (the operator's name for the audit trail)."""
    return None if jwt_auth else [{MOCK_USER: [], MOCK_ADMIN: []}, {MOCK_ADMIN: []}]


# -- error responses -----------------------------------------------------------------------------------

# What every authenticated route can answer: no or a bad token, a token of another namespace, a player
# id the service cannot store.
AUTH = (ErrorCode.UNAUTHENTICATED, ErrorCode.PERMISSION_DENIED, ErrorCode.INVALID_INPUT)
# What every route that reads or writes the database can answer.
DATABASE = (ErrorCode.UNAVAILABLE, ErrorCode.DATABASE_UNAVAILABLE)


def _samples() -> dict[ErrorCode, DomainError]:
    """One real error of each code, built by the code that raises it, for the examples."""
    goal, challenge = "daily-10-kills", "daily-challenges"
    samples = [
        invalid_input(f"user id must be at most {MAX_ID_LENGTH} printable characters"),
        challenge_not_found(challenge),
        goal_not_found("no-such-goal", challenge),
        insufficient_goals(0, 3),
        challenge_not_live("weekend-event", "upcoming"),
        claim_errors.challenge_ended("weekend-event", datetime(2026, 7, 9, tzinfo=UTC)),
        claim_errors.goal_not_active(goal),
        claim_errors.goal_rotated(goal),
        claim_errors.goal_already_claimed(goal),
        claim_errors.goal_not_completed(goal, "in_progress"),
        claim_errors.prerequisites_not_met(goal, ["daily-login"]),
        claim_errors.reward_grant_failed("reward grant failed: AGS Platform answered 500"),
        claim_errors.claim_in_progress(goal),
        claim_errors.grant_in_doubt(goal),
        claim_errors.grant_not_found("player-1", goal, "2025-01-06T00:00:00Z"),
        claim_errors.grant_already_resolved("granted"),
        DomainError(ErrorCode.UNAUTHENTICATED, "token expired"),
        DomainError(ErrorCode.PERMISSION_DENIED, "namespace mismatch"),
        OVERLOADED,
        DATABASE_DOWN,
        DomainError(ErrorCode.NOT_FOUND, "Not Found"),
        DomainError(ErrorCode.METHOD_NOT_ALLOWED, "Method Not Allowed"),
        DomainError(ErrorCode.INTERNAL, "internal error"),
    ]
    return {sample.code: sample for sample in samples}


SAMPLES = _samples()
BAD_BODY = invalid_input("request body must be a JSON object")


def _example(error: DomainError) -> Example:
    _status, grpc_code = WIRE[error.code]
    body = ErrorBody(code=grpc_code, error_code=error.code, message=error.message, details=[])
    return Example(summary=error.code.value, value=msgspec.to_builtins(body))


def _response(status: int, samples: list[DomainError]) -> ResponseSpec:
    names = ", ".join(f"`{sample.code.value}`" for sample in samples)
    return ResponseSpec(
        data_container=ErrorBody,
        description=f"errorCode {names}",
        examples=[_example(sample) for sample in samples],
        generate_examples=False,
    )


def errors(*codes: ErrorCode, body: bool = False) -> dict[int, ResponseSpec]:
    """The error responses of a route that can answer `codes` (and, with `body`, reads a request body:
    bad JSON or types are INVALID_INPUT, an oversized body INVALID_INPUT under 413)."""
    samples = {**SAMPLES, ErrorCode.INVALID_INPUT: BAD_BODY} if body else SAMPLES
    wanted = dict.fromkeys((*codes, ErrorCode.INVALID_INPUT) if body else codes)
    by_status: dict[int, list[DomainError]] = {}
    for code in wanted:
        by_status.setdefault(WIRE[code][0], []).append(samples[code])
    if body:
        by_status[BODY_TOO_LARGE_STATUS] = [BODY_TOO_LARGE]
    return {status: _response(status, samples) for status, samples in sorted(by_status.items())}


# -- request bodies ------------------------------------------------------------------------------------


def _camel_to_snake(name: str) -> str:
    return "".join(f"_{char.lower()}" if char.isupper() else char for char in name)


def body_schema(struct: type[msgspec.Struct], example: dict[str, Any], *, required: bool) -> dict[str, Any]:
    """The JSON Schema of a request struct, inline, each key's snake_case spelling in its description."""
    generated = msgspec.json.schema(struct)
    schema: dict[str, Any] = generated["$defs"][struct.__name__]
    if not required:
        # A `null` body counts as `{}`, which a body without required keys accepts.
        schema["type"] = ["object", "null"]
    for name, prop in schema.get("properties", {}).items():
        snake = _camel_to_snake(name)
        if snake != name:
            note = f"Also accepted as `{snake}`."
            prop["description"] = f"{prop['description']}. {note}" if "description" in prop else note
    schema["examples"] = [example]
    return schema


def request_body(struct: type[msgspec.Struct], *, required: bool, example: dict[str, Any]) -> type[Operation]:
    """An `Operation` class for a route's `operation_class`: it declares `struct` as the JSON body."""
    declared = {
        "required": required,
        "content": {"application/json": {"schema": body_schema(struct, example, required=required)}},
    }

    @dataclass
    class WithRequestBody(Operation):
        def to_schema(self) -> dict[str, Any]:
            return {**super().to_schema(), "requestBody": declared}

    WithRequestBody.__name__ = f"{struct.__name__}Operation"
    return WithRequestBody

"""The OpenAPI document served under BASE_PATH describes every call: bodies, responses, errors, security."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from challenge_service.api.errors import WIRE
from challenge_service.api.openapi import SAMPLES
from challenge_service.errors import ErrorCode
from tests.helpers.api import api_document
from tests.helpers.claims import put_grant
from tests.helpers.service import RunningService, operator

USER = {"X-Mock-User-Id": "schema-user"}
_TYPES = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}


def conforms(value: Any, schema: dict[str, Any], spec: dict[str, Any], path: str = "$") -> list[str]:
    """Every mismatch between a JSON value and an OpenAPI schema: types, required and unknown properties."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return conforms(value, spec["components"]["schemas"][name], spec, path)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [conforms(value, option, spec, path) for option in schema[key]]
            return [] if any(not problems for problems in options) else [f"{path}: matches no {key} option"]
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    if value is None:
        return [] if "null" in kinds else [f"{path}: null not allowed"]
    if kinds and not any(
        isinstance(value, _TYPES[k]) and not (k == "integer" and isinstance(value, bool))
        for k in kinds
        if k in _TYPES
    ):
        return [f"{path}: {type(value).__name__} is not {kinds}"]
    problems: list[str] = []
    if isinstance(value, dict) and "properties" in schema:
        properties = schema["properties"]
        problems += [f"{path}.{name}: missing" for name in schema.get("required", []) if name not in value]
        problems += [f"{path}.{name}: not in the schema" for name in value if name not in properties]
        for name, item in value.items():
            if name in properties:
                problems += conforms(item, properties[name], spec, f"{path}.{name}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            problems += conforms(item, schema["items"], spec, f"{path}[{index}]")
    return problems


def response_schema(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    operation = spec["paths"][path][method]
    responses = operation["responses"]
    ok = responses["200"]
    schema: dict[str, Any] = ok["content"]["application/json"]["schema"]
    return schema


async def test_the_schema_is_served_under_the_base_path(running: RunningService) -> None:
    response = await running.http.get("/challenge/openapi/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/challenge/v1/challenges",
        "/challenge/v1/challenges/{challenge_id}",
        "/challenge/v1/challenges/initialize",
        "/challenge/v1/challenges/{challenge_id}/goals/{goal_id}/active",
        "/challenge/v1/challenges/{challenge_id}/goals/batch-select",
        "/challenge/v1/challenges/{challenge_id}/goals/random-select",
        "/challenge/v1/challenges/{challenge_id}/goals/{goal_id}/claim",
        "/challenge/v1/challenges/{challenge_id}/rotation",
        "/challenge/healthz",
    ):
        assert path in spec["paths"], path


async def test_real_responses_match_the_schema(running: RunningService) -> None:
    spec = (await running.http.get("/challenge/openapi/openapi.json")).json()
    http = running.http
    base = "/challenge/v1/challenges"
    calls: list[tuple[str, str, Any]] = [
        ("post", "/initialize", await http.post(f"{base}/initialize", headers=USER)),
        (
            "put",
            "/{challenge_id}/goals/{goal_id}/active",
            await http.put(
                f"{base}/career/goals/career-500-matches/active", json={"is_active": True}, headers=USER
            ),
        ),
        (
            "post",
            "/{challenge_id}/goals/batch-select",
            await http.post(
                f"{base}/daily-challenges/goals/batch-select",
                json={"goal_ids": ["daily-10-kills"]},
                headers=USER,
            ),
        ),
        (
            "post",
            "/{challenge_id}/goals/random-select",
            await http.post(f"{base}/daily-challenges/goals/random-select", json={"count": 2}, headers=USER),
        ),
        (
            "get",
            "/{challenge_id}/rotation",
            await http.get(f"{base}/daily-challenges/rotation", headers=USER),
        ),
        ("get", "/{challenge_id}/rotation", await http.get(f"{base}/career/rotation", headers=USER)),
    ]
    async with await psycopg.AsyncConnection.connect(running.settings.database_url, autocommit=True) as conn:
        await conn.execute(
            "UPDATE user_goal_progress SET status = 'completed', progress = 1, completed_at = now()"
            " WHERE user_id = 'schema-user' AND goal_id = 'first-login'"
        )
    calls += [
        (
            "post",
            "/{challenge_id}/goals/{goal_id}/claim",
            await http.post(f"{base}/onboarding/goals/first-login/claim", headers=USER),
        ),
        ("get", "", await http.get(base, headers=USER)),
        ("get", "/{challenge_id}", await http.get(f"{base}/onboarding", headers=USER)),
    ]
    for method, suffix, response in calls:
        assert response.status_code == 200, (suffix, response.text)
        schema = response_schema(spec, method, f"{base}{suffix}")
        assert conforms(response.json(), schema, spec) == [], suffix
    health = await http.get("/challenge/healthz")
    assert conforms(health.json(), response_schema(spec, "get", "/challenge/healthz"), spec) == []


async def test_real_admin_and_data_responses_match_the_schema(running: RunningService) -> None:
    spec = (await running.http.get("/challenge/openapi/openapi.json")).json()
    http, admin, player = running.http, "/challenge/v1/admin", "schema-player"
    ops = operator("schema-ops")
    await http.post("/challenge/v1/challenges/initialize", headers={"X-Mock-User-Id": player})
    grant_id = await put_grant(running.settings.database_url, "in_doubt", user_id=player)
    goal = f"{admin}/users/{player}/goals/first-100-kills"
    calls: list[tuple[str, str, Any]] = [
        (
            "put",
            "/users/{user_id}/goals/{goal_id}/progress",
            await http.put(f"{goal}/progress", json={"progress": 3}, headers=ops),
        ),
        ("post", "/users/{user_id}/goals/{goal_id}/reset", await http.post(f"{goal}/reset", headers=ops)),
        (
            "get",
            "/users/{user_id}/challenges",
            await http.get(f"{admin}/users/{player}/challenges", headers=ops),
        ),
        ("get", "/grants", await http.get(f"{admin}/grants", headers=ops)),
        (
            "post",
            "/grants/{grant_id}/resolve",
            await http.post(f"{admin}/grants/{grant_id}/resolve", json={"as": "failed"}, headers=ops),
        ),
        ("get", "/audit", await http.get(f"{admin}/audit", params={"limit": 2}, headers=ops)),
    ]
    for method, suffix, response in calls:
        assert response.status_code == 200, (suffix, response.text)
        assert conforms(response.json(), response_schema(spec, method, f"{admin}{suffix}"), spec) == [], (
            suffix
        )
    assert len(calls[3][2].json()["grants"]) == 1 and calls[5][2].json()["nextBefore"] > 0  # not empty
    data = await http.get("/challenge/v1/users/me/data", headers={"X-Mock-User-Id": player})
    assert data.status_code == 200
    assert all(data.json()[key] for key in ("progress", "grants", "audit"))
    assert conforms(data.json(), response_schema(spec, "get", "/challenge/v1/users/me/data"), spec) == []


def test_the_checker_itself_catches_mismatches() -> None:
    spec: dict[str, Any] = {"components": {"schemas": {}}}
    schema = {
        "type": "object",
        "required": ["a"],
        "properties": {"a": {"type": "integer"}, "b": {"type": "array", "items": {"type": "string"}}},
    }
    assert conforms({"a": 1, "b": ["x"]}, schema, spec) == []
    assert conforms({"a": True, "b": [1], "c": 0}, schema, spec) == [
        "$.c: not in the schema",
        "$.a: bool is not ['integer']",
        "$.b[0]: int is not ['string']",
    ]
    assert conforms({}, schema, spec) == ["$.a: missing"]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return api_document(jwt_auth=True)


def operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for item in spec["paths"].values() for op in item.values()}


OPERATION_IDS = {
    "getHealth": ("get", "/challenge/healthz"),
    "listChallenges": ("get", "/challenge/v1/challenges"),
    "getChallenge": ("get", "/challenge/v1/challenges/{challenge_id}"),
    "initializePlayer": ("post", "/challenge/v1/challenges/initialize"),
    "setGoalActive": ("put", "/challenge/v1/challenges/{challenge_id}/goals/{goal_id}/active"),
    "batchSelectGoals": ("post", "/challenge/v1/challenges/{challenge_id}/goals/batch-select"),
    "randomSelectGoals": ("post", "/challenge/v1/challenges/{challenge_id}/goals/random-select"),
    "getChallengeRotation": ("get", "/challenge/v1/challenges/{challenge_id}/rotation"),
    "claimGoal": ("post", "/challenge/v1/challenges/{challenge_id}/goals/{goal_id}/claim"),
    "getMyData": ("get", "/challenge/v1/users/me/data"),
    "deleteMyData": ("delete", "/challenge/v1/users/me/data"),
    "getPlayerState": ("get", "/challenge/v1/admin/users/{user_id}/challenges"),
    "setGoalProgress": ("put", "/challenge/v1/admin/users/{user_id}/goals/{goal_id}/progress"),
    "resetGoal": ("post", "/challenge/v1/admin/users/{user_id}/goals/{goal_id}/reset"),
    "listGrants": ("get", "/challenge/v1/admin/grants"),
    "resolveGrant": ("post", "/challenge/v1/admin/grants/{grant_id}/resolve"),
    "listAudit": ("get", "/challenge/v1/admin/audit"),
}
BODIES = {
    "initializePlayer",
    "setGoalActive",
    "batchSelectGoals",
    "randomSelectGoals",
    "setGoalProgress",
    "resetGoal",
    "resolveGrant",
}


def test_every_operation_has_a_readable_id_a_tag_and_a_summary(spec: dict[str, Any]) -> None:
    found = {
        op["operationId"]: (method, path)
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }
    assert found == OPERATION_IDS
    declared_tags = {tag["name"] for tag in spec["tags"]}
    for op in operations(spec).values():
        assert op["tags"] and set(op["tags"]) <= declared_tags, op["operationId"]
        assert op["summary"], op["operationId"]


@pytest.mark.parametrize(
    ("operation_id", "required", "keys"),
    [
        ("initializePlayer", False, {}),
        ("setGoalActive", True, {"isActive": "is_active"}),
        ("batchSelectGoals", True, {"goalIds": "goal_ids", "replaceExisting": "replace_existing"}),
        (
            "randomSelectGoals",
            True,
            {"count": "count", "replaceExisting": "replace_existing", "excludeActive": "exclude_active"},
        ),
        ("setGoalProgress", True, {"progress": "progress"}),
        ("resetGoal", False, {}),
        ("resolveGrant", True, {"as": "as"}),
    ],
)
def test_request_bodies_are_declared_in_camel_case_with_their_snake_case_spelling(
    spec: dict[str, Any], operation_id: str, required: bool, keys: dict[str, str]
) -> None:
    body = operations(spec)[operation_id]["requestBody"]
    schema = body["content"]["application/json"]["schema"]

    assert body["required"] is required
    assert set(schema["properties"]) == set(keys)
    for camel, snake in keys.items():
        if camel != snake:
            assert f"`{snake}`" in schema["properties"][camel]["description"], camel
    assert schema["examples"], operation_id


def test_routes_without_a_body_declare_none(spec: dict[str, Any]) -> None:
    for operation_id, op in operations(spec).items():
        assert ("requestBody" in op) == (operation_id in BODIES), operation_id


def error_codes(op: dict[str, Any], status: str) -> set[str]:
    media = op["responses"][status]["content"]["application/json"]
    return {example["value"]["errorCode"] for example in media["examples"].values()}


def test_every_error_response_has_the_error_schema_and_real_statuses(spec: dict[str, Any]) -> None:
    for operation_id, op in operations(spec).items():
        for status, response in op["responses"].items():
            if status.startswith("2") or operation_id == "getHealth":
                continue
            media = response["content"]["application/json"]
            # Litestar's own 400 body (`status_code`, `detail`, `extra`) must be gone everywhere.
            assert media["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, (operation_id, status)
            for example in media["examples"].values():
                code = ErrorCode(example["value"]["errorCode"])
                expected = 413 if status == "413" else WIRE[code][0]
                assert (int(status), example["value"]["code"]) == (expected, WIRE[code][1])
    body = spec["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"code", "errorCode", "message", "details"}
    assert set(spec["components"]["schemas"]["ErrorCode"]["enum"]) == {code.value for code in ErrorCode}


def test_the_claim_declares_every_refusal_in_its_order(spec: dict[str, Any]) -> None:
    claim = operations(spec)["claimGoal"]

    assert set(claim["responses"]) == {"200", "400", "401", "403", "404", "409", "502", "503"}
    assert error_codes(claim, "400") == {
        "INVALID_INPUT",
        "CHALLENGE_NOT_LIVE",
        "CHALLENGE_ENDED",
        "GOAL_NOT_ACTIVE",
        "GOAL_ROTATED",
        "GOAL_NOT_COMPLETED",
        "PREREQUISITES_NOT_MET",
    }
    assert error_codes(claim, "409") == {"GOAL_ALREADY_CLAIMED", "CLAIM_IN_PROGRESS", "GRANT_IN_DOUBT"}
    assert error_codes(claim, "502") == {"REWARD_GRANT_FAILED"}


@pytest.mark.parametrize(
    ("operation_id", "statuses"),
    [
        ("listChallenges", {"200", "400", "401", "403", "503"}),
        ("getChallengeRotation", {"200", "400", "401", "403", "404", "503"}),
        ("randomSelectGoals", {"200", "400", "401", "403", "404", "413", "503"}),
        ("getHealth", {"200", "503"}),
        ("getMyData", {"200", "400", "401", "403", "503"}),
        ("getPlayerState", {"200", "400", "401", "403", "503"}),
        ("setGoalProgress", {"200", "400", "401", "403", "404", "413", "503"}),
        ("listAudit", {"200", "400", "401", "403", "503"}),
    ],
)
def test_statuses_per_route(spec: dict[str, Any], operation_id: str, statuses: set[str]) -> None:
    assert set(operations(spec)[operation_id]["responses"]) == statuses


def test_resolving_a_grant_declares_its_refusals(spec: dict[str, Any]) -> None:
    resolve = operations(spec)["resolveGrant"]

    assert set(resolve["responses"]) == {"200", "400", "401", "403", "404", "409", "413", "503"}
    assert error_codes(resolve, "404") == {"GRANT_NOT_FOUND"}
    assert error_codes(resolve, "409") == {"GRANT_ALREADY_RESOLVED"}
    schema = resolve["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]["as"]["enum"]) == {"granted", "failed"}


def test_every_error_code_has_an_example_built_by_the_code_that_raises_it() -> None:
    assert set(SAMPLES) == set(ErrorCode)
    assert all(sample.code is code for code, sample in SAMPLES.items())


def test_jwt_mode_applies_the_bearer_scheme_to_every_route_but_health(spec: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    assert spec["security"] == [{"bearerAuth": []}]
    health = operations(spec)["getHealth"]
    assert health["security"] == [{}]
    assert all("security" not in op for op_id, op in operations(spec).items() if op_id != "getHealth")


def test_dev_mode_declares_the_mock_headers_instead() -> None:
    spec = api_document(jwt_auth=False)

    schemes = spec["components"]["securitySchemes"]
    assert {name: (s["type"], s["name"], s["in"]) for name, s in schemes.items()} == {
        "mockUser": ("apiKey", "X-Mock-User-Id", "header"),
        "mockAdmin": ("apiKey", "X-Mock-Admin", "header"),
    }
    assert spec["security"] == [{"mockUser": []}, {}]  # optional: the default player without it
    # The operator routes need the admin header too; the player routes do not.
    for operation_id, op in operations(spec).items():
        admin = [{"mockUser": [], "mockAdmin": []}, {"mockAdmin": []}]
        expected = admin if "Admin" in op["tags"] else None
        if operation_id != "getHealth":
            assert op.get("security") == expected, operation_id

"""The OpenAPI schema Litestar generates is served under BASE_PATH and describes the real responses."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.helpers.service import RunningService

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
    swagger = await running.http.get("/challenge/openapi/swagger")
    assert swagger.status_code == 200
    assert "swagger" in swagger.text.lower()


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

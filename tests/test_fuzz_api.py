"""Property-based fuzzing of the REST API: its OpenAPI document holds for every answer, and no input
produces a 5xx.

Two fuzzers run against the whole service started in this process (`running`):

- **schemathesis** loads the service's own OpenAPI document and generates requests for every operation,
  bodies included (positive and negative data, generated and real catalog ids). Every response, of any
  status, must be documented: its status, its content type and its body's schema (the error responses
  declare the `{code, errorCode, message, details}` shape). Negative data must be refused with a 4xx, and
  no response may be a 5xx.
- **hypothesis** POSTs/PUTs random bytes and JSON values with random content types to every route that
  reads a body: what a schema-driven generator never sends (not JSON, numbers as strings, keys in either
  spelling).

Both run in a worker thread with blocking clients while the server keeps serving on the test's event
loop. Examples are bounded and derandomized so CI sees the same cases on every run.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers.service import RunningService, operator

# An operator too, so the admin routes are fuzzed past their permission check (player routes ignore it).
USER = operator("fuzz-user")
ERROR_KEYS = {"code", "errorCode", "message", "details"}
# What our error handler may answer for bad input; 5xx (including 502/503) is a failure here.
CLIENT_ERRORS = {400, 404, 405, 409, 413}
MAX_EXAMPLES = 60  # per operation and generation mode
BODY_EXAMPLES = 60  # per body-reading route
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
# Real catalog ids, so generated requests also reach the code behind the not-found checks.
REAL_IDS = {"challenge_id": "daily-challenges", "goal_id": "daily-10-kills", "user_id": "fuzz-user"}
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def assert_error_body(status: int, content_type: str, body: bytes, request: str) -> None:
    assert status in CLIENT_ERRORS, f"{request} -> undocumented status {status}: {body!r}"
    assert content_type.startswith("application/json"), f"{request} -> {status} {content_type}: {body!r}"
    payload = json.loads(body)
    assert isinstance(payload, dict), f"{request} -> {status}: {body!r}"
    assert set(payload) == ERROR_KEYS, f"{request} -> {status}: {body!r}"


def run_cases(strategy: st.SearchStrategy[Any], base_url: str, *, negative: bool) -> None:
    checks = [*CONFORMANCE, negative_data_rejection] if negative else CONFORMANCE

    @FUZZ_SETTINGS
    @given(case=strategy)
    def run(case: Any) -> None:
        # Our header values replace the generated ones, so requests get past the permission check; but a
        # header that negative data left out on purpose (the operator routes declare X-Mock-Admin) stays
        # out, and the service must refuse the request.
        left_out = negative and case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
        headers = {name: value for name, value in USER.items() if not left_out or name in case.headers}
        response = case.call(base_url=base_url, headers=headers, timeout=10)
        case.validate_response(response, checks=checks)

    run()


def fuzz_schema(base_url: str) -> list[str]:
    """Run every operation of the served schema; returns the labels of the operations fuzzed."""
    schema = schemathesis.openapi.from_url(f"{base_url}/challenge/openapi/openapi.json", timeout=10)
    fuzzed = []
    for result in schema.get_all_operations():
        operation = result.ok()
        path_names = {p.name for p in operation.path_parameters}
        real = {name: value for name, value in REAL_IDS.items() if name in path_names}
        run_cases(operation.as_strategy(generation_mode=GenerationMode.POSITIVE), base_url, negative=False)
        # A plain string path parameter has no negation (every path segment is a string): negate the
        # query and the body.
        if len(operation.query) or operation.body:
            strategy = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
            run_cases(strategy, base_url, negative=True)
        if real:
            strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=real)
            run_cases(strategy, base_url, negative=False)
        fuzzed.append(operation.label)
    return fuzzed


async def test_schemathesis_every_operation(running: RunningService) -> None:
    base_url = f"http://127.0.0.1:{running.settings.http_port}"
    fuzzed = await asyncio.to_thread(fuzz_schema, base_url)
    assert len(fuzzed) >= 10, fuzzed
    assert "POST /challenge/v1/challenges/{challenge_id}/goals/{goal_id}/claim" in fuzzed


# --- bodies: raw bytes and loose JSON, beyond what the schema describes -------------------------------

_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=120)
)
json_values = st.recursive(
    _json_scalars,
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=20), children, max_size=6)
    ),
    max_leaves=20,
)
_fields = (
    "goal_ids", "goalIds", "count", "is_active", "isActive", "replace_existing", "exclude_active",
    "progress", "as",
)  # fmt: skip
_ids = st.sampled_from(
    ["daily-10-kills", "daily-login", "daily-login-twice", "career-100-wins", "x" * 101, "a\x00b"]
)
# Objects with the keys the routes read, so values reach the typed getters and the database writes.
shaped_objects = st.dictionaries(
    st.sampled_from(_fields),
    st.booleans()
    | st.integers(min_value=-3, max_value=5)
    | st.integers()
    | st.lists(_ids, min_size=1, max_size=3)
    | json_values,
    max_size=4,
)
# Well-typed enough to pass validation now and then, so the writes and 2xx answers are fuzzed too.
nearly_valid = st.fixed_dictionaries(
    {
        "goal_ids": st.lists(_ids, min_size=1, max_size=3),
        "count": st.integers(min_value=-1, max_value=6) | st.integers(),
        "is_active": st.booleans(),
        "progress": st.integers(min_value=-1, max_value=200) | st.integers(),
        "as": st.sampled_from(["granted", "failed", "GRANTED", ""]),
    },
    optional={"replace_existing": st.booleans() | json_values, "exclude_active": st.booleans()},
)
specials = st.sampled_from(
    [b"NaN", b'{"count": Infinity}', b'{"count": 1e400}', b'{"count": -0.0}', b"\xff\xfe"]
)
raw_bodies = st.one_of(
    nearly_valid.map(lambda v: json.dumps(v).encode()),
    shaped_objects.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    specials,
)
content_types = st.sampled_from(["application/json", "text/plain", "application/octet-stream", ""])

BODY_ROUTES = [
    ("POST", "/challenge/v1/challenges/initialize"),
    ("PUT", "/challenge/v1/challenges/daily-challenges/goals/daily-10-kills/active"),
    ("POST", "/challenge/v1/challenges/daily-challenges/goals/batch-select"),
    ("POST", "/challenge/v1/challenges/daily-challenges/goals/random-select"),
    ("POST", "/challenge/v1/challenges/onboarding/goals/first-login/claim"),
    ("PUT", "/challenge/v1/admin/users/fuzz-user/goals/daily-10-kills/progress"),
    ("POST", "/challenge/v1/admin/users/fuzz-user/goals/daily-10-kills/reset"),
    ("POST", f"/challenge/v1/admin/grants/{'0' * 32}/resolve"),
]


def fuzz_bodies(base_url: str, method: str, path: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:

        @settings(FUZZ_SETTINGS, max_examples=BODY_EXAMPLES)
        @given(body=raw_bodies, content_type=content_types)
        def run(body: bytes, content_type: str) -> None:
            headers = {**USER, "Content-Type": content_type} if content_type else USER
            response = client.request(method, path, content=body, headers=headers)
            request = f"{method} {path} {content_type or '-'} {body!r}"
            assert response.status_code < 500, f"{request} -> {response.status_code}: {response.text}"
            if response.status_code >= 400:
                assert_error_body(
                    response.status_code, response.headers.get("content-type", ""), response.content, request
                )

        run()


@pytest.mark.parametrize(
    ("method", "path"),
    BODY_ROUTES,
    ids=[f"{p.rsplit('/', 2)[1]}-{p.rsplit('/', 1)[1]}" for _, p in BODY_ROUTES],
)
async def test_random_bodies(running: RunningService, method: str, path: str) -> None:
    base_url = f"http://127.0.0.1:{running.settings.http_port}"
    await asyncio.to_thread(fuzz_bodies, base_url, method, path)

"""Request bodies: snake_case or camelCase, unknown keys ignored, strict types, bounded sizes."""

from __future__ import annotations

import pytest

from tests.helpers.api import assert_error
from tests.helpers.db import db_rows
from tests.helpers.service import RunningService, user

BATCH = "/challenge/v1/challenges/career/goals/batch-select"
RANDOM = "/challenge/v1/challenges/career/goals/random-select"
JSON = {"Content-Type": "application/json"}


async def _post(running: RunningService, path: str, body: bytes) -> tuple[int, dict[str, object]]:
    response = await running.http.post(path, content=body, headers={**user("u1"), **JSON})
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{nope", None),
        (b'{"goal_ids": ["career-500-matches"]', None),
        (b"[]", "request body must be a JSON object"),
        (b'"career-500-matches"', "request body must be a JSON object"),
        (b"42", "request body must be a JSON object"),
        (b"", "goal_ids is required and must be a non-empty list of ids"),
        (b"null", "goal_ids is required and must be a non-empty list of ids"),
        (b"{}", "goal_ids is required and must be a non-empty list of ids"),
        (b'{"goal_ids": []}', "goal_ids must not be empty"),
        (b'{"goal_ids": "career-500-matches"}', "goal_ids must be a list of ids"),
        (b'{"goal_ids": [1, 2]}', "goal_ids must be a list of strings"),
        (b'{"goal_ids": [null]}', "goal_ids must be a list of strings"),
        (b'{"goal_ids": [""]}', "goal_ids: each id must be 1..100 printable characters"),
        (b'{"goal_ids": ["' + b"x" * 101 + b'"]}', "goal_ids: each id must be 1..100 printable characters"),
        (b'{"goal_ids": ["career\\u0000kills"]}', "goal_ids: each id must be 1..100 printable characters"),
        (b'{"goal_ids": ["career\\nkills"]}', "goal_ids: each id must be 1..100 printable characters"),
        (
            b'{"goal_ids": [' + b",".join(b'"g%d"' % i for i in range(101)) + b"]}",
            "goal_ids holds 101 ids; at most 100 are allowed",
        ),
        (
            b'{"goal_ids": ["career-500-matches"], "replace_existing": 1}',
            "replace_existing must be a boolean",
        ),
        (
            b'{"goal_ids": ["career-500-matches"], "replaceExisting": "yes"}',
            "replace_existing must be a boolean",
        ),
    ],
)
async def test_batch_select_rejects_bad_bodies(
    running: RunningService, body: bytes, message: str | None
) -> None:
    status, payload = await _post(running, BATCH, body)
    assert status == 400
    assert (payload["code"], payload["errorCode"], payload["details"]) == (3, "INVALID_INPUT", [])
    if message is not None:
        assert payload["message"] == message
    else:
        assert str(payload["message"]).startswith("request body is not valid JSON")
    assert await db_rows(running.settings.database_url, "u1") == {}


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b'{"count": 0}',
        b'{"count": -3}',
        b'{"count": "5"}',
        b'{"count": 5.0}',
        b'{"count": 2.5}',
        b'{"count": true}',
        b'{"count": null}',
        b'{"count": [5]}',
        b'{"count": 123456789012345678901234567890}',
        b'{"count": 2147483648}',
        b'{"count": 1, "exclude_active": "true"}',
        b'{"count": 1, "excludeActive": 0}',
    ],
)
async def test_random_select_rejects_bad_bodies(running: RunningService, body: bytes) -> None:
    status, payload = await _post(running, RANDOM, body)
    assert status == 400
    assert (payload["code"], payload["errorCode"]) == (3, "INVALID_INPUT")
    assert "count" in str(payload["message"]) or "exclude_active" in str(payload["message"])


async def test_camel_case_unknown_keys_and_duplicates(running: RunningService) -> None:
    status, payload = await _post(
        running,
        BATCH,
        b'{"goalIds": ["career-500-matches", "career-500-matches"], "replaceExisting": false,'
        b' "extra": {"a": 1}}',
    )
    assert status == 200
    selected = payload["selectedGoals"]
    assert isinstance(selected, list)
    assert [g["goalId"] for g in selected] == ["career-500-matches"]


async def test_snake_case_wins_when_both_spellings_are_sent(running: RunningService) -> None:
    status, payload = await _post(
        running, BATCH, b'{"goal_ids": ["career-500-matches"], "goalIds": ["career-500-headshots"]}'
    )
    assert status == 200
    selected = payload["selectedGoals"]
    assert isinstance(selected, list)
    assert [g["goalId"] for g in selected] == ["career-500-matches"]


async def test_largest_allowed_count_is_accepted(running: RunningService) -> None:
    status, payload = await _post(running, RANDOM, b'{"count": 2147483647}')
    assert status == 200
    assert payload["totalActiveGoals"] == 2  # the two career goals without prerequisites


async def test_oversized_body_is_refused(running: RunningService) -> None:
    big = b'{"goal_ids": ["career-500-matches"], "pad": "' + b"x" * (70 * 1024) + b'"}'
    response = await running.http.post(BATCH, content=big, headers={**user("u1"), **JSON})
    # Litestar's request_max_body_size: a clear 413, in our error shape (api/errors.py).
    assert_error(response, 413, 3, "INVALID_INPUT", "request body too large")
    assert await db_rows(running.settings.database_url, "u1") == {}

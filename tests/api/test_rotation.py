"""GET /v1/challenges/{cid}/rotation: global UTC periods, day / Monday week / month."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.helpers.api import assert_error
from tests.helpers.service import RunningService, set_clock


def url(challenge_id: str) -> str:
    return f"/challenge/v1/challenges/{challenge_id}/rotation"


@pytest.mark.parametrize(
    ("challenge_id", "now", "schedule", "current", "following"),
    [
        (
            "daily-challenges",
            datetime(2025, 3, 12, 23, 59, 59, tzinfo=UTC),
            "daily",
            ("2025-03-12T00:00:00Z", "2025-03-13T00:00:00Z", 1),
            ("2025-03-13T00:00:00Z", "2025-03-14T00:00:00Z", 86401),
        ),
        (
            "daily-challenges",
            datetime(2025, 3, 13, 0, 0, 0, tzinfo=UTC),
            "daily",
            ("2025-03-13T00:00:00Z", "2025-03-14T00:00:00Z", 86400),
            ("2025-03-14T00:00:00Z", "2025-03-15T00:00:00Z", 172800),
        ),
        (
            # Sunday evening is still the week that started on Monday the 10th.
            "weekly-challenges",
            datetime(2025, 3, 16, 23, 0, 0, tzinfo=UTC),
            "weekly",
            ("2025-03-10T00:00:00Z", "2025-03-17T00:00:00Z", 3600),
            ("2025-03-17T00:00:00Z", "2025-03-24T00:00:00Z", 3600 + 7 * 86400),
        ),
        (
            # Across a year end.
            "monthly-challenges",
            datetime(2025, 12, 31, 12, 0, 0, tzinfo=UTC),
            "monthly",
            ("2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z", 12 * 3600),
            ("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", 12 * 3600 + 31 * 86400),
        ),
        (
            # February of a leap year.
            "monthly-challenges",
            datetime(2028, 2, 1, 0, 0, 0, tzinfo=UTC),
            "monthly",
            ("2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z", 29 * 86400),
            ("2028-03-01T00:00:00Z", "2028-04-01T00:00:00Z", 60 * 86400),
        ),
    ],
)
async def test_rotation_periods(
    running: RunningService,
    challenge_id: str,
    now: datetime,
    schedule: str,
    current: tuple[str, str, int],
    following: tuple[str, str, int],
) -> None:
    set_clock(running, now)
    response = await running.http.get(url(challenge_id), headers={"X-Mock-User-Id": "u1"})
    assert response.status_code == 200
    assert response.json() == {
        "challengeId": challenge_id,
        "rotation": {
            "enabled": True,
            "type": "global",
            "schedule": schedule,
            "resetTime": "00:00",
            "timezone": "UTC",
            "weekStart": "monday" if schedule == "weekly" else "",
            "duration": "",
            "currentPeriod": dict(zip(("startTime", "endTime", "expiresInSeconds"), current, strict=True)),
            "nextPeriod": dict(zip(("startTime", "endTime", "expiresInSeconds"), following, strict=True)),
        },
    }


async def test_challenge_without_rotation(running: RunningService) -> None:
    response = await running.http.get(url("career"))
    assert response.status_code == 200
    assert response.json() == {
        "challengeId": "career",
        "rotation": {
            "enabled": False,
            "type": "",
            "schedule": "",
            "resetTime": "",
            "timezone": "",
            "weekStart": "",
            "duration": "",
            "currentPeriod": None,
            "nextPeriod": None,
        },
    }


async def test_unknown_challenge_is_404(running: RunningService) -> None:
    response = await running.http.get(url("nope"))
    assert_error(response, 404, 5, "CHALLENGE_NOT_FOUND", "challenge not found: nope")

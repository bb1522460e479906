"""Pure claim rules (`claims/rules.py`): the order of the checks and the ledger period; no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from challenge_service.catalog import Catalog, Goal, load_catalog
from challenge_service.claims.rules import claim_period, refusal
from challenge_service.errors import ErrorCode
from challenge_service.rules.periods import Schedule
from challenge_service.rules.progress import Progress
from tests.helpers.catalog import make_rotation, per_user_rotation
from tests.helpers.service import REPO

NOW = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)  # a Wednesday
COMPLETED = Progress(progress=1, status="completed", is_active=True, completed_at=NOW - timedelta(hours=1))


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(REPO / "challenges.json")


def goal(catalog: Catalog, goal_id: str) -> Goal:
    found = catalog.goal(goal_id)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("row", "expected", "message"),
    [
        (None, ErrorCode.GOAL_NOT_COMPLETED, "goal is not completed (status: not_started): first-login"),
        # Inactive wins over everything after it, even a claimed row.
        (replace(COMPLETED, is_active=False, status="claimed"), ErrorCode.GOAL_NOT_ACTIVE, None),
        (replace(COMPLETED, status="claimed"), ErrorCode.GOAL_ALREADY_CLAIMED, None),
        (replace(COMPLETED, status="in_progress"), ErrorCode.GOAL_NOT_COMPLETED, None),
    ],
)
def test_row_checks_come_in_order(
    catalog: Catalog, row: Progress | None, expected: ErrorCode, message: str | None
) -> None:
    refused = refusal(goal(catalog, "first-login"), row, {}, catalog, NOW)

    assert refused is not None and refused.code == expected
    if message is not None:
        assert refused.message == message


def test_a_rotated_row_is_refused_before_its_status_is_looked_at(catalog: Catalog) -> None:
    rotated = replace(COMPLETED, status="claimed", expires_at=NOW)  # its period ended at NOW

    refused = refusal(goal(catalog, "daily-login"), rotated, {}, catalog, NOW)

    assert refused is not None and refused.code == ErrorCode.GOAL_ROTATED


def test_prerequisites_are_checked_last_and_listed(catalog: Catalog) -> None:
    first_match = goal(catalog, "first-match")  # needs complete-tutorial
    not_done = {"complete-tutorial": replace(COMPLETED, status="in_progress")}

    refused = refusal(first_match, COMPLETED, not_done, catalog, NOW)

    assert refused is not None and refused.code == ErrorCode.PREREQUISITES_NOT_MET
    assert refused.message == "prerequisites not met for goal first-match: complete-tutorial"
    assert refusal(first_match, COMPLETED, {"complete-tutorial": COMPLETED}, catalog, NOW) is None


@pytest.mark.parametrize(
    ("schedule", "expires_at", "period"),
    [
        (None, None, ""),
        (None, datetime(2025, 3, 13, tzinfo=UTC), ""),
        ("daily", None, ""),
        ("daily", datetime(2025, 3, 13, tzinfo=UTC), "2025-03-12T00:00:00Z"),
        ("weekly", datetime(2025, 3, 17, tzinfo=UTC), "2025-03-10T00:00:00Z"),
        ("monthly", datetime(2025, 1, 1, tzinfo=UTC), "2024-12-01T00:00:00Z"),
    ],
)
def test_the_claim_period_is_the_start_of_the_period_the_row_expires_at_the_end_of(
    schedule: Schedule | None, expires_at: datetime | None, period: str
) -> None:
    assert claim_period(make_rotation(schedule) if schedule else None, expires_at) == period


def test_a_per_user_period_is_named_by_its_start_duration_before_its_end() -> None:
    rotation = per_user_rotation("36h")
    assert claim_period(rotation, datetime(2025, 3, 13, 12, tzinfo=UTC)) == "2025-03-12T00:00:00Z"
    assert claim_period(rotation, None) == ""


def test_a_zoned_period_is_named_by_its_start_in_utc() -> None:
    # 04:00 in Tokyo (UTC+9) is 19:00 UTC the day before.
    rotation = make_rotation("daily", reset_time="04:00", timezone="Asia/Tokyo")
    assert claim_period(rotation, datetime(2025, 3, 12, 19, tzinfo=UTC)) == "2025-03-11T19:00:00Z"

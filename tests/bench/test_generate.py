"""The bench's data: seed rows expire when the service's own rotation rules say, and the k6 scripts
read the numbers the pool and user counts were sized from."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import generate
from challenge_service.rules.periods import period_end

REPO = Path(__file__).resolve().parents[2]
# A Sunday late in December: the daily, weekly and monthly periods all end within the hour.
NOW = datetime(2026, 12, 27, 23, 30, tzinfo=UTC)


def write(tmp_path: Path, **plan: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "scenarios": ("api",),
        "duration_s": 60,
        "vus": 150,
        "request_rate": 1000,
        "event_rate": 500,
    }
    settings.update(plan)
    generate.generate(tmp_path, generate.Plan(**settings), REPO / "challenges.json", NOW)
    data: dict[str, Any] = json.loads((tmp_path / "data.json").read_text())
    return data


def test_rotating_seed_rows_expire_at_the_end_of_their_period(tmp_path: Path) -> None:
    write(tmp_path)
    catalog = json.loads((tmp_path / "challenges.json").read_text())
    schedules = {
        g["goalId"]: g["rotation"]["schedule"]
        for c in catalog["challenges"]
        for g in c["goals"]
        if (g.get("rotation") or {}).get("enabled") and "schedule" in g["rotation"]
    }
    columns = [c.strip() for c in generate.SEED_COLUMNS.split(",")]
    with (tmp_path / "seed.csv").open() as f:
        rows = [dict(zip(columns, row, strict=True)) for row in csv.reader(f)]
    rotating = [r for r in rows if r["goal_id"] in schedules]
    assert rotating, "the seeded goals include rotating ones"
    for row in rotating:
        expected = period_end(schedules[row["goal_id"]], NOW)
        assert datetime.fromisoformat(row["expires_at"]) == expected, row["goal_id"]
    assert all(r["expires_at"] == "" for r in rows if r["goal_id"] not in schedules)


def test_the_session_profile_travels_to_k6_with_the_numbers_the_pool_was_sized_from(tmp_path: Path) -> None:
    data = write(tmp_path, scenarios=("sessions",), duration_s=600)
    session = data["session"]
    assert session["thinkS"] == {k: [list(r) for r in v] for k, v in generate.THINK_S.items()}
    assert (session["randomSelectShare"], session["randomSelectCount"]) == (0.6, 5)
    assert generate.MEAN_SESSION_S == 26.0
    # 600 s ≈ 24 sessions → 5 × 0.6 × 25 + 3 = 78 goals per user, × 1.3 margin.
    assert len(data["poolGoalIds"]) == generate.pool_size(600) == 102
    script = (REPO / "bench" / "k6" / "sessions.js").read_text()
    assert set(re.findall(r"think\('(\w+)'\)", script)) == set(generate.THINK_S)


@pytest.mark.parametrize("share", [0.2, 0.5])
def test_the_claim_share_sizes_the_users_and_reaches_k6(tmp_path: Path, share: float) -> None:
    data = write(tmp_path, scenarios=("api",), duration_s=60, claim_share=share)
    assert data["claimShare"] == share
    # Each user has 5 claimable goals; the claims of the run must not reuse one (20 % margin).
    claims = 1000 * share * 60
    assert len(data["apiUsers"]) * len(data["claimSlots"]) >= claims
    assert len(data["apiUsers"]) == pytest.approx(claims * 1.2 / 5, abs=1)

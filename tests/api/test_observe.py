from __future__ import annotations

from structlog.testing import capture_logs

from tests.helpers.service import RunningService


async def test_one_line_per_request_with_route_status_duration_and_user(running: RunningService) -> None:
    with capture_logs() as logs:
        await running.http.get("/challenge/v1/challenges/onboarding", headers={"X-Mock-User-Id": "u-42"})
        await running.http.get("/challenge/v1/nowhere")
    lines = [entry for entry in logs if entry["event"] == "request"]
    assert len(lines) == 2
    found, missing = lines
    assert found["route"] == "/challenge/v1/challenges/{challenge_id}"
    assert (found["method"], found["status"], found["user_id"]) == ("GET", 200, "u-42")
    assert found["duration_ms"] > 0
    assert (missing["route"], missing["status"], missing["user_id"]) == ("/challenge/v1/nowhere", 404, "")

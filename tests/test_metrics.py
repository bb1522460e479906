from __future__ import annotations

import httpx
import psycopg
from prometheus_client.parser import text_string_to_metric_families

from challenge_service.app import Service
from challenge_service.rewards import MockRewardClient, RewardGrantError
from tests.helpers.service import RunningService, free_port, make_settings


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_on_the_http_port_move_with_requests(running: RunningService) -> None:
    key = (
        "challenge_http_requests_total",
        (("method", "GET"), ("route", "/challenge/v1/challenges"), ("status", "200")),
    )
    before = _samples((await running.http.get("/metrics")).text).get(key, 0.0)
    for _ in range(3):
        assert (await running.http.get("/challenge/v1/challenges")).status_code == 200
    response = await running.http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    after = _samples(response.text)
    assert after[key] == before + 3
    names = {name for name, _ in after}
    for expected in (
        "challenge_http_request_duration_seconds_bucket",
        "challenge_db_pool_size",
        "challenge_db_requests_waiting",
        "challenge_buffer_entries",
        "challenge_flush_duration_seconds_count",
        "challenge_reward_grants_total",
        "challenge_catalog_reloads_total",
    ):
        assert any(name.startswith(expected.removesuffix("_total")) for name in names), expected
    assert after[("challenge_db_pool_size", ())] >= 1


async def test_reward_grants_count_each_outcome(running: RunningService) -> None:
    assert running.service.services is not None
    rewards = running.service.services.rewards
    assert isinstance(rewards, MockRewardClient)
    users = {"granted": "m-granted", "failed": "m-failed", "in_doubt": "m-in-doubt"}
    async with await psycopg.AsyncConnection.connect(running.settings.database_url, autocommit=True) as conn:
        for user in users.values():
            await conn.execute(
                """INSERT INTO user_goal_progress (user_id, goal_id, challenge_id, progress, status,
                       is_active, completed_at) VALUES (%s, 'first-login', 'onboarding', 1, 'completed', true,
                       now())""",
                (user,),
            )

    async def counts() -> dict[str, float]:
        samples = _samples((await running.http.get("/metrics")).text)
        return {
            outcome: samples[("challenge_reward_grants_total", (("outcome", outcome),))] for outcome in users
        }

    before = await counts()
    failures = {
        "failed": RewardGrantError("AGS refused", retryable=False, status=400),
        "in_doubt": RewardGrantError("timed out", retryable=True, in_doubt=True),
    }
    for outcome, user in users.items():
        if outcome in failures:
            rewards.fail_next(failures[outcome])
        response = await running.http.post(
            "/challenge/v1/challenges/onboarding/goals/first-login/claim", headers={"X-Mock-User-Id": user}
        )
        assert response.status_code == (200 if outcome == "granted" else 502)
        after = await counts()
        assert {name: after[name] - before[name] for name in users} == {
            name: 1.0 if name == outcome else 0.0 for name in users
        }
        before = after


async def test_metrics_on_their_own_port(database_url: str) -> None:
    settings = make_settings(database_url, metrics_port=free_port())
    service = Service(settings, host="127.0.0.1")
    await service.start()
    try:
        async with httpx.AsyncClient() as http:
            metrics = await http.get(f"http://127.0.0.1:{settings.metrics_port}/metrics")
            assert metrics.status_code == 200
            assert "challenge_http_requests_total" in metrics.text
            elsewhere = await http.get(f"http://127.0.0.1:{settings.metrics_port}/challenge/healthz")
            assert elsewhere.status_code == 404
            # With a metrics port, the API port does not serve /metrics.
            api = await http.get(f"http://127.0.0.1:{settings.http_port}/metrics")
            assert api.status_code == 404
    finally:
        await service.stop()


async def test_two_services_in_one_process_share_the_registry(
    running: RunningService, database_url: str
) -> None:
    second = Service(make_settings(database_url), host="127.0.0.1")
    await second.start()
    try:
        text = (await running.http.get("/metrics")).text
        assert _samples(text)[("challenge_db_pool_size", ())] >= 2
    finally:
        await second.stop()
    await second.stop()  # stopping twice is harmless

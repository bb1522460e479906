"""PostgreSQL stops while events and API calls keep coming, then starts again.

Events must get OK only when they are (or will be) applied — never a false OK; the API answers 503
DATABASE_UNAVAILABLE with Retry-After; health goes 503 and back; everything recovers without a
restart; every acknowledged event is in the table afterwards.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import psycopg
import pytest
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from challenge_service.store.embedded import EmbeddedPostgres
from tests.helpers.db import seed
from tests.helpers.events import StartService
from tests.helpers.waiting import eventually

USERS = [f"outage-{i}" for i in range(8)]


@pytest.mark.slow
async def test_outage_under_event_and_api_load_recovers_and_loses_nothing(
    start_service: StartService,
    own_database: tuple[EmbeddedPostgres, str],
) -> None:
    server, url = own_database
    svc = await start_service(url)
    for user in USERS:
        await seed(url, user, "first-login")
    base = f"http://127.0.0.1:{svc.service.settings.http_port}/challenge"
    acked: list[str] = []
    event_statuses: Counter[str] = Counter()
    api_answers: Counter[tuple[int, str]] = Counter()
    health_answers: Counter[int] = Counter()
    stop = asyncio.Event()

    async def send_events(worker: int) -> None:
        n = 0
        while not stop.is_set():
            user = USERS[(worker + n) % len(USERS)]
            event_id = f"{user}:{worker}:{n}"
            n += 1
            try:
                await svc.client.login(user, event_id=event_id)
            except GRPCError as error:
                event_statuses[error.status.name] += 1
                assert error.status in (Status.UNAVAILABLE, Status.RESOURCE_EXHAUSTED), error
                await asyncio.sleep(0.05)  # a client's back-off: part of the load, not a wait
            else:
                event_statuses["OK"] += 1
                acked.append(event_id)

    async def call_api(http: httpx.AsyncClient) -> None:
        while not stop.is_set():
            response = await http.get(f"{base}/v1/challenges", headers={"X-Mock-User-Id": USERS[0]})
            code = response.json().get("errorCode", "") if response.status_code != 200 else ""
            if response.status_code == 503:
                assert response.headers["retry-after"] == "1"
            api_answers[(response.status_code, code)] += 1
            health_answers[(await http.get(f"{base}/healthz")).status_code] += 1
            await asyncio.sleep(0.02)  # the API load's pace, not a wait

    async with httpx.AsyncClient(timeout=10) as http:
        load = [asyncio.create_task(send_events(w)) for w in range(4)]
        load.append(asyncio.create_task(call_api(http)))
        await eventually(lambda: len(acked) >= 20 and health_answers[200] > 0, 10)  # the load is flowing
        acked_before_outage = len(acked)
        await asyncio.to_thread(server.stop)
        await asyncio.sleep(4.0)  # the outage itself: its length is the scenario, not a wait
        await asyncio.to_thread(server.start)

        async def recovered() -> bool:
            # Without a restart: health answers 200 again and new events are acknowledged.
            healthy = (await http.get(f"{base}/healthz")).status_code == 200
            return healthy and len(acked) > acked_before_outage + 20

        await eventually(recovered, 30, interval_s=0.2)
        acked_after_recovery = len(acked)
        await eventually(lambda: len(acked) > acked_after_recovery + 20, 10)  # and keep being acknowledged
        stop.set()
        await asyncio.gather(*load)
        assert (await http.get(f"{base}/healthz")).status_code == 200
        assert (
            await http.get(f"{base}/v1/challenges", headers={"X-Mock-User-Id": USERS[0]})
        ).status_code == 200

    # The outage was seen: health went 503, the API answered the stable 503, events were refused or waited.
    assert health_answers[503] > 0 and health_answers[200] > 0, health_answers
    assert set(api_answers) <= {(200, ""), (503, "DATABASE_UNAVAILABLE")}, api_answers
    assert api_answers[(503, "DATABASE_UNAVAILABLE")] > 0, api_answers
    assert event_statuses["OK"] > acked_before_outage, event_statuses

    # Nothing acknowledged is lost, nothing is applied twice.
    await svc.stop()  # flushes what is still buffered
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cursor = await conn.execute(
            "SELECT user_id, progress FROM user_goal_progress WHERE goal_id = 'first-login'"
        )
        progress = dict(await cursor.fetchall())
        cursor = await conn.execute("SELECT event_id FROM processed_events")
        recorded = {row[0] for row in await cursor.fetchall()}
    assert set(acked) <= recorded
    per_user = Counter(event_id.split(":")[0] for event_id in recorded)
    assert {user: progress[user] for user in USERS} == {user: per_user[user] for user in USERS}

"""The batch call `challenge.events.v1.EventIngest/Publish` over a real channel and the real database:
each event answered exactly as the unary AGS call answers it, whole-call limits, deduplication within
and across calls (and across the two paths), back-pressure part-way through a call, a database outage,
shutdown, buffered mode."""

from __future__ import annotations

import asyncio
import math
import time

import psycopg
import pytest
from grpclib.client import Channel
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from challenge_service.events.handlers import ACK_TIMEOUT_S, MAX_BATCH_EVENTS
from challenge_service.events.proto.challenge.events.v1 import events_pb2
from challenge_service.store.embedded import EmbeddedPostgres
from tests.helpers.db import progress, row, seed
from tests.helpers.events import NAMESPACE, EventClient, StartService, login_event, stat_event
from tests.helpers.waiting import eventually

OK, INVALID, EXHAUSTED, UNAVAILABLE = 0, 3, 8, 14


async def _unary_outcome(client: EventClient, event: events_pb2.Event) -> tuple[int, str]:
    """What the AGS unary call answers for the same event."""
    namespace = event.namespace or NAMESPACE
    try:
        if event.WhichOneof("kind") == "stat":
            stat = event.stat
            await client.stat(
                event.user_id,
                stat.stat_code,
                stat.latest_value,
                stat.inc,
                event_id=event.id,
                namespace=namespace,
            )
        else:
            await client.login(event.user_id, event_id=event.id, namespace=namespace)
    except GRPCError as error:
        return error.status.value, error.message or ""
    return OK, ""


# Events whose outcome does not depend on what happened before: malformed ones, ignored ones, and
# valid ones for players with no row (nothing moves, so sending one twice changes nothing).
SAME_AS_UNARY = {
    "login": login_event("nobody-1"),
    "stat": stat_event("nobody-1", "enemy_kills", 5, 1),
    "empty user": login_event(""),
    "empty stat code": stat_event("nobody-1", "", 1),
    "negative value": stat_event("nobody-1", "enemy_kills", -1),
    "negative inc": stat_event("nobody-1", "enemy_kills", 1, -0.5),
    "NaN": stat_event("nobody-1", "enemy_kills", math.nan),
    "infinite": stat_event("nobody-1", "enemy_kills", math.inf),
    "2^63": stat_event("nobody-1", "enemy_kills", 2.0**63),
    "long user id": login_event("u" * 101),
    "control character in user id": login_event("u1\n"),
    "long event id": login_event("nobody-1", event_id="e" * 101),
    "control character in event id": login_event("nobody-1", event_id="bad\x00id"),
    "the flush's id separator in event id": login_event("nobody-1", event_id="a\x1fb"),
    "other namespace": login_event("nobody-1", namespace="another-game"),
    "no matching goal": stat_event("nobody-1", "no_such_stat", 3),
}


async def test_each_event_is_answered_as_the_unary_call_answers_it(start_service: StartService) -> None:
    svc = await start_service()
    batch = await svc.client.publish(*SAME_AS_UNARY.values())
    unary = [await _unary_outcome(svc.client, event) for event in SAME_AS_UNARY.values()]
    assert dict(zip(SAME_AS_UNARY, batch, strict=True)) == dict(zip(SAME_AS_UNARY, unary, strict=True))
    codes = {name: code for name, (code, _) in zip(SAME_AS_UNARY, batch, strict=True)}
    assert {name for name, code in codes.items() if code == OK} == {
        "login",
        "stat",
        "other namespace",
        "no matching goal",
    }
    assert all(message for code, message in batch if code != OK)


async def test_a_missing_kind_is_invalid(start_service: StartService) -> None:
    svc = await start_service()
    assert await svc.client.publish(events_pb2.Event(user_id="u1")) == [
        (INVALID, "login or stat is required")
    ]


async def test_a_mixed_batch_applies_the_valid_events_before_answering(start_service: StartService) -> None:
    svc = await start_service()
    url = svc.database_url
    await seed(url, "u1", "first-login")
    await seed(url, "u1", "first-100-kills")
    await seed(url, "u2", "career-500-headshots")
    await seed(url, "u3", "first-login")
    results = await svc.client.publish(
        login_event("u1", "m-1"),
        stat_event("u1", "enemy_kills", -5),  # invalid: nothing of it is applied
        stat_event("u1", "enemy_kills", 40, 40, "m-2"),
        login_event("", "m-3"),
        stat_event("u2", "headshots", 7, 7, namespace=NAMESPACE),  # the namespace spelled out
        login_event("u3", namespace="another-game"),  # ignored
        stat_event("u1", "enemy_kills", 120, 80),  # merges with m-2: completes the goal
    )
    assert [code for code, _ in results] == [OK, INVALID, OK, INVALID, OK, OK, OK]
    # Durable mode: answered after the commit, so the rows are final now.
    assert await progress(url, "u1", "first-login") == 1
    kills = await row(url, "u1", "first-100-kills")
    assert kills is not None and (kills.progress, kills.status) == (120, "completed")
    assert await progress(url, "u2", "career-500-headshots") == 7
    assert await progress(url, "u3", "first-login") == 0


async def test_duplicate_ids_within_a_batch_across_batches_and_across_paths_apply_once(
    start_service: StartService,
) -> None:
    svc = await start_service()
    url = svc.database_url
    await seed(url, "u1", "first-login")
    first = await svc.client.publish(
        login_event("u1", "d-1"), login_event("u1", "d-1"), login_event("u1", "d-2"), login_event("u1")
    )
    assert [code for code, _ in first] == [OK, OK, OK, OK]
    assert await progress(url, "u1", "first-login") == 3  # d-1 once, d-2, and the one without id
    again = await svc.client.publish(
        login_event("u1", "d-1"), login_event("u1", "d-2"), login_event("u1", "d-3")
    )
    assert [code for code, _ in again] == [OK, OK, OK]
    assert await progress(url, "u1", "first-login") == 4
    await svc.client.login("u1", event_id="d-3")  # the AGS call with an id the batch applied
    await svc.client.login("u1", event_id="d-4")
    assert await svc.client.publish(login_event("u1", "d-4")) == [(OK, "")]  # and the other way round
    assert await progress(url, "u1", "first-login") == 5


async def test_an_id_applied_before_a_restart_is_not_applied_again(start_service: StartService) -> None:
    a = await start_service()
    await seed(a.database_url, "u1", "first-login")
    assert await a.client.publish(login_event("u1", "r-1")) == [(OK, "")]
    await a.stop()
    b = await start_service()  # a fresh process knows the id only from processed_events
    assert await b.client.publish(login_event("u1", "r-1"), login_event("u1", "r-2")) == [(OK, ""), (OK, "")]
    assert await progress(b.database_url, "u1", "first-login") == 2


@pytest.mark.parametrize("count", [0, MAX_BATCH_EVENTS + 1])
async def test_an_empty_or_oversized_batch_is_refused_whole(start_service: StartService, count: int) -> None:
    svc = await start_service()
    await seed(svc.database_url, "u1", "first-login")
    with pytest.raises(GRPCError) as caught:
        await svc.client.publish(*(login_event("u1") for _ in range(count)))
    assert caught.value.status == Status.INVALID_ARGUMENT
    assert caught.value.message == f"a batch holds 1 to 1,000 events, got {count:,}"
    assert await progress(svc.database_url, "u1", "first-login") == 0


async def test_a_full_batch_of_the_largest_events_is_accepted(start_service: StartService) -> None:
    svc = await start_service()
    url = svc.database_url
    # 100-character ids, the event ids of two-byte characters: ~300 kB in one message.
    users = [f"{i:03d}" + "u" * 97 for i in range(MAX_BATCH_EVENTS)]
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn, conn.cursor() as cursor:
        await cursor.executemany(
            "INSERT INTO user_goal_progress (user_id, goal_id, challenge_id, is_active)"
            " VALUES (%s, 'first-login', 'onboarding', true)",
            [(user,) for user in users],
        )
    events = [login_event(user, f"{i:03d}" + "é" * 97) for i, user in enumerate(users)]
    assert await svc.client.publish(*events) == [(OK, "")] * MAX_BATCH_EVENTS
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute("SELECT count(*) FROM user_goal_progress WHERE progress = 1")
        assert await cursor.fetchone() == (MAX_BATCH_EVENTS,)


async def test_back_pressure_part_way_through_a_batch_keeps_the_accepted_events_a_prefix(
    start_service: StartService,
) -> None:
    # Buffered: nothing is flushed for a minute, so the buffer holds exactly what was admitted.
    svc = await start_service(event_ack_mode="buffered", buffer_max_entries=3, flush_interval_ms=60_000)
    url = svc.database_url
    users = [f"bp{i}" for i in range(6)]
    for user in users:
        await seed(url, user, "complete-tutorial")  # the only goal of tutorial_completed: one entry
    await svc.client.publish(stat_event("bp0", "tutorial_completed", 1, 1, "bp-early"))
    results = await svc.client.publish(
        stat_event("bp1", "tutorial_completed", 1, 1, "bp-1"),
        stat_event("bp2", "tutorial_completed", 1, 1, "bp-2"),
        stat_event("bp3", "tutorial_completed", 1, 1, "bp-3"),  # the buffer is full from here on
        stat_event("bp4", "tutorial_completed", 1, 1, "bp-4"),
        stat_event("bp5", "", 1),  # still malformed, whatever the buffer
        stat_event("bp5", "no_such_stat", 1),  # still ignored: it needs no room
        stat_event("bp1", "tutorial_completed", 1, 1, "bp-1"),  # a duplicate of an accepted event
        stat_event("bp0", "tutorial_completed", 1, 1),  # merges into a buffered entry, but no room
    )
    assert [code for code, _ in results] == [OK, OK, EXHAUSTED, EXHAUSTED, INVALID, OK, OK, EXHAUSTED]
    assert results[2][1] == "event buffer is full; retry later"
    await svc.stop()  # shutdown flushes what was accepted
    applied = {user: await progress(url, user, "complete-tutorial") for user in users}
    assert applied == {"bp0": 1, "bp1": 1, "bp2": 1, "bp3": 0, "bp4": 0, "bp5": 0}


async def test_database_outage_answers_unavailable_per_event_and_a_retry_applies_once(
    start_service: StartService, own_database: tuple[EmbeddedPostgres, str]
) -> None:
    server, url = own_database
    svc = await start_service(url)
    await seed(url, "u1", "first-login")
    await seed(url, "u1", "first-100-kills")
    await asyncio.to_thread(server.stop)
    batch = (
        login_event("u1", "o-1"),
        stat_event("u1", "enemy_kills", 30, 30, "o-2"),
        login_event(""),
        login_event("u1", namespace="another-game"),
    )
    started = time.monotonic()
    results = await svc.client.publish(*batch)
    assert [code for code, _ in results] == [UNAVAILABLE, UNAVAILABLE, INVALID, OK]
    assert results[0][1] == "database unavailable; the event is buffered and will be applied"
    assert ACK_TIMEOUT_S <= time.monotonic() - started < ACK_TIMEOUT_S + 3  # a bounded wait

    await asyncio.to_thread(server.start)

    async def applied() -> bool:
        try:
            return await progress(url, "u1", "first-login") == 1
        except psycopg.OperationalError:
            return False

    await eventually(applied, timeout_s=30)
    assert await progress(url, "u1", "first-100-kills") == 30
    retry = await svc.client.publish(*batch)  # the client retries the whole call: applied once
    assert [code for code, _ in retry] == [OK, OK, INVALID, OK]
    assert await progress(url, "u1", "first-login") == 1


async def test_buffered_mode_answers_before_the_flush(start_service: StartService) -> None:
    svc = await start_service(event_ack_mode="buffered", flush_interval_ms=60_000)
    await seed(svc.database_url, "u1", "first-login")
    assert await svc.client.publish(login_event("u1", "b-1")) == [(OK, "")]
    assert await progress(svc.database_url, "u1", "first-login") == 0
    await svc.stop()
    assert await progress(svc.database_url, "u1", "first-login") == 1


async def test_a_call_arriving_during_shutdown_is_refused_whole(start_service: StartService) -> None:
    svc = await start_service()
    await seed(svc.database_url, "u1", "first-login")
    svc.pipeline.ingest.stop_accepting()
    with pytest.raises(GRPCError) as caught:
        await svc.client.publish(login_event("u1"))
    assert caught.value.status == Status.UNAVAILABLE
    assert await progress(svc.database_url, "u1", "first-login") == 0


async def test_concurrent_calls_on_many_connections_are_all_applied(start_service: StartService) -> None:
    svc = await start_service()
    url = svc.database_url
    users = [f"c{i}" for i in range(20)]
    for user in users:
        await seed(url, user, "first-login")
    clients = [EventClient(Channel("127.0.0.1", svc.service.settings.grpc_port)) for _ in range(5)]
    try:
        rounds = await asyncio.gather(
            *(
                client.publish(*(login_event(user, f"c-{n}-{user}") for user in users))
                for n, client in enumerate(clients)
            )
        )
    finally:
        for client in clients:
            client.channel.close()
    assert all(result == [(OK, "")] * len(users) for result in rounds)
    assert all([await progress(url, user, "first-login") == len(clients) for user in users])

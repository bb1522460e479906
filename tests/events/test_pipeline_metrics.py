"""`challenge_buffer_entries` with several services in one process (as the tests run them): the gauge
adds up every running pipeline's buffer and drops a pipeline once it stops."""

from __future__ import annotations

from prometheus_client import REGISTRY

from tests.helpers.events import Started, StartService


def _gauge() -> float:
    value = REGISTRY.get_sample_value("challenge_buffer_entries")
    assert value is not None
    return value


def _entries(started: Started) -> int:
    return started.pipeline.buffer.entries


async def test_the_buffer_gauge_adds_up_running_pipelines_and_forgets_stopped_ones(
    start_service: StartService,
) -> None:
    before = _gauge()  # services of earlier tests are stopped; any still running count as well
    # Buffered answers and a flush a minute away: the entries stay in the buffers while we look.
    first = await start_service(event_ack_mode="buffered", flush_interval_ms=60_000)
    second = await start_service(event_ack_mode="buffered", flush_interval_ms=60_000)
    await first.client.login("u1")
    await second.client.stat("u2", "enemy_kills", 10, 10)
    await second.client.stat("u3", "enemy_kills", 10, 10)
    in_first, in_second = _entries(first), _entries(second)
    assert in_first > 0 and in_second > in_first
    assert _gauge() == before + in_first + in_second

    await second.stop()
    assert _gauge() == before + in_first
    await first.stop()
    assert _gauge() == before

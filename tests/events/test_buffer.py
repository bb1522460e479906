"""The buffer's in-place merge equals `rules.progress.Delta.merge`, including the dedup re-fold and the
restore of a failed flush (older entries first)."""

from __future__ import annotations

from collections import Counter
from functools import reduce

from hypothesis import given, settings
from hypothesis import strategies as st

from challenge_service.events.buffer import Batch, Buffer, Entry, Event, Key, merge_into, refold
from challenge_service.rules.progress import Delta, login_delta, stat_delta

USERS = ("u1", "u2", "u3")
KINDS = ("login", "kills", "wins")


def _key(kind: str) -> Key:
    return None if kind == "login" else kind


# (event_id, user, kind, value, inc); ids are unique per sequence (index-based, some empty).
events = st.lists(
    st.tuples(
        st.booleans(),
        st.sampled_from(USERS),
        st.sampled_from(KINDS),
        st.integers(0, 99),
        st.integers(0, 9),
    ),
    max_size=30,
)


def _delta(kind: str, value: int, inc: int) -> Delta:
    return login_delta() if kind == "login" else stat_delta(value, inc)


def _fill(buffer: Buffer, sequence: list[tuple[bool, str, str, int, int]], prefix: str = "e") -> None:
    for index, (with_id, user, kind, value, inc) in enumerate(sequence):
        delta = _delta(kind, value, inc)
        event_id = f"{prefix}{index}" if with_id else ""
        buffer.add(Event(event_id, user, _key(kind), delta.value, delta.add, delta.inc))


def _expected(sequence: list[tuple[bool, str, str, int, int]], skip: set[int] = frozenset()) -> dict:  # type: ignore[assignment,type-arg]
    deltas: dict[tuple[str, Key], list[Delta]] = {}
    for index, (_, user, kind, value, inc) in enumerate(sequence):
        if index not in skip:
            deltas.setdefault((user, _key(kind)), []).append(_delta(kind, value, inc))
    return {key: reduce(Delta.merge, ds) for key, ds in deltas.items()}


def _as_deltas(batch: Batch) -> dict[tuple[str, Key], Delta]:
    return {
        (user, key): Delta(value=e.value, add=e.add, inc=e.inc)
        for user, entries in batch.users.items()
        for key, e in entries.items()
    }


@settings(max_examples=200, deadline=None)
@given(sequence=events)
async def test_buffer_merge_equals_delta_merge(sequence: list[tuple[bool, str, str, int, int]]) -> None:
    buffer = Buffer(10_000, durable=False)
    _fill(buffer, sequence)
    batch = buffer.take().batch
    assert _as_deltas(batch) == _expected(sequence)
    assert batch.count == len(_expected(sequence))


@settings(max_examples=200, deadline=None)
@given(sequence=events, data=st.data())
async def test_refold_drops_exactly_the_already_processed_events(
    sequence: list[tuple[bool, str, str, int, int]], data: st.DataObject
) -> None:
    with_ids = [i for i, event in enumerate(sequence) if event[0]]
    skip = set(data.draw(st.lists(st.sampled_from(with_ids), unique=True))) if with_ids else set()
    buffer = Buffer(10_000, durable=False)
    _fill(buffer, sequence)
    batch = buffer.take().batch
    refold(batch, {f"e{i}" for i in skip})
    expected = _expected(sequence, skip)
    assert _as_deltas(batch) == expected
    assert batch.count == len(expected)
    assert len(batch.log) == len(sequence) - len(skip)


@settings(max_examples=200, deadline=None)
@given(older=events, newer=events)
async def test_restore_puts_the_failed_batch_before_newer_events(
    older: list[tuple[bool, str, str, int, int]], newer: list[tuple[bool, str, str, int, int]]
) -> None:
    buffer = Buffer(10_000, durable=False)
    _fill(buffer, older, "old")
    failed = buffer.take()
    _fill(buffer, newer, "new")
    buffer.restore([failed.batch], [], set())
    batch = buffer.take().batch
    assert _as_deltas(batch) == _expected(older + newer)
    assert batch.count == len(_expected(older + newer))


@settings(max_examples=100, deadline=None)
@given(sequence=events)
async def test_split_keeps_every_event_whole(sequence: list[tuple[bool, str, str, int, int]]) -> None:
    buffer = Buffer(10_000, durable=False)
    _fill(buffer, sequence)
    batch = buffer.take().batch
    first, second = batch.split()
    assert not set(first.users) & set(second.users)
    merged: dict[str, dict[Key, Entry]] = {}
    merge_into(merged, first.users)
    merge_into(merged, second.users)
    assert merged == batch.users
    assert Counter(first.log + second.log) == Counter(batch.log)
    assert all(event.user_id in first.users for event in first.log)


async def test_duplicate_lookup_and_bound() -> None:
    buffer = Buffer(2, durable=True)
    assert buffer.duplicate("a") is False
    future = buffer.add(Event("a", "u1", "kills", 5, 0, 1))
    assert buffer.duplicate("a") is future
    assert buffer.has_room()
    buffer.add(Event("", "u2", "kills", 5, 0, 1))
    assert not buffer.has_room()  # even for an event that would merge: the bound holds strictly
    generation = buffer.take()
    assert not buffer.has_room()  # in-flight entries still count against the bound
    buffer.done(generation.batch.event_ids())
    buffer.settle()
    assert buffer.has_room()
    assert buffer.duplicate("a") is True


async def test_the_log_is_bounded_too() -> None:
    buffer = Buffer(3, durable=False)
    for _ in range(3):
        buffer.add(Event("", "u1", "kills", 5, 0, 1))  # one entry, three events
    assert buffer.entries == 1
    assert not buffer.has_room()


async def test_a_batch_is_ready_at_batch_events_or_batch_rows() -> None:
    buffer = Buffer(100, durable=False, batch_events=3, batch_rows=2)
    buffer.add(Event("", "u1", None, None, 1, 1))
    buffer.wake.clear()
    buffer.add(Event("", "u1", None, None, 1, 1))
    assert not buffer.ready and not buffer.wake.is_set()  # merged into one entry, two events
    buffer.add(Event("", "u1", None, None, 1, 1))
    assert buffer.ready and buffer.wake.is_set()
    buffer.take()
    buffer.add(Event("", "u2", "kills", 5, 0, 1))
    assert not buffer.ready
    buffer.add(Event("", "u3", "kills", 5, 0, 1))  # two events, two entries
    assert buffer.ready

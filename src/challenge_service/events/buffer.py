"""The write buffer: events merged in memory per (user, stat code), no database read.

An accepted event is an `Event`. Every goal an event moves gets the same `rules.progress.Delta` — a
stat update moves every statistic goal with its stat code, a login every login goal — so the buffer
merges per (user, stat code), a login under the key `None`, and the flush fans each entry out to the
goals in SQL. Per key it keeps one mutable `Entry` — the fields of `Delta` without an allocation per
event: a stat event replaces `value` and adds its `inc`; a login adds 1 to `add` and `inc`.
`tests/events/test_buffer.py` proves the merge equal to `Delta.merge`.

Duplicate event ids. Every event is also appended to the generation's `log`, in arrival order.
The flush inserts the batch's ids into `processed_events` in its own transaction; normally all are
new and the merged entries are written as they are. When some id was already processed (a redelivery
after a restart, or another replica), the affected entries are re-folded from the log without those
events (`refold`). An id is therefore recorded exactly when its event's progress commits: an
acknowledged event is never lost and never applied twice. Within one process, ids still buffered or in
flight (`_pending`) and recently committed ones (`_recent`) are answered without touching the buffer.

Generations. The buffer is the *open generation*; the flusher `take`s it whole and opens a new one. In
durable mode each generation has one future, resolved when its flush commits (group commit: every
call of the batch waits on the same future). A failed flush `restore`s its batch into the open
generation — merged *before* the newer entries — and links its future to that generation's commit.

Records. `Event` and `Entry` are msgspec Structs: the cheapest named records to build and read
(bench/micro_event_path.py), and with `gc=False` (they hold only strings and numbers, so never a
cycle) the collector never walks the thousands a busy buffer holds.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field

import msgspec

# Which goals an event moves: the statistic goals of a stat code, or (None) the login goals.
Key = str | None


class Event(msgspec.Struct, frozen=True, gc=False):
    """A valid event: the same `Delta` (value, add, inc) for each of the user's goals of `key`."""

    event_id: str  # "" when the sender gave none: such an event is not deduplicated
    user_id: str
    key: Key
    value: int | None  # a stat event's latest value; None for a login
    add: int  # logins to add to the raw count
    inc: int  # the increment the event reports (the relative-mode baseline excludes it)


class Entry(msgspec.Struct, gc=False):
    """The events buffered for one (user, key), merged as `Delta.merge` does."""

    value: int | None
    add: int
    inc: int


# A flush's outcome for its waiters: the users whose entries had to be dropped (empty on success).
Dropped = frozenset[str]

RECENT_IDS = 100_000


@dataclass(slots=True)
class Batch:
    """Entries of some users plus the log of the events that built them, in arrival order."""

    users: dict[str, dict[Key, Entry]] = field(default_factory=dict)
    log: list[Event] = field(default_factory=list)
    count: int = 0

    def split(self) -> tuple[Batch, Batch]:
        """Two halves by user (an event belongs to one user, so each event stays whole)."""
        names = sorted(self.users)
        first = set(names[: len(names) // 2])
        halves = (Batch(), Batch())
        for user, entries in self.users.items():
            half = halves[0] if user in first else halves[1]
            half.users[user] = entries
            half.count += len(entries)
        for event in self.log:
            (halves[0] if event.user_id in first else halves[1]).log.append(event)
        return halves

    def event_ids(self) -> list[str]:
        return [event.event_id for event in self.log if event.event_id]


def fold(entries: dict[Key, Entry], event: Event) -> int:
    """Merge `event` into its user's `entries` (in place); return how many entries it created."""
    entry = entries.get(event.key)
    if entry is None:
        entries[event.key] = Entry(event.value, event.add, event.inc)
        return 1
    if event.value is not None:
        entry.value = event.value
    entry.add += event.add
    entry.inc += event.inc
    return 0


def merge_into(older: dict[str, dict[Key, Entry]], newer: dict[str, dict[Key, Entry]]) -> int:
    """Merge `newer` entries after `older`'s (in place, into `older`); return entries added."""
    added = 0
    for user, entries in newer.items():
        mine = older.get(user)
        if mine is None:
            older[user] = entries
            added += len(entries)
            continue
        for key, entry in entries.items():
            old = mine.get(key)
            if old is None:
                mine[key] = entry
                added += 1
            else:
                if entry.value is not None:
                    old.value = entry.value
                old.add += entry.add
                old.inc += entry.inc
    return added


def refold(batch: Batch, skip: set[str]) -> None:
    """Rebuild the entries of users touched by a skipped (already processed) event from the log."""
    users = {event.user_id for event in batch.log if event.event_id in skip}
    rebuilt: dict[str, dict[Key, Entry]] = {user: {} for user in users}
    for event in batch.log:
        entries = rebuilt.get(event.user_id)
        if entries is not None and not (event.event_id and event.event_id in skip):
            fold(entries, event)
    for user, entries in rebuilt.items():
        batch.count += len(entries) - len(batch.users.get(user, {}))
        if entries:
            batch.users[user] = entries
        else:
            batch.users.pop(user, None)
    batch.log = [event for event in batch.log if not (event.event_id and event.event_id in skip)]


class Generation:
    __slots__ = ("batch", "dropped", "future", "linked", "opened_at")

    def __init__(self, future: asyncio.Future[Dropped] | None) -> None:
        self.batch = Batch()
        self.future = future
        # Futures of failed flushes whose entries were restored into this generation.
        self.linked: list[asyncio.Future[Dropped]] = []
        # Users dropped by an earlier, failed attempt of a restored flush: reported at the commit.
        self.dropped: set[str] = set()
        self.opened_at = 0.0

    def resolve(self, dropped: Dropped) -> None:
        for future in (self.future, *self.linked):
            if future is not None and not future.done():
                future.set_result(dropped)


class Buffer:
    """Pending entries, bounded by `max_entries` (buffered + in flight)."""

    def __init__(
        self, max_entries: int, *, durable: bool, batch_events: int = 50, batch_rows: int = 5000
    ) -> None:
        self.max_entries = max_entries
        self.durable = durable
        # A generation with this many events or entries is flushed without waiting for the interval.
        self.batch_events = batch_events
        self.batch_rows = batch_rows
        self.in_flight = 0
        # Set when the open generation gets its first entry or becomes `ready`.
        self.wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._open = self._new_generation()
        # Ids buffered or being flushed → the future of the commit that will apply them (or None in
        # buffered mode); ids committed recently, oldest first.
        self._pending: dict[str, asyncio.Future[Dropped] | None] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()

    def _new_generation(self) -> Generation:
        return Generation(self._loop.create_future() if self.durable else None)

    # ---- event path (no awaits: one event is applied atomically) ----------------------------------

    @property
    def entries(self) -> int:
        return self._open.batch.count + self.in_flight

    def has_room(self) -> bool:
        """Room for one more event, counted as if it did not merge, so the bound holds strictly:
        buffered + in-flight entries never exceed `max_entries`."""
        batch = self._open.batch
        return batch.count + self.in_flight < self.max_entries and len(batch.log) < self.max_entries

    def duplicate(self, event_id: str) -> asyncio.Future[Dropped] | bool:
        """False for a new id; True if already committed; the pending commit's future (durable)."""
        if event_id in self._recent:
            return True
        if event_id in self._pending:
            return self._pending[event_id] or True
        return False

    def add(self, event: Event) -> asyncio.Future[Dropped] | None:
        """Buffer one event; return the future of its commit (durable mode)."""
        generation = self._open
        batch = generation.batch
        if batch.count == 0 and not batch.log:
            generation.opened_at = self._loop.time()
            self.wake.set()
        entries = batch.users.get(event.user_id)
        if entries is None:
            entries = batch.users[event.user_id] = {}
        batch.count += fold(entries, event)
        batch.log.append(event)
        if event.event_id:
            self._pending[event.event_id] = generation.future
        if len(batch.log) == self.batch_events or batch.count >= self.batch_rows:
            self.wake.set()
        return generation.future

    # ---- flusher side -----------------------------------------------------------------------------

    @property
    def empty(self) -> bool:
        return not self._open.batch.log

    @property
    def opened_at(self) -> float:
        return self._open.opened_at

    @property
    def ready(self) -> bool:
        """Big enough to flush without waiting for the interval."""
        batch = self._open.batch
        return len(batch.log) >= self.batch_events or batch.count >= self.batch_rows

    def take(self) -> Generation:
        """Hand the open generation to the flusher (one at a time) and open a new one."""
        taken = self._open
        self._open = self._new_generation()
        self.in_flight = taken.batch.count
        return taken

    def settle(self) -> None:
        """The generation taken last is finished (committed, dropped or restored)."""
        self.in_flight = 0

    def done(self, event_ids: list[str] | set[str]) -> None:
        """These ids were committed (or found already processed, or dropped): no longer pending."""
        recent = self._recent
        for event_id in event_ids:
            self._pending.pop(event_id, None)
            recent[event_id] = None
        while len(recent) > RECENT_IDS:
            recent.popitem(last=False)

    def restore(
        self, batches: list[Batch], futures: list[asyncio.Future[Dropped]], dropped: set[str]
    ) -> None:
        """Put a failed flush back, before everything buffered since; its callers keep waiting."""
        generation = self._open
        newer = generation.batch
        older = Batch()
        self.in_flight = 0
        for batch in batches:
            merge_into(older.users, batch.users)
            older.log.extend(batch.log)
        merge_into(older.users, newer.users)
        older.log.extend(newer.log)
        older.count = sum(len(entries) for entries in older.users.values())
        generation.batch = older
        generation.linked.extend(futures)
        generation.dropped |= dropped
        for event in older.log:
            if event.event_id:
                self._pending[event.event_id] = generation.future
        if older.log and not newer.log:
            generation.opened_at = self._loop.time()
            self.wake.set()

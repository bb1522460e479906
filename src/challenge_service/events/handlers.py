"""gRPC servicers for events: the two AGS unary calls and the batch call `Publish` (docs/events.md).

Every event, whichever call carries it, goes the same way: `accept.Acceptor` validates it and finds
its goals, `EventIngest.admit` deduplicates and buffers it, and the call answers once the flush holding
it has committed (durable mode) or at once (buffered). A unary call maps its event's outcome to the
call's status; `Publish` answers one result per event with the status code the unary call would have
got.

Outcomes: malformed → INVALID_ARGUMENT; another namespace or no matching goal → OK (ignored); a
duplicate id → OK once its first delivery is applied; buffer full → RESOURCE_EXHAUSTED (never a silent
drop); no commit within `ACK_TIMEOUT_S` → UNAVAILABLE while the event stays buffered and is applied when
the database is back (a retry with the same id is then a no-op); shutting down → UNAVAILABLE.

Back-pressure in a batch: the events of a call enter the buffer in order with no await in between, and
every event takes at most one entry, so from the first event that does not fit every later one that
needs the buffer gets RESOURCE_EXHAUSTED too. What was accepted is a prefix, and a retry of the rest
keeps a player's events in order (a stat update retried after a later one would move an absolute goal
backwards).
"""

from __future__ import annotations

import asyncio
import functools
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, TypeVar

from google.protobuf.empty_pb2 import Empty
from google.protobuf.message import DecodeError, Message
from grpclib.const import Status
from grpclib.server import Stream

from challenge_service import metrics
from challenge_service.events.accept import Acceptor, Invalid
from challenge_service.events.buffer import Buffer, Dropped, Event
from challenge_service.events.proto.accelbyte.iam.account.v1 import account_grpc, account_pb2
from challenge_service.events.proto.accelbyte.social.statistic.v1 import statistic_grpc, statistic_pb2
from challenge_service.events.proto.challenge.events.v1 import events_grpc, events_pb2

ACK_TIMEOUT_S = 5.0
MAX_BATCH_EVENTS = 1000
# gRPC's usual receive limit (grpc-go, grpc-java): a full batch of the largest valid events is ~1 MB.
MAX_MESSAGE_BYTES = 4 * 2**20

LOGIN = "UserAuthenticationUserLoggedInService/OnMessage"
STAT = "StatisticStatItemUpdatedService/OnMessage"
PUBLISH = "EventIngest/Publish"
_EMPTY = Empty()
_OK_RESULT = events_pb2.EventResult()

M = TypeVar("M", bound=Message)


class Refusal(NamedTuple):
    """A call's or an event's status other than OK, and the message that explains it."""

    status: Status
    message: str


BUFFER_FULL = Refusal(Status.RESOURCE_EXHAUSTED, "event buffer is full; retry later")
NOT_COMMITTED = Refusal(Status.UNAVAILABLE, "database unavailable; the event is buffered and will be applied")
REFUSED_BY_DATABASE = Refusal(Status.INTERNAL, "the database refused this event's progress")
SHUTTING_DOWN = Refusal(Status.UNAVAILABLE, "shutting down")
MALFORMED = Refusal(Status.INVALID_ARGUMENT, "malformed protobuf message")

# An event on its way to the answer: settled (OK), waiting for a commit, or refused.
Admission = asyncio.Future[Dropped] | Refusal | None


async def receive(stream: Stream[Any, Any], request_type: type[M]) -> M | Refusal:
    """The call's one message, refused past `MAX_MESSAGE_BYTES` before its body is read.

    grpclib (0.4.9) reads a message of any announced length into memory, so this reads the 5-byte gRPC
    prefix itself through the private `Stream._stream` (pinned by tests/events/test_batch_wire.py);
    HTTP/2 flow control then keeps an oversized body's unread rest at the client."""
    raw = stream._stream
    try:
        prefix = await raw.recv_data(5)
        if len(prefix) < 5:
            return _malformed()
        compressed, length = struct.unpack(">?I", prefix)
        if compressed:
            return Refusal(Status.INVALID_ARGUMENT, "compressed messages are not supported")
        if length > MAX_MESSAGE_BYTES:
            metrics.EVENTS.labels("rejected", "message_too_large").inc()
            return Refusal(
                Status.INVALID_ARGUMENT, f"message of {length:,} bytes; the limit is {MAX_MESSAGE_BYTES:,}"
            )
        message: M = request_type()
        message.ParseFromString(await raw.recv_data(length))
    except (DecodeError, AssertionError):
        # Bytes that are not the method's message, or fewer than announced (grpclib asserts): the
        # caller's fault, not ours (no 500-style UNKNOWN, no traceback in the logs).
        return _malformed()
    return message


def _malformed() -> Refusal:
    metrics.EVENTS.labels("rejected", "malformed_protobuf").inc()
    return MALFORMED


class EventIngest:
    """What the three servicers share: admission into the buffer, acknowledgement, and the drain."""

    def __init__(self, buffer: Buffer, acceptor: Acceptor) -> None:
        self.buffer = buffer
        self.acceptor = acceptor
        self.accepting = True
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._received = metrics.EVENTS.labels("received", "")
        self._deduplicated = metrics.EVENTS.labels("deduplicated", "recent")
        self._buffer_full = metrics.EVENTS.labels("rejected", "buffer_full")
        self._ok = {m: metrics.GRPC_REQUESTS.labels(m, "OK") for m in (LOGIN, STAT, PUBLISH)}
        self._ok_latency = {m: metrics.GRPC_LATENCY.labels(m, "OK") for m in (LOGIN, STAT, PUBLISH)}

    def stop_accepting(self) -> None:
        self.accepting = False

    async def drain(self, timeout_s: float) -> bool:
        """Wait for the calls already running to answer; True when none is left."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def serve(
        self,
        method: str,
        stream: Stream[Any, Any],
        request_type: type[M],
        answer: Callable[[M], Awaitable[Message | Refusal]],
    ) -> None:
        """Run one call to the end, trailers included, so a drained call has really been answered
        (grpclib's close() would cancel one still sending)."""
        started = time.perf_counter()
        self._in_flight += 1
        self._idle.clear()
        status, message = Status.OK, None
        try:
            request = await receive(stream, request_type)
            if isinstance(request, Refusal):
                outcome: Message | Refusal = request
            elif not self.accepting:
                outcome = SHUTTING_DOWN
            else:
                outcome = await answer(request)
            if isinstance(outcome, Refusal):
                status, message = outcome
            else:
                await stream.send_message(outcome)
            await stream.send_trailing_metadata(status=status, status_message=message)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()
            elapsed = time.perf_counter() - started
            if status is Status.OK:
                self._ok[method].inc()
                self._ok_latency[method].observe(elapsed)
            else:
                metrics.GRPC_REQUESTS.labels(method, status.name).inc()
                metrics.GRPC_LATENCY.labels(method, status.name).observe(elapsed)

    # ---- the three calls --------------------------------------------------------------------------

    async def login(self, request: account_pb2.UserLoggedIn) -> Empty | Refusal:
        return await self._unary(self.acceptor.login(request))

    async def stat(self, request: statistic_pb2.StatItemUpdated) -> Empty | Refusal:
        return await self._unary(self.acceptor.stat(request))

    async def publish(self, request: events_pb2.PublishRequest) -> events_pb2.PublishResponse | Refusal:
        events = request.events
        if not 0 < len(events) <= MAX_BATCH_EVENTS:
            metrics.EVENTS.labels("rejected", "batch_size").inc()
            return Refusal(
                Status.INVALID_ARGUMENT,
                f"a batch holds 1 to {MAX_BATCH_EVENTS:,} events, got {len(events):,}",
            )
        self._received.inc(len(events))
        accept, admit = self.acceptor.batch_event, self.admit
        # No await here: the call's events enter the buffer together and in order.
        accepted = [accept(event) for event in events]
        admissions = [admit(one) for one in accepted]
        await self._settle({a for a in admissions if isinstance(a, asyncio.Future)})
        refusals = list(map(_verdict, accepted, admissions))
        if not any(refusals):
            return _all_ok(len(refusals))
        results = [
            _OK_RESULT
            if refusal is None
            else events_pb2.EventResult(code=refusal.status.value, message=refusal.message)
            for refusal in refusals
        ]
        return events_pb2.PublishResponse(results=results)

    async def _unary(self, accepted: Event | Invalid | None) -> Empty | Refusal:
        self._received.inc()
        admission = self.admit(accepted)
        if isinstance(admission, asyncio.Future):
            await self._settle({admission})
        return _verdict(accepted, admission) or _EMPTY

    # ---- one event --------------------------------------------------------------------------------

    def admit(self, accepted: Event | Invalid | None) -> Admission:
        """Deduplicate and buffer one validated event (no awaits: an event is admitted atomically)."""
        if accepted is None:
            return None
        if isinstance(accepted, Invalid):
            metrics.EVENTS.labels("rejected", accepted.reason).inc()
            return Refusal(Status.INVALID_ARGUMENT, accepted.message)
        buffer = self.buffer
        if accepted.event_id:
            previous = buffer.duplicate(accepted.event_id)
            if previous is not False:
                self._deduplicated.inc()
                return None if previous is True else previous
        if not buffer.has_room():
            self._buffer_full.inc()
            return BUFFER_FULL
        return buffer.add(accepted)

    async def _settle(self, commits: set[asyncio.Future[Dropped]]) -> None:
        """Wait for these flushes to commit, at most `ACK_TIMEOUT_S`. `asyncio.wait` never cancels
        what it waits for, so a caller giving up (deadline, disconnect) leaves the shared futures be."""
        if not commits:
            return
        started = time.perf_counter()
        _, pending = await asyncio.wait(commits, timeout=ACK_TIMEOUT_S)
        if not pending:
            metrics.ACK_LATENCY.observe(time.perf_counter() - started)


@functools.cache
def _all_ok(events: int) -> events_pb2.PublishResponse:
    """The answer when every event is OK, built once per batch size (sent as it is, never changed)."""
    return events_pb2.PublishResponse(results=[_OK_RESULT] * events)


def _verdict(accepted: Event | Invalid | None, admission: Admission) -> Refusal | None:
    """The event's answer once its commit is settled (or has timed out)."""
    if not isinstance(admission, asyncio.Future):
        return admission
    if not admission.done():
        return NOT_COMMITTED
    dropped = admission.result()
    if dropped and isinstance(accepted, Event) and accepted.user_id in dropped:
        return REFUSED_BY_DATABASE
    return None


class LoginService(account_grpc.UserAuthenticationUserLoggedInServiceBase):
    def __init__(self, ingest: EventIngest) -> None:
        self._ingest = ingest

    async def OnMessage(self, stream: Stream[account_pb2.UserLoggedIn, Empty]) -> None:
        await self._ingest.serve(LOGIN, stream, account_pb2.UserLoggedIn, self._ingest.login)


class StatService(statistic_grpc.StatisticStatItemUpdatedServiceBase):
    def __init__(self, ingest: EventIngest) -> None:
        self._ingest = ingest

    async def OnMessage(self, stream: Stream[statistic_pb2.StatItemUpdated, Empty]) -> None:
        await self._ingest.serve(STAT, stream, statistic_pb2.StatItemUpdated, self._ingest.stat)


class BatchService(events_grpc.EventIngestBase):
    def __init__(self, ingest: EventIngest) -> None:
        self._ingest = ingest

    async def Publish(self, stream: Stream[events_pb2.PublishRequest, events_pb2.PublishResponse]) -> None:
        await self._ingest.serve(PUBLISH, stream, events_pb2.PublishRequest, self._ingest.publish)

"""Wire contract of `challenge.events.v1.EventIngest/Publish` (proto/challenge/events/v1), pinned by
hand-built bytes, and the size bound the service reads before a message's body.

The bytes are built from the contract's field numbers and wire types, independently of the generated
code, so a renumbered or retyped field or a renamed package, service or method fails here.
"""

from __future__ import annotations

import pytest
from google.protobuf import descriptor as _descriptor
from grpclib.client import Channel
from grpclib.const import Cardinality, Status
from grpclib.exceptions import GRPCError
from grpclib.server import Stream

from challenge_service.events.handlers import MAX_MESSAGE_BYTES, BatchService
from challenge_service.events.proto.challenge.events.v1 import events_grpc, events_pb2
from tests.helpers.db import seed
from tests.helpers.proto_wire import RawCodec, f_double, f_int, f_msg, f_str, raw_call
from tests.helpers.service import RunningService

PUBLISH_PATH = "/challenge.events.v1.EventIngest/Publish"

LOGIN_EVENT_BYTES = f_str(1, "evt-1") + f_str(2, "u-1") + f_msg(3, b"") + f_str(5, "game-ns")
STAT_EVENT_BYTES = (
    f_str(1, "evt-2")  # id
    + f_str(2, "u-2")  # user_id
    + f_msg(4, f_str(1, "kills") + f_double(2, 42.0) + f_double(3, 3.0))  # stat
)
REQUEST_BYTES = f_msg(1, LOGIN_EVENT_BYTES) + f_msg(1, STAT_EVENT_BYTES)


def request_message() -> events_pb2.PublishRequest:
    return events_pb2.PublishRequest(
        events=[
            events_pb2.Event(id="evt-1", user_id="u-1", login=events_pb2.Login(), namespace="game-ns"),
            events_pb2.Event(
                id="evt-2", user_id="u-2", stat=events_pb2.Stat(stat_code="kills", latest_value=42.0, inc=3.0)
            ),
        ]
    )


def test_generated_encoding_equals_hand_bytes() -> None:
    assert request_message().SerializeToString(deterministic=True) == REQUEST_BYTES
    response = events_pb2.PublishResponse(
        results=[events_pb2.EventResult(), events_pb2.EventResult(code=8, message="full")]
    )
    assert response.SerializeToString(deterministic=True) == f_msg(1, b"") + f_msg(
        1, f_int(1, 8) + f_str(2, "full")
    )


def test_hand_bytes_decode_to_the_expected_events() -> None:
    decoded = events_pb2.PublishRequest.FromString(REQUEST_BYTES)
    assert decoded == request_message()
    assert [event.WhichOneof("kind") for event in decoded.events] == ["login", "stat"]


_T = _descriptor.FieldDescriptor
CONTRACT_FIELDS: dict[str, dict[str, tuple[int, int, bool]]] = {
    "challenge.events.v1.Event": {
        "id": (1, _T.TYPE_STRING, False),
        "user_id": (2, _T.TYPE_STRING, False),
        "login": (3, _T.TYPE_MESSAGE, False),
        "stat": (4, _T.TYPE_MESSAGE, False),
        "namespace": (5, _T.TYPE_STRING, False),
    },
    "challenge.events.v1.Login": {},
    "challenge.events.v1.Stat": {
        "stat_code": (1, _T.TYPE_STRING, False),
        "latest_value": (2, _T.TYPE_DOUBLE, False),
        "inc": (3, _T.TYPE_DOUBLE, False),
    },
    "challenge.events.v1.PublishRequest": {"events": (1, _T.TYPE_MESSAGE, True)},
    "challenge.events.v1.EventResult": {
        "code": (1, _T.TYPE_INT32, False),
        "message": (2, _T.TYPE_STRING, False),
    },
    "challenge.events.v1.PublishResponse": {"results": (1, _T.TYPE_MESSAGE, True)},
}


@pytest.mark.parametrize("full_name", sorted(CONTRACT_FIELDS))
def test_descriptor_matches_the_contract(full_name: str) -> None:
    desc = events_pb2.DESCRIPTOR.pool.FindMessageTypeByName(full_name)
    assert {f.name: (f.number, f.type, f.is_repeated) for f in desc.fields} == CONTRACT_FIELDS[full_name]


def test_login_and_stat_are_one_oneof() -> None:
    kind = events_pb2.Event.DESCRIPTOR.oneofs_by_name["kind"]
    assert [f.name for f in kind.fields] == ["login", "stat"]


def test_service_method_path() -> None:
    class _Publish(events_grpc.EventIngestBase):
        async def Publish(
            self, stream: Stream[events_pb2.PublishRequest, events_pb2.PublishResponse]
        ) -> None: ...

    mapping = _Publish().__mapping__()
    assert list(mapping) == [PUBLISH_PATH]
    assert mapping[PUBLISH_PATH].request_type is events_pb2.PublishRequest
    assert mapping[PUBLISH_PATH].reply_type is events_pb2.PublishResponse
    assert issubclass(BatchService, events_grpc.EventIngestBase)


async def test_the_service_answers_hand_bytes_with_hand_bytes(running: RunningService) -> None:
    await seed(running.settings.database_url, "u-1", "first-login")
    body = f_msg(1, f_str(2, "u-1") + f_msg(3, b"")) + f_msg(1, f_msg(3, b""))  # the second has no user
    reply = await raw_call(running.settings.grpc_port, PUBLISH_PATH, body)
    assert reply == f_msg(1, b"") + f_msg(1, f_int(1, 3) + f_str(2, "user_id is required"))


@pytest.mark.parametrize("name", ["garbage", "truncated"])
async def test_bytes_that_are_no_request_are_refused_whole(running: RunningService, name: str) -> None:
    body = b"\xff\xff\xff\xff\xff" if name == "garbage" else REQUEST_BYTES[:-4]
    with pytest.raises(GRPCError) as caught:
        await raw_call(running.settings.grpc_port, PUBLISH_PATH, body)
    assert caught.value.status == Status.INVALID_ARGUMENT
    assert caught.value.message == "malformed protobuf message"


async def test_a_call_without_a_message_is_refused_whole(running: RunningService) -> None:
    channel = Channel("127.0.0.1", running.settings.grpc_port, codec=RawCodec())
    try:
        # A client-streaming call may end without a message; a unary client refuses to send that.
        stream = channel.request(PUBLISH_PATH, Cardinality.STREAM_UNARY, bytes, bytes, timeout=10)
        with pytest.raises(GRPCError) as caught:
            async with stream:
                await stream.send_request(end=True)  # headers, then the end: no message at all
                await stream.recv_message()
    finally:
        channel.close()
    assert caught.value.status == Status.INVALID_ARGUMENT


async def test_a_message_over_the_size_bound_is_refused_before_it_is_read(running: RunningService) -> None:
    """The bound is read from the gRPC prefix through grpclib's private `Stream._stream`
    (`events.handlers.receive`): if an upgrade changes that, every call fails and so does this test."""
    await seed(running.settings.database_url, "u-1", "first-login")
    padding = f_str(1, "x" * (MAX_MESSAGE_BYTES - 12))  # an event whose id alone fills the bound
    body = f_msg(1, f_str(2, "u-1") + f_msg(3, b"")) + f_msg(1, padding)
    assert len(body) > MAX_MESSAGE_BYTES
    with pytest.raises(GRPCError) as caught:
        await raw_call(running.settings.grpc_port, PUBLISH_PATH, body)
    assert caught.value.status == Status.INVALID_ARGUMENT
    assert caught.value.message == f"message of {len(body):,} bytes; the limit is {MAX_MESSAGE_BYTES:,}"
    # Nothing of it was applied, and the next call is served.
    ok = f_msg(1, f_str(2, "u-1") + f_msg(3, b""))
    assert await raw_call(running.settings.grpc_port, PUBLISH_PATH, ok) == f_msg(1, b"")
    async with running.service.services.pool.connection() as conn:  # type: ignore[union-attr]
        cursor = await conn.execute("SELECT progress FROM user_goal_progress WHERE user_id = 'u-1'")
        assert await cursor.fetchone() == (1,)

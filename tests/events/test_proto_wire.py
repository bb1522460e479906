"""Wire compatibility of the generated event protos with AGS's wire contract (docs/events.md).

The expected bytes are built by hand from AGS's field numbers and wire types, independently of
the generated code, so a renumbered/retyped field or a renamed package/service/method fails here.
"""

from __future__ import annotations

import math
import socket
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from google.protobuf import descriptor as _descriptor
from google.protobuf.empty_pb2 import Empty
from google.protobuf.message import Message
from grpclib.client import Channel, UnaryUnaryMethod
from grpclib.server import Server, Stream

from challenge_service.events.proto.accelbyte.iam.account.v1 import account_grpc, account_pb2
from challenge_service.events.proto.accelbyte.social.statistic.v1 import statistic_grpc, statistic_pb2
from tests.helpers.proto_wire import (
    LOGIN_BYTES,
    LOGIN_PATH,
    STAT_BYTES,
    STAT_PATH,
    RawCodec,
    f_double,
    f_int,
    f_msg,
    f_str,
)


def login_message() -> account_pb2.UserLoggedIn:
    return account_pb2.UserLoggedIn(
        payload=account_pb2.UserLoggedInPayload(
            user_account=account_pb2.UserAccount(
                user_id="u-1",
                email_address="a@b.c",
                user_name="alice",
                country="ID",
                namespace="game-ns",
                platform_id="steam",
                display_name="Alice",
            ),
            user_authentication=account_pb2.UserAuthentication(
                platform_id="steam",
                refresh=True,
                platform_user_id="7656",
                simultaneous_platform_id="epic",
                simultaneous_platform_user_id="e-9",
            ),
        ),
        id="evt-1",
        version=1,
        name="userLoggedIn",
        namespace="game-ns",
        parent_namespace="studio",
        timestamp="2024-01-01T00:00:00Z",
        client_id="client-1",
        user_id="u-1",
        trace_id="trace-1",
        session_id="sess-1",
    )


def stat_message() -> statistic_pb2.StatItemUpdated:
    item = statistic_pb2.StatItem(
        namespace="game-ns",
        stat_code="kills",
        user_id="u-1",
        latest_value=42.0,
        inc=3.0,
        ignore_additional_data_on_value_rejected=True,
        default_value=0.5,
        request_value=3.0,
        update_strategy="INCREMENT",
    )
    item.additional_data.update({"k": 2.5})
    return statistic_pb2.StatItemUpdated(
        payload=item,
        id="evt-2",
        version=-7,
        name="statItemUpdated",
        namespace="game-ns",
        parent_namespace="studio",
        timestamp="2024-01-01T00:00:01Z",
        client_id="client-1",
        user_id="u-1",
        session_id="sess-2",
    )


# ---------------------------------------------------------------------------------------------------
# (a) field numbers and types pinned by bytes


def test_hand_encoder_matches_known_literals() -> None:
    # Guard the hand encoder itself against a literal: field 9 string user_id -> tag 0x4a.
    assert f_str(9, "u") == b"\x4a\x01u"
    assert f_str(10, "t") == b"\x52\x01t"
    assert f_int(3, 1) == b"\x18\x01"
    assert f_int(3, -1) == b"\x18" + b"\xff" * 9 + b"\x01"
    assert f_double(4, 1.0) == b"\x21" + struct.pack("<d", 1.0)
    assert f_msg(1, b"") == b"\x0a\x00"


@pytest.mark.parametrize(
    ("message", "expected"),
    [(login_message(), LOGIN_BYTES), (stat_message(), STAT_BYTES)],
    ids=["UserLoggedIn", "StatItemUpdated"],
)
def test_generated_encoding_equals_hand_bytes(message: Message, expected: bytes) -> None:
    assert message.SerializeToString(deterministic=True) == expected


@pytest.mark.parametrize(
    ("cls", "raw", "expected"),
    [
        (account_pb2.UserLoggedIn, LOGIN_BYTES, login_message()),
        (statistic_pb2.StatItemUpdated, STAT_BYTES, stat_message()),
    ],
    ids=["UserLoggedIn", "StatItemUpdated"],
)
def test_hand_bytes_decode_to_expected_fields(cls: type[Message], raw: bytes, expected: Message) -> None:
    decoded = cls.FromString(raw)
    assert decoded == expected
    # Nothing fell into unknown fields, i.e. every hand-encoded number/type is known to the schema:
    # dropping unknown fields loses no bytes.
    known_only = cls()
    known_only.CopyFrom(decoded)
    known_only.DiscardUnknownFields()
    assert known_only.SerializeToString(deterministic=True) == raw


def test_decoded_login_fields() -> None:
    m = account_pb2.UserLoggedIn.FromString(LOGIN_BYTES)
    assert m.user_id == "u-1"
    assert m.trace_id == "trace-1"
    assert m.session_id == "sess-1"
    assert m.version == 1
    assert m.payload.user_account.display_name == "Alice"
    assert m.payload.user_authentication.refresh is True
    assert m.payload.user_authentication.simultaneous_platform_user_id == "e-9"


def test_decoded_stat_fields() -> None:
    m = statistic_pb2.StatItemUpdated.FromString(STAT_BYTES)
    assert m.payload.stat_code == "kills"
    assert m.payload.latest_value == 42.0
    assert m.payload.inc == 3.0
    assert m.payload.additional_data["k"] == 2.5
    assert m.version == -7
    assert m.session_id == "sess-2"
    assert "trace_id" not in {f.name for f in m.DESCRIPTOR.fields}


def test_absent_stat_payload_and_inc_are_distinguishable() -> None:
    # The contract: "no payload" -> INVALID_ARGUMENT; inc absent -> 0. Message presence survives the wire.
    m = statistic_pb2.StatItemUpdated.FromString(f_str(9, "u-1"))
    assert not m.HasField("payload")
    m = statistic_pb2.StatItemUpdated.FromString(f_msg(1, f_str(2, "kills")))
    assert m.HasField("payload")
    assert m.payload.inc == 0.0
    assert math.isfinite(m.payload.latest_value)


# AGS's exact schema: name -> (number, type). Catches extra fields the bytes cannot.
_T = _descriptor.FieldDescriptor
AGS_FIELDS: dict[str, dict[str, tuple[int, int]]] = {
    "accelbyte.iam.account.v1.UserLoggedIn": {
        "payload": (1, _T.TYPE_MESSAGE),
        "id": (2, _T.TYPE_STRING),
        "version": (3, _T.TYPE_INT64),
        "name": (4, _T.TYPE_STRING),
        "namespace": (5, _T.TYPE_STRING),
        "parent_namespace": (6, _T.TYPE_STRING),
        "timestamp": (7, _T.TYPE_STRING),
        "client_id": (8, _T.TYPE_STRING),
        "user_id": (9, _T.TYPE_STRING),
        "trace_id": (10, _T.TYPE_STRING),
        "session_id": (11, _T.TYPE_STRING),
    },
    "accelbyte.iam.account.v1.UserLoggedInPayload": {
        "user_account": (1, _T.TYPE_MESSAGE),
        "user_authentication": (2, _T.TYPE_MESSAGE),
    },
    "accelbyte.iam.account.v1.UserAccount": {
        name: (i, _T.TYPE_STRING)
        for i, name in enumerate(
            ["user_id", "email_address", "user_name", "country", "namespace", "platform_id", "display_name"],
            start=1,
        )
    },
    "accelbyte.iam.account.v1.UserAuthentication": {
        "platform_id": (1, _T.TYPE_STRING),
        "refresh": (2, _T.TYPE_BOOL),
        "platform_user_id": (3, _T.TYPE_STRING),
        "simultaneous_platform_id": (4, _T.TYPE_STRING),
        "simultaneous_platform_user_id": (5, _T.TYPE_STRING),
    },
    "accelbyte.social.statistic.v1.StatItemUpdated": {
        "payload": (1, _T.TYPE_MESSAGE),
        "id": (2, _T.TYPE_STRING),
        "version": (3, _T.TYPE_INT64),
        "name": (4, _T.TYPE_STRING),
        "namespace": (5, _T.TYPE_STRING),
        "parent_namespace": (6, _T.TYPE_STRING),
        "timestamp": (7, _T.TYPE_STRING),
        "client_id": (8, _T.TYPE_STRING),
        "user_id": (9, _T.TYPE_STRING),
        "session_id": (10, _T.TYPE_STRING),
    },
    "accelbyte.social.statistic.v1.StatItem": {
        "namespace": (1, _T.TYPE_STRING),
        "stat_code": (2, _T.TYPE_STRING),
        "user_id": (3, _T.TYPE_STRING),
        "latest_value": (4, _T.TYPE_DOUBLE),
        "inc": (5, _T.TYPE_DOUBLE),
        "additional_data": (6, _T.TYPE_MESSAGE),
        "ignore_additional_data_on_value_rejected": (7, _T.TYPE_BOOL),
        "default_value": (8, _T.TYPE_DOUBLE),
        "request_value": (9, _T.TYPE_DOUBLE),
        "update_strategy": (10, _T.TYPE_STRING),
    },
}


@pytest.mark.parametrize("full_name", sorted(AGS_FIELDS))
def test_descriptor_matches_spec(full_name: str) -> None:
    module = account_pb2 if full_name.startswith("accelbyte.iam.") else statistic_pb2
    desc = module.DESCRIPTOR.pool.FindMessageTypeByName(full_name)
    actual = {f.name: (f.number, f.type) for f in desc.fields}
    assert actual == AGS_FIELDS[full_name]
    assert all(not f.is_repeated for f in desc.fields)
    if full_name.endswith("StatItem"):
        assert desc.fields_by_name["additional_data"].message_type.full_name == "google.protobuf.Struct"


def test_service_method_paths() -> None:
    login = _LoginHandler().__mapping__()
    stat = _StatHandler().__mapping__()
    assert list(login) == [LOGIN_PATH]
    assert list(stat) == [STAT_PATH]
    assert login[LOGIN_PATH].request_type is account_pb2.UserLoggedIn
    assert login[LOGIN_PATH].reply_type is Empty
    assert stat[STAT_PATH].request_type is statistic_pb2.StatItemUpdated
    assert stat[STAT_PATH].reply_type is Empty


# ---------------------------------------------------------------------------------------------------
# (b) round trip through a real grpclib server


@dataclass
class _LoginHandler(account_grpc.UserAuthenticationUserLoggedInServiceBase):
    received: list[account_pb2.UserLoggedIn] = field(default_factory=list)

    async def OnMessage(self, stream: Stream[account_pb2.UserLoggedIn, Empty]) -> None:
        request = await stream.recv_message()
        assert request is not None
        self.received.append(request)
        await stream.send_message(Empty())


@dataclass
class _StatHandler(statistic_grpc.StatisticStatItemUpdatedServiceBase):
    received: list[statistic_pb2.StatItemUpdated] = field(default_factory=list)

    async def OnMessage(self, stream: Stream[statistic_pb2.StatItemUpdated, Empty]) -> None:
        request = await stream.recv_message()
        assert request is not None
        self.received.append(request)
        await stream.send_message(Empty())


@dataclass
class _Running:
    port: int
    login: _LoginHandler
    stat: _StatHandler


@pytest.fixture
async def running_server() -> AsyncIterator[_Running]:
    login, stat = _LoginHandler(), _StatHandler()
    server = Server([login, stat])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # a free port, held by us until the server owns the socket
    await server.start(sock=sock)
    try:
        yield _Running(sock.getsockname()[1], login, stat)
    finally:
        server.close()
        await server.wait_closed()
        sock.close()


async def test_round_trip_with_generated_stubs(running_server: _Running) -> None:
    channel = Channel("127.0.0.1", running_server.port)
    try:
        login_reply = await account_grpc.UserAuthenticationUserLoggedInServiceStub(channel).OnMessage(
            login_message(), timeout=5
        )
        stat_reply = await statistic_grpc.StatisticStatItemUpdatedServiceStub(channel).OnMessage(
            stat_message(), timeout=5
        )
    finally:
        channel.close()

    assert login_reply == Empty()
    assert stat_reply == Empty()
    assert running_server.login.received == [login_message()]
    assert running_server.stat.received == [stat_message()]
    got_login = running_server.login.received[0]
    assert got_login.user_id == "u-1"
    assert got_login.payload.user_authentication.platform_id == "steam"
    got_stat = running_server.stat.received[0]
    assert got_stat.payload.stat_code == "kills"
    assert got_stat.payload.latest_value == 42.0
    assert got_stat.payload.additional_data["k"] == 2.5


async def test_round_trip_with_literal_paths_and_hand_bytes(running_server: _Running) -> None:
    channel = Channel("127.0.0.1", running_server.port, codec=RawCodec())
    try:
        login_reply = await UnaryUnaryMethod(channel, LOGIN_PATH, bytes, bytes)(LOGIN_BYTES, timeout=5)
        stat_reply = await UnaryUnaryMethod(channel, STAT_PATH, bytes, bytes)(STAT_BYTES, timeout=5)
    finally:
        channel.close()

    assert login_reply == b""  # google.protobuf.Empty
    assert stat_reply == b""
    assert running_server.login.received == [login_message()]
    assert running_server.stat.received == [stat_message()]

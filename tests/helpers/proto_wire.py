"""Protobuf by hand: the AGS events' bytes built from their field numbers and wire types alone.

Independent of the generated code on purpose, so a renumbered or retyped field shows as a difference.
"""

from __future__ import annotations

import struct
from typing import Any

from grpclib.client import Channel, UnaryUnaryMethod
from grpclib.encoding.base import CodecBase

LOGIN_PATH = "/accelbyte.iam.account.v1.UserAuthenticationUserLoggedInService/OnMessage"
STAT_PATH = "/accelbyte.social.statistic.v1.StatisticStatItemUpdatedService/OnMessage"

# ---------------------------------------------------------------------------------------------------
# Hand encoder (protobuf wire format): tag = field_number << 3 | wire_type.
VARINT, I64, LEN = 0, 1, 2


def varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64  # int64 negatives are 10-byte two's complement varints
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def f_str(number: int, value: str) -> bytes:
    raw = value.encode()
    return tag(number, LEN) + varint(len(raw)) + raw


def f_msg(number: int, body: bytes) -> bytes:
    return tag(number, LEN) + varint(len(body)) + body


def f_int(number: int, value: int) -> bytes:
    return tag(number, VARINT) + varint(value)


def f_bool(number: int, value: bool) -> bytes:
    return tag(number, VARINT) + varint(int(value))


def f_double(number: int, value: float) -> bytes:
    return tag(number, I64) + struct.pack("<d", value)


# ---------------------------------------------------------------------------------------------------
# Hand-built events, fields in ascending number order (the order protobuf serializes in).

LOGIN_BYTES = (
    f_msg(
        1,  # payload
        f_msg(
            1,  # user_account
            f_str(1, "u-1")  # user_id
            + f_str(2, "a@b.c")  # email_address
            + f_str(3, "alice")  # user_name
            + f_str(4, "ID")  # country
            + f_str(5, "game-ns")  # namespace
            + f_str(6, "steam")  # platform_id
            + f_str(7, "Alice"),  # display_name
        )
        + f_msg(
            2,  # user_authentication
            f_str(1, "steam")  # platform_id
            + f_bool(2, True)  # refresh
            + f_str(3, "7656")  # platform_user_id
            + f_str(4, "epic")  # simultaneous_platform_id
            + f_str(5, "e-9"),  # simultaneous_platform_user_id
        ),
    )
    + f_str(2, "evt-1")  # id
    + f_int(3, 1)  # version
    + f_str(4, "userLoggedIn")  # name
    + f_str(5, "game-ns")  # namespace
    + f_str(6, "studio")  # parent_namespace
    + f_str(7, "2024-01-01T00:00:00Z")  # timestamp
    + f_str(8, "client-1")  # client_id
    + f_str(9, "u-1")  # user_id
    + f_str(10, "trace-1")  # trace_id
    + f_str(11, "sess-1")  # session_id
)


# google.protobuf.Struct {fields=1 map<string, Value>}; Value {number_value=2 double}.
ADDITIONAL_DATA_BYTES = f_msg(1, f_str(1, "k") + f_msg(2, f_double(2, 2.5)))

STAT_BYTES = (
    f_msg(
        1,  # payload (StatItem)
        f_str(1, "game-ns")  # namespace
        + f_str(2, "kills")  # stat_code
        + f_str(3, "u-1")  # user_id
        + f_double(4, 42.0)  # latest_value
        + f_double(5, 3.0)  # inc
        + f_msg(6, ADDITIONAL_DATA_BYTES)  # additional_data
        + f_bool(7, True)  # ignore_additional_data_on_value_rejected
        + f_double(8, 0.5)  # default_value
        + f_double(9, 3.0)  # request_value
        + f_str(10, "INCREMENT"),  # update_strategy
    )
    + f_str(2, "evt-2")  # id
    + f_int(3, -7)  # version (int64, negative to pin the varint type)
    + f_str(4, "statItemUpdated")  # name
    + f_str(5, "game-ns")  # namespace
    + f_str(6, "studio")  # parent_namespace
    + f_str(7, "2024-01-01T00:00:01Z")  # timestamp
    + f_str(8, "client-1")  # client_id
    + f_str(9, "u-1")  # user_id
    + f_str(10, "sess-2")  # session_id
)


class RawCodec(CodecBase):
    """Sends/receives raw bytes: plays a foreign (AGS) client that only knows paths and bytes."""

    __content_subtype__ = "proto"

    def encode(self, message: Any, message_type: Any) -> bytes:
        assert isinstance(message, bytes)
        return message

    def decode(self, data: bytes, message_type: Any) -> bytes:
        return data


async def raw_call(port: int, path: str, body: bytes) -> bytes:
    """One unary call of `path` with `body` as the message; the reply's bytes."""
    channel = Channel("127.0.0.1", port, codec=RawCodec())
    try:
        reply: bytes = await UnaryUnaryMethod(channel, path, bytes, bytes)(body, timeout=10)
        return reply
    finally:
        channel.close()

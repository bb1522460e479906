"""Protobuf bytes built by hand from field numbers and wire types, independently of the generated
code, and a gRPC codec that sends and receives such bytes as they are: a foreign client that knows
only method paths and bytes."""

from __future__ import annotations

import struct
from typing import Any

from grpclib.client import Channel, UnaryUnaryMethod
from grpclib.encoding.base import CodecBase

# tag = field_number << 3 | wire_type.
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


class RawCodec(CodecBase):
    """Sends/receives raw bytes."""

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

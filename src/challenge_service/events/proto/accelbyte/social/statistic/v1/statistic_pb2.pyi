from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StatItem(_message.Message):
    __slots__ = ("namespace", "stat_code", "user_id", "latest_value", "inc", "additional_data", "ignore_additional_data_on_value_rejected", "default_value", "request_value", "update_strategy")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    STAT_CODE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    LATEST_VALUE_FIELD_NUMBER: _ClassVar[int]
    INC_FIELD_NUMBER: _ClassVar[int]
    ADDITIONAL_DATA_FIELD_NUMBER: _ClassVar[int]
    IGNORE_ADDITIONAL_DATA_ON_VALUE_REJECTED_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_VALUE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    stat_code: str
    user_id: str
    latest_value: float
    inc: float
    additional_data: _struct_pb2.Struct
    ignore_additional_data_on_value_rejected: bool
    default_value: float
    request_value: float
    update_strategy: str
    def __init__(self, namespace: _Optional[str] = ..., stat_code: _Optional[str] = ..., user_id: _Optional[str] = ..., latest_value: _Optional[float] = ..., inc: _Optional[float] = ..., additional_data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., ignore_additional_data_on_value_rejected: _Optional[bool] = ..., default_value: _Optional[float] = ..., request_value: _Optional[float] = ..., update_strategy: _Optional[str] = ...) -> None: ...

class StatItemUpdated(_message.Message):
    __slots__ = ("payload", "id", "version", "name", "namespace", "parent_namespace", "timestamp", "client_id", "user_id", "session_id")
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PARENT_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    payload: StatItem
    id: str
    version: int
    name: str
    namespace: str
    parent_namespace: str
    timestamp: str
    client_id: str
    user_id: str
    session_id: str
    def __init__(self, payload: _Optional[_Union[StatItem, _Mapping]] = ..., id: _Optional[str] = ..., version: _Optional[int] = ..., name: _Optional[str] = ..., namespace: _Optional[str] = ..., parent_namespace: _Optional[str] = ..., timestamp: _Optional[str] = ..., client_id: _Optional[str] = ..., user_id: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

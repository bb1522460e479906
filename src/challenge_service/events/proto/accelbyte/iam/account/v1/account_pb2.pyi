from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UserAccount(_message.Message):
    __slots__ = ("user_id", "email_address", "user_name", "country", "namespace", "platform_id", "display_name")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    email_address: str
    user_name: str
    country: str
    namespace: str
    platform_id: str
    display_name: str
    def __init__(self, user_id: _Optional[str] = ..., email_address: _Optional[str] = ..., user_name: _Optional[str] = ..., country: _Optional[str] = ..., namespace: _Optional[str] = ..., platform_id: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class UserAuthentication(_message.Message):
    __slots__ = ("platform_id", "refresh", "platform_user_id", "simultaneous_platform_id", "simultaneous_platform_user_id")
    PLATFORM_ID_FIELD_NUMBER: _ClassVar[int]
    REFRESH_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    SIMULTANEOUS_PLATFORM_ID_FIELD_NUMBER: _ClassVar[int]
    SIMULTANEOUS_PLATFORM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    platform_id: str
    refresh: bool
    platform_user_id: str
    simultaneous_platform_id: str
    simultaneous_platform_user_id: str
    def __init__(self, platform_id: _Optional[str] = ..., refresh: _Optional[bool] = ..., platform_user_id: _Optional[str] = ..., simultaneous_platform_id: _Optional[str] = ..., simultaneous_platform_user_id: _Optional[str] = ...) -> None: ...

class UserLoggedInPayload(_message.Message):
    __slots__ = ("user_account", "user_authentication")
    USER_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    USER_AUTHENTICATION_FIELD_NUMBER: _ClassVar[int]
    user_account: UserAccount
    user_authentication: UserAuthentication
    def __init__(self, user_account: _Optional[_Union[UserAccount, _Mapping]] = ..., user_authentication: _Optional[_Union[UserAuthentication, _Mapping]] = ...) -> None: ...

class UserLoggedIn(_message.Message):
    __slots__ = ("payload", "id", "version", "name", "namespace", "parent_namespace", "timestamp", "client_id", "user_id", "trace_id", "session_id")
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PARENT_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    payload: UserLoggedInPayload
    id: str
    version: int
    name: str
    namespace: str
    parent_namespace: str
    timestamp: str
    client_id: str
    user_id: str
    trace_id: str
    session_id: str
    def __init__(self, payload: _Optional[_Union[UserLoggedInPayload, _Mapping]] = ..., id: _Optional[str] = ..., version: _Optional[int] = ..., name: _Optional[str] = ..., namespace: _Optional[str] = ..., parent_namespace: _Optional[str] = ..., timestamp: _Optional[str] = ..., client_id: _Optional[str] = ..., user_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

"""A scriptable fake of AccelByte Gaming Services (IAM + Platform) on a real 127.0.0.1 socket.

Runs ``http.server`` in a daemon thread, so it is independent of the test's event loop and exercises the
real httpx transport (connection pooling, timeouts, dropped sockets) rather than a mock transport.

    with FakeAgs(namespace="accelbyte") as ags:     # or ags.start() … ags.stop()
        ags.base_url                                  # "http://127.0.0.1:<port>"
        ags.set_jwks([public_jwk, ...])               # served at /iam/v3/oauth/jwks
        ags.revoke_access_token(token)                # into the revocation list's Bloom filter
        ags.revoke_user("user-1", at=datetime)        # a revoked_users entry
        ags.fail("/platform/*", 500, times=2)         # next two matching requests answer 500
        ags.delay(JWKS_PATH, 0.2)                     # answer normally, 0.2 s late
        ags.hang("/platform/*")                       # never answer (until the server stops)
        ags.drop("/platform/*")                       # close the socket without answering
        ags.apply_then_drop("/platform/*")            # grant it, then close without answering
        ags.requests(path=..., method=...)            # everything the server saw, faults included
        ags.applied                                   # grants AGS applied, answered or not

Platform behaves as AGS documents it where the service relies on it: a fulfillment (v3, by transaction
id) is applied once per transaction id and a repeat answers the first result (a different payload for
the same id is refused with 38128); a wallet credit keeps its `reason` and `metadata` in the wallet's
history, which lists newest first and answers 404 (35141) for a wallet never credited.

Patterns are ``fnmatch`` globs over the raw (still percent-encoded) path. Faults queue in FIFO order:
each matching request consumes the oldest fault whose pattern (and method, when given) matches.

Like AGS IAM, the fake serves the JWKS and the revocation list only to callers presenting the client id
and secret with HTTP Basic, so every JWT-mode test proves the service sends them.
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import json
import secrets
import socket
import socketserver
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

import mmh3

JWKS_PATH = "/iam/v3/oauth/jwks"
REVOCATION_LIST_PATH = "/iam/v3/oauth/revocationlist"
TOKEN_PATH = "/iam/v3/oauth/token"
PLATFORM_PREFIX = "/platform/admin/namespaces/"
FULFILLMENT_PREFIX = "/platform/v3/admin/namespaces/"

# How long a "hang" holds a connection when the test forgets to stop the server; far past any client timeout.
DEFAULT_HANG_S = 30.0


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # raw, percent-encoded, without the query string
    query: str
    headers: Mapping[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode()))

    @property
    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[len("Bearer ") :] if value.startswith("Bearer ") else None


@dataclass
class _Fault:
    pattern: str
    method: str | None
    kind: Literal["status", "delay", "hang", "drop", "apply_then_drop"]
    remaining: int
    status: int = 500
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and (self.method is None or self.method == method)
            and fnmatch.fnmatchcase(path, self.pattern)
        )


class FakeAgs:
    """IAM (JWKS, client-credentials tokens) and Platform (entitlements, wallet credit) endpoints."""

    def __init__(
        self,
        *,
        namespace: str = "accelbyte",
        client_id: str = "test-client",
        client_secret: str = "test-secret",
        token_lifetime_s: int = 3600,
        bloom_bits: int = 1000,
        bloom_hashes: int = 7,
    ) -> None:
        self.namespace = namespace
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime_s = token_lifetime_s
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._jwks: list[dict[str, Any]] = []
        self._bloom = _RevokedTokens(bloom_bits, bloom_hashes)
        self._revoked_users: dict[str, str] = {}
        self._faults: list[_Fault] = []
        # Grants AGS actually applied (entitlements created, items fulfilled, wallets credited), answered
        # or not.
        self.applied: list[RecordedRequest] = []
        # (user, transaction id) → (the fulfilled items, the answer), for repeats of a transaction id.
        self._fulfillments: dict[tuple[str, str], tuple[Any, dict[str, Any]]] = {}
        # (user, currency) → wallet transactions, oldest first.
        self._wallet_history: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._requests: list[RecordedRequest] = []
        self._valid_tokens: set[str] = set()
        self.issued_tokens: list[str] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> FakeAgs:
        handler = type("_BoundHandler", (_Handler,), {"ags": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, name="fake-ags", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hung handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeAgs:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "FakeAgs is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def jwks_url(self) -> str:
        return self.base_url + JWKS_PATH

    # -- state -----------------------------------------------------------------------------------------

    def set_jwks(self, keys: list[dict[str, Any]]) -> None:
        with self._lock:
            self._jwks = list(keys)

    def revoke_access_token(self, token: str) -> None:
        """Add a player's access token to the revocation list's Bloom filter (a logout, say)."""
        with self._lock:
            self._bloom.add(token)

    def revoke_user(self, user_id: str, at: datetime) -> None:
        """Revoke every token of ``user_id`` issued at or before ``at`` (a ban); ``at`` must carry a zone."""
        with self._lock:
            self._revoked_users[user_id] = at.isoformat().replace("+00:00", "Z")

    def revoke_tokens(self) -> None:
        """Make every issued token invalid, as if IAM had rotated or revoked it: Platform answers 401."""
        with self._lock:
            self._valid_tokens.clear()

    def requests(self, path: str | None = None, method: str | None = None) -> list[RecordedRequest]:
        """Requests seen so far, optionally filtered by path glob and method."""
        with self._lock:
            return [
                r
                for r in self._requests
                if (path is None or fnmatch.fnmatchcase(r.path, path))
                and (method is None or r.method == method)
            ]

    def count(self, path: str | None = None, method: str | None = None) -> int:
        return len(self.requests(path, method))

    def reset(self) -> None:
        """Forget recorded requests and pending faults (keys and tokens stay)."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()

    # -- fault scripting -------------------------------------------------------------------------------

    def fail(
        self,
        path: str,
        status: int,
        *,
        times: int = 1,
        method: str | None = None,
        body: bytes | dict[str, Any] = b"",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (and optional body/headers)."""
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        self._add(_Fault(path, method, "status", times, status=status, body=raw, headers=dict(headers or {})))

    def delay(self, path: str, seconds: float, *, times: int = 1, method: str | None = None) -> None:
        """Answer the next ``times`` matching requests normally, but only after ``seconds``."""
        self._add(_Fault(path, method, "delay", times, seconds=seconds))

    def hang(
        self, path: str, *, times: int = 1, method: str | None = None, seconds: float = DEFAULT_HANG_S
    ) -> None:
        """Read the next ``times`` matching requests and never answer (until ``seconds`` or stop())."""
        self._add(_Fault(path, method, "hang", times, seconds=seconds))

    def drop(self, path: str, *, times: int = 1, method: str | None = None) -> None:
        """Close the connection of the next ``times`` matching requests without sending a response."""
        self._add(_Fault(path, method, "drop", times))

    def apply_then_drop(self, path: str, *, times: int = 1, method: str | None = None) -> None:
        """Apply the next ``times`` matching grants, then close the connection without answering: the
        reward was granted but the caller never hears so."""
        self._add(_Fault(path, method, "apply_then_drop", times))

    def _add(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    # -- used by the handler thread --------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> _Fault | None:
        with self._lock:
            self._requests.append(request)
            for fault in self._faults:
                if fault.matches(request.method, request.path):
                    fault.remaining -= 1
                    return fault
            return None

    def _route(self, request: RecordedRequest) -> tuple[int, Any]:
        if request.path in (JWKS_PATH, REVOCATION_LIST_PATH) and request.method == "GET":
            if not self._client_authenticated(request):
                return 401, {"errorCode": 20001, "errorMessage": "unauthorized access"}
            with self._lock:
                if request.path == JWKS_PATH:
                    return 200, {"keys": self._jwks}
                users = [{"id": user, "revoked_at": at} for user, at in self._revoked_users.items()]
                return 200, {"revoked_tokens": self._bloom.json(), "revoked_users": users}
        if request.path == TOKEN_PATH and request.method == "POST":
            return self._issue_token(request)
        if request.path.startswith((PLATFORM_PREFIX, FULFILLMENT_PREFIX)):
            return self._platform(request)
        return 404, {"errorCode": 404, "errorMessage": f"no route {request.method} {request.path}"}

    def _client_authenticated(self, request: RecordedRequest) -> bool:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    def _issue_token(self, request: RecordedRequest) -> tuple[int, Any]:
        if not self._client_authenticated(request):
            return 401, {"error": "invalid_client", "error_description": "client authentication failed"}
        if request.form().get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        token = "fake-" + secrets.token_urlsafe(16)
        with self._lock:
            self._valid_tokens.add(token)
            self.issued_tokens.append(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime_s}

    def _apply(self, request: RecordedRequest) -> None:
        with self._lock:
            self.applied.append(request)

    def _platform(self, request: RecordedRequest) -> tuple[int, Any]:
        with self._lock:
            authorized = request.bearer in self._valid_tokens
        if not authorized:
            return 401, {"errorCode": 20001, "errorMessage": "unauthorized access"}
        if request.path.startswith(FULFILLMENT_PREFIX):
            return self._fulfillment(request)
        segments = request.path[len(PLATFORM_PREFIX) :].split("/")
        # <ns>/users/<user>/wallets/currencies/<currency>/transactions
        if (
            len(segments) == 7
            and segments[3:5] == ["wallets", "currencies"]
            and segments[6] == "transactions"
        ):
            return self._wallet_transactions(request, segments[2], segments[5])
        try:
            body = request.json()
        except ValueError:
            return 400, {"errorCode": 20002, "errorMessage": "validation error: body is not JSON"}
        # <ns>/users/<user>/entitlements  |  <ns>/users/<user>/wallets/<currency>/credit
        if len(segments) == 4 and segments[1] == "users" and segments[3] == "entitlements":
            if request.method != "POST":
                return 405, {"errorCode": 405, "errorMessage": "method not allowed"}
            self._apply(request)
            return 201, [{"id": secrets.token_hex(8), "userId": segments[2], **grant} for grant in body]
        is_user = len(segments) >= 4 and segments[1] == "users"
        if is_user and len(segments) == 6 and segments[3] == "wallets" and segments[5] == "credit":
            if request.method != "PUT":
                return 405, {"errorCode": 405, "errorMessage": "method not allowed"}
            with self._lock:
                self.applied.append(request)
                history = self._wallet_history.setdefault((segments[2], segments[4]), [])
                history.append(
                    {
                        "amount": body.get("amount"),
                        "createdAt": datetime.now(UTC)
                        .isoformat(timespec="milliseconds")
                        .replace("+00:00", "Z"),
                        "currencyCode": segments[4],
                        "userId": segments[2],
                        "walletAction": "CREDIT",
                        "reason": body.get("reason", ""),
                        **({"metadata": body["metadata"]} if "metadata" in body else {}),
                    }
                )
                balance = sum(entry["amount"] for entry in history)
            return 200, {"userId": segments[2], "currencyCode": segments[4], "balance": balance}
        return 404, {"errorCode": 404, "errorMessage": f"no route {request.method} {request.path}"}

    def _fulfillment(self, request: RecordedRequest) -> tuple[int, Any]:
        # <ns>/users/<user>/fulfillments/<transactionId>
        segments = request.path[len(FULFILLMENT_PREFIX) :].split("/")
        if len(segments) != 5 or segments[1] != "users" or segments[3] != "fulfillments":
            return 404, {"errorCode": 404, "errorMessage": f"no route {request.method} {request.path}"}
        if request.method != "PUT":
            return 405, {"errorCode": 405, "errorMessage": "method not allowed"}
        user_id, transaction_id = segments[2], segments[4]
        try:
            items = request.json()["items"]
        except (ValueError, KeyError, TypeError):
            return 400, {"errorCode": 20002, "errorMessage": "validation error: no items"}
        with self._lock:
            earlier = self._fulfillments.get((user_id, transaction_id))
            if earlier is not None:
                if earlier[0] != items:
                    return 400, {
                        "errorCode": 38128,
                        "errorMessage": "Cannot retry fulfillment with different payload.",
                    }
                return 200, earlier[1]
            result = {
                "transactionId": transaction_id,
                "userId": user_id,
                "namespace": self.namespace,
                "state": "FULFILLED",
                "stateInfo": {"successList": [], "failedList": []},
                "items": items,
            }
            self._fulfillments[(user_id, transaction_id)] = (items, result)
            self.applied.append(request)
        return 200, result

    def _wallet_transactions(self, request: RecordedRequest, user_id: str, currency: str) -> tuple[int, Any]:
        if request.method != "GET":
            return 405, {"errorCode": 405, "errorMessage": "method not allowed"}
        query = dict(urllib.parse.parse_qsl(request.query))
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 20))
        with self._lock:
            history = self._wallet_history.get((user_id, currency))
            if history is None:
                return 404, {"errorCode": 35141, "errorMessage": f"Wallet [{currency}] does not exist"}
            newest_first = list(reversed(history))
        return 200, {"data": newest_first[offset : offset + limit], "paging": {}}


class _RevokedTokens:
    """A real Bloom filter as IAM builds it (the service reads it with its own code): MurmurHash3 x64 128 of
    the whole token, bit ((h1 + i·h2) mod 2⁶⁴ & (2⁶³ − 1)) mod m for i < k, words of 64 bits."""

    def __init__(self, m: int, k: int) -> None:
        self.m, self.k = m, k
        self._bits = 0  # bit j of this integer is bit j of the filter

    def add(self, token: str) -> None:
        digest = mmh3.hash128(token, signed=False)
        low, high = digest & (2**64 - 1), digest >> 64
        for i in range(self.k):
            self._bits |= 1 << ((low + i * high) % 2**64 % 2**63 % self.m)

    def json(self) -> dict[str, Any]:
        words = [(self._bits >> (64 * w)) & (2**64 - 1) for w in range((self.m + 63) // 64)]
        return {"bits": words, "k": self.k, "m": self.m}


class _Server(ThreadingHTTPServer):
    # The stdlib default backlog of 5 drops SYNs when a test opens a burst of connections, and the client
    # then waits a full second to retransmit.
    request_queue_size = 128

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN (a DNS lookup per test); the name is never used.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like AGS, so client connection reuse is exercised
    # Headers and body go out in separate writes; with Nagle on, delayed ACKs add ~40 ms to every response.
    disable_nagle_algorithm = True
    ags: FakeAgs

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:  # silence per-request stderr lines
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        request = RecordedRequest(
            method=self.command,
            path=path,
            query=query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        fault = self.ags._record(request)
        if fault is not None and fault.kind == "drop":
            self._drop()
            return
        if fault is not None and fault.kind == "hang":
            self.ags._stopping.wait(fault.seconds)
            self._drop()
            return
        if fault is not None and fault.kind == "delay" and self.ags._stopping.wait(fault.seconds):
            self._drop()
            return
        if fault is not None and fault.kind == "status":
            self._send(fault.status, fault.body, fault.headers)
            return
        status, payload = self.ags._route(request)
        if fault is not None and fault.kind == "apply_then_drop":
            self._drop()
            return
        self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})

    def _send(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        self.close_connection = True
        # The client may already have given up and closed its end.
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def unused_local_url() -> str:
    """A URL on 127.0.0.1 where nothing listens, for connection-refused tests."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"

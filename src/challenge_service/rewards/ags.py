"""Rewards granted through the AGS Platform service (``REWARD_CLIENT_MODE=real``).

ITEM   → PUT  /platform/v3/admin/namespaces/{ns}/users/{userId}/fulfillments/{transactionId}
         (``item_grant="fulfillment"``, the default): the transaction id is the ledger row's grant id, and
         AGS fulfils a transaction id once, so repeating the request is safe.
       → POST /platform/admin/namespaces/{ns}/users/{userId}/entitlements (``item_grant="entitlement"``,
         for AGS Shared Cloud, where the fulfillment-by-transaction endpoints are not offered): not
         idempotent, and entitlements keep no mark a later lookup could find.
WALLET → PUT  /platform/admin/namespaces/{ns}/users/{userId}/wallets/{currencyCode}/credit, with the grant
         id in the credit's ``reason`` and ``metadata``, which AGS keeps in the wallet's history:
         GET  /platform/admin/namespaces/{ns}/users/{userId}/wallets/currencies/{currencyCode}/transactions
         finds it again (``settle``).

Retry policy: 408, 429, 5xx, connection errors and timeouts are retried with back-off (default 0.5 s, 1 s,
2 s; 4 attempts) inside one total time budget; each attempt's timeout shrinks to what is left of it, so a
claim never waits longer than ``budget_s``. Any other 4xx fails at once. A retry after an attempt whose
outcome is unknown could grant twice, so such an attempt (sent, then a timeout, a dropped connection or a
504) is not retried here: it is reported as ``RewardGrantError.in_doubt`` for the ledger, whose
reconciler calls ``settle`` later (docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import msgspec
import structlog

from challenge_service.rewards.base import RewardGrantError, RewardLike, RewardSpec, Settled, to_spec
from challenge_service.rewards.iam_token import ClientCredentialsToken, TokenUnavailable
from challenge_service.settings import ItemGrant

log = structlog.get_logger(__name__)

RETRYABLE_STATUSES = frozenset({408, 429})  # plus every 5xx
MAX_ERROR_BODY = 200  # characters of an AGS error body kept in messages/logs

# The metadata key (and reason prefix) that marks a wallet credit with its grant id.
GRANT_MARK = "challengeGrantId"
# Wallet history is read newest first, a page at a time, back to the first attempt; a player with more
# credits and debits than this since then is left for a later try or an operator.
HISTORY_PAGE = 100
MAX_HISTORY_PAGES = 20
# AGS's clock and the database's may disagree: look this much further back than the first attempt.
CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class _Request:
    method: str
    url: str
    body: bytes
    # A fulfillment answers with a result whose `state` says whether the items were granted.
    fulfillment: bool = False


class _Fulfillment(msgspec.Struct, rename="camel"):
    state: str = ""
    state_reason: str = ""


class _WalletTransaction(msgspec.Struct, rename="camel"):
    created_at: str = ""
    reason: str = ""
    metadata: dict[str, Any] = {}

    def marks(self, grant_id: str) -> bool:
        return self.metadata.get(GRANT_MARK) == grant_id or self.reason == f"{GRANT_MARK}:{grant_id}"

    def created_before(self, moment: datetime) -> bool:
        try:
            created = datetime.fromisoformat(self.created_at)
        except ValueError:
            return False  # unreadable: keep looking rather than stop early
        return created.tzinfo is not None and created < moment


class _TransactionPage(msgspec.Struct):
    data: list[_WalletTransaction]


@dataclass  # not frozen: raising an exception sets __traceback__/__context__ on it
class _AttemptFailed(Exception):
    reason: str
    retryable: bool
    in_doubt: bool  # the grant request may have reached AGS
    status: int | None = None
    retry_after_s: float | None = None


class AgsRewardClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        namespace: str,
        http: httpx.AsyncClient,
        *,
        backoff: Sequence[float] = (0.5, 1.0, 2.0),
        attempts: int = 4,
        budget_s: float = 10.0,
        attempt_timeout_s: float | None = None,
        item_grant: ItemGrant = "fulfillment",
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if attempts < 1 or not backoff or budget_s <= 0:
            raise ValueError("attempts >= 1, a non-empty backoff and budget_s > 0 are required")
        self._base_url = base_url.rstrip("/")
        self._namespace = namespace
        self._http = http
        self._backoff = tuple(backoff)
        self._attempts = attempts
        self._budget_s = budget_s
        # Default: one attempt may use the whole remaining budget. Lower it so a hung connection leaves
        # time for another try.
        self._attempt_timeout_s = attempt_timeout_s if attempt_timeout_s is not None else budget_s
        self._item_grant = item_grant
        self._sleep = sleep
        self._clock = clock
        self._tokens = ClientCredentialsToken(base_url, client_id, client_secret, http, clock=clock)

    async def grant(self, user_id: str, reward: RewardLike, grant_id: str) -> None:
        spec = to_spec(reward)
        request = self._request_for(user_id, spec, grant_id)
        context = {
            "user_id": user_id,
            "reward_type": spec.type,
            "reward_id": spec.reward_id,
            "grant_id": grant_id,
        }
        deadline = self._clock() + self._budget_s
        in_doubt = False
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._attempt(
                    request, min(self._attempt_timeout_s, deadline - self._clock())
                )
                _check_fulfilled(request, response)
            except _AttemptFailed as failure:
                in_doubt = in_doubt or failure.in_doubt
                # Never retry an attempt that may have been applied: a second request could grant twice.
                # The claim ledger keeps such a grant in doubt for the reconciler instead.
                delay_s = None if in_doubt else self._delay_before_next(attempt, failure, deadline)
                if delay_s is None:
                    log.error("reward_grant_failed", **context, attempts=attempt, reason=failure.reason)
                    raise RewardGrantError(
                        f"{spec.type} grant failed after {attempt} attempt(s): {failure.reason}",
                        retryable=failure.retryable,
                        in_doubt=in_doubt,
                        status=failure.status,
                    ) from None
                log.warning(
                    "reward_grant_retry", **context, attempt=attempt, reason=failure.reason, delay_s=delay_s
                )
                await self._sleep(delay_s)
                continue
            log.info("reward_granted", **context, quantity=spec.quantity, attempts=attempt)
            return

    async def settle(self, user_id: str, reward: RewardLike, grant_id: str, since: datetime) -> Settled:
        spec = to_spec(reward)
        if spec.type == "ITEM":
            if self._item_grant == "entitlement":
                raise RewardGrantError(
                    "an entitlement grant cannot be looked up in AGS; check the player's entitlements and "
                    "resolve the grant by hand",
                    retryable=False,
                    in_doubt=True,
                )
            await self.grant(user_id, spec, grant_id)  # AGS fulfils a transaction id once
            return "sent"
        if await self._credited(user_id, spec, grant_id, since):
            log.info("reward_grant_found", user_id=user_id, reward_id=spec.reward_id, grant_id=grant_id)
            return "found"
        await self.grant(user_id, spec, grant_id)
        return "sent"

    async def _credited(self, user_id: str, spec: RewardSpec, grant_id: str, since: datetime) -> bool:
        """Whether the wallet's history since `since` holds a credit marked with `grant_id`."""
        url = f"{self._user_path(user_id)}/wallets/currencies/{_seg(spec.reward_id)}/transactions"
        oldest_wanted = since - CLOCK_SKEW
        for page in range(MAX_HISTORY_PAGES):
            request = _Request("GET", f"{url}?offset={page * HISTORY_PAGE}&limit={HISTORY_PAGE}", b"")
            try:
                response = await self._attempt(request, self._attempt_timeout_s)
            except _AttemptFailed as failure:
                if failure.status == 404:  # the player has no wallet of this currency: never credited
                    return False
                raise RewardGrantError(
                    f"cannot read the wallet history: {failure.reason}",
                    retryable=failure.retryable,
                    in_doubt=True,
                    status=failure.status,
                ) from None
            try:
                transactions = msgspec.json.decode(response.content, type=_TransactionPage).data
            except msgspec.MsgspecError:
                raise RewardGrantError(
                    "the wallet history is not valid JSON", retryable=True, in_doubt=True
                ) from None
            if any(transaction.marks(grant_id) for transaction in transactions):
                return True
            if len(transactions) < HISTORY_PAGE or transactions[-1].created_before(oldest_wanted):
                return False
        raise RewardGrantError(
            f"the wallet history since {since.isoformat()} is longer than {MAX_HISTORY_PAGES * HISTORY_PAGE} "
            "entries; check it and resolve the grant by hand",
            retryable=False,
            in_doubt=True,
        )

    def _delay_before_next(self, attempt: int, failure: _AttemptFailed, deadline: float) -> float | None:
        """Back-off before the next attempt, or None when giving up is the better answer."""
        if not failure.retryable or attempt >= self._attempts:
            return None
        delay_s = self._backoff[min(attempt, len(self._backoff)) - 1]
        if failure.retry_after_s is not None:
            delay_s = max(delay_s, failure.retry_after_s)
        # An attempt that would start with (almost) no budget left can only time out.
        if self._clock() + delay_s >= deadline:
            return None
        return delay_s

    async def _attempt(self, request: _Request, timeout_s: float) -> httpx.Response:
        if timeout_s <= 0:  # a real sleep overshot the last bit of the budget
            raise _AttemptFailed("time budget exhausted", True, in_doubt=False)
        sent = False  # once the grant request is on the wire, an unanswered attempt is in doubt
        try:
            # httpx timeouts bound each phase (connect, read, …); this bounds the attempt as a whole,
            # token fetch included, so a slow-dripping server cannot stretch the budget.
            async with asyncio.timeout(timeout_s):
                token = await self._tokens.get(timeout_s)
                sent = True
                response = await self._send(request, token, timeout_s)
                if response.status_code == 401:
                    # Revoked or rotated before its expiry: renew once, then trust the answer.
                    sent = False  # refused, so nothing was granted yet
                    self._tokens.invalidate(token)
                    token = await self._tokens.get(timeout_s)
                    sent = True
                    response = await self._send(request, token, timeout_s)
        except TokenUnavailable as exc:
            raise _AttemptFailed(exc.message, exc.retryable, in_doubt=False, status=exc.status) from None
        except TimeoutError:
            raise _AttemptFailed(f"timed out after {timeout_s:.2f} s", True, in_doubt=sent) from None
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Never reached AGS (for this request): safe to retry.
            raise _AttemptFailed(f"cannot connect: {_describe(exc)}", True, in_doubt=False) from None
        except httpx.TransportError as exc:
            raise _AttemptFailed(f"transport error: {_describe(exc)}", True, in_doubt=sent) from None
        # Fulfillment v2 documents a 409 carrying the result of an earlier request with the same
        # transaction id; v3 may answer so too. A result that says FULFILLED is a success.
        if request.fulfillment and response.status_code == 409 and _fulfilled(response):
            return response
        _check(response)
        return response

    async def _send(self, request: _Request, token: str, timeout_s: float) -> httpx.Response:
        return await self._http.request(
            request.method,
            request.url,
            content=request.body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=timeout_s,
        )

    def _user_path(self, user_id: str, *, version: str = "") -> str:
        namespace = _seg(self._namespace)
        return f"{self._base_url}/platform{version}/admin/namespaces/{namespace}/users/{_seg(user_id)}"

    def _request_for(self, user_id: str, spec: RewardSpec, grant_id: str) -> _Request:
        if not user_id:
            raise RewardGrantError("user id is empty", retryable=False)
        if spec.type == "ITEM" and self._item_grant == "entitlement":
            grants = [{"itemId": spec.reward_id, "itemNamespace": self._namespace, "quantity": spec.quantity}]
            return _Request("POST", f"{self._user_path(user_id)}/entitlements", msgspec.json.encode(grants))
        mark = {GRANT_MARK: grant_id}
        if spec.type == "ITEM":
            item = {"itemId": spec.reward_id, "quantity": spec.quantity, "source": "REWARD", "metadata": mark}
            return _Request(
                "PUT",
                f"{self._user_path(user_id, version='/v3')}/fulfillments/{_seg(grant_id)}",
                msgspec.json.encode({"items": [item]}),
                fulfillment=True,
            )
        # REWARD labels the credit in the wallet's history; the reason (at most 127 characters in AGS)
        # and the metadata both carry the grant id, for operators and for `settle`.
        credit = {
            "amount": spec.quantity,
            "source": "REWARD",
            "reason": f"{GRANT_MARK}:{grant_id}",
            "metadata": mark,
        }
        return _Request(
            "PUT",
            f"{self._user_path(user_id)}/wallets/{_seg(spec.reward_id)}/credit",
            msgspec.json.encode(credit),
        )


def _check(response: httpx.Response) -> None:
    status = response.status_code
    if response.is_success:
        return
    detail = f"HTTP {status}: {response.text[:MAX_ERROR_BODY]}"
    if status in RETRYABLE_STATUSES or status >= 500:
        # AGS answering 5xx says the grant failed, so a retry is safe; only a gateway timeout (504) leaves
        # open whether AGS applied it behind the gateway. 408/429 were not processed.
        raise _AttemptFailed(
            detail, True, in_doubt=status == 504, status=status, retry_after_s=_retry_after(response)
        )
    raise _AttemptFailed(detail, False, in_doubt=False, status=status)


def _fulfilled(response: httpx.Response) -> bool:
    try:
        return msgspec.json.decode(response.content, type=_Fulfillment).state == "FULFILLED"
    except msgspec.MsgspecError:
        return False


def _check_fulfilled(request: _Request, response: httpx.Response) -> None:
    """A fulfillment answered: only the state FULFILLED means the items were granted."""
    if not request.fulfillment or _fulfilled(response):
        return
    try:
        result = msgspec.json.decode(response.content, type=_Fulfillment)
    except msgspec.MsgspecError:
        # AGS answered, so the request arrived; what it did is not readable.
        raise _AttemptFailed("fulfillment answer is not valid JSON", True, in_doubt=True) from None
    # FULFILL_FAILED: nothing was granted; the same transaction id may be tried again.
    reason = f"fulfillment {result.state or 'without a state'}: {result.state_reason[:MAX_ERROR_BODY]}"
    raise _AttemptFailed(reason, True, in_doubt=False, status=response.status_code)


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds; the HTTP-date form is ignored (AGS sends seconds)."""
    try:
        value = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


def _seg(value: str) -> str:
    """One URL path segment: '/', '?', '#', '%' and the like must not change the route."""
    return quote(value, safe="")


def _describe(exc: httpx.TransportError) -> str:
    return str(exc) or type(exc).__name__

"""`DELETE /v1/users/me/data`: erase the authenticated player's data (GDPR right to erasure)."""

from __future__ import annotations

import structlog
from litestar import delete

from challenge_service.api.deps import AnyRequest, current_user, services
from challenge_service.api.wire import UserDataDeleted
from challenge_service.store.assignments import lock_user
from challenge_service.store.database import connection
from challenge_service.store.retention import delete_user_data

log = structlog.get_logger(__name__)


@delete(
    "/v1/users/me/data",
    status_code=200,
    summary="Delete the player's progress and reward-ledger rows (GDPR erasure)",
)
async def delete_my_data(request: AnyRequest) -> UserDataDeleted:
    user_id = await current_user(request)
    async with connection(services(request).pool) as conn, conn.transaction():
        # The player's REST write lock: a concurrent initialize/select cannot re-create a row halfway.
        await lock_user(conn, user_id)
        goals, grants = await delete_user_data(conn, user_id)
    log.info("user data deleted", user_id=user_id, goals=goals, grants=grants)
    return UserDataDeleted(user_id=user_id, deleted_goals=goals, deleted_grants=grants)

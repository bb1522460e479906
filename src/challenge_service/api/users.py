"""`DELETE /v1/users/me/data`: erase the authenticated player's data (GDPR right to erasure)."""

from __future__ import annotations

from litestar import delete

from challenge_service.api.deps import AnyRequest, current_user, services
from challenge_service.api.openapi import AUTH, DATABASE, PLAYER_DATA, errors
from challenge_service.api.wire import UserDataDeleted
from challenge_service.user_data import erase


@delete(
    "/v1/users/me/data",
    status_code=200,
    operation_id="deleteMyData",
    tags=[PLAYER_DATA],
    summary="Delete the player's progress and reward-ledger rows (GDPR erasure)",
    responses=errors(*AUTH, *DATABASE),
)
async def delete_my_data(request: AnyRequest) -> UserDataDeleted:
    user_id = await current_user(request)
    erased = await erase(services(request).pool, user_id)
    return UserDataDeleted(user_id=user_id, deleted_goals=erased.goals, deleted_grants=erased.grants)

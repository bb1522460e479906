"""The player's own data: `GET /v1/users/me/data` hands it over (data access), `DELETE` erases it (GDPR
right to erasure)."""

from __future__ import annotations

from litestar import delete, get

from challenge_service.api.admin_wire import UserDataExport, user_data_export
from challenge_service.api.deps import AnyRequest, current_user, services
from challenge_service.api.openapi import AUTH, DATABASE, PLAYER_DATA, errors
from challenge_service.api.wire import UserDataDeleted
from challenge_service.user_data import erase, export


@get(
    "/v1/users/me/data",
    operation_id="getMyData",
    tags=[PLAYER_DATA],
    summary="Everything stored about the player (data access)",
    description="The player's progress rows and reward-ledger entries as stored, and the audit entries "
    "about them (without the operator's name). The counterpart of the erasure below.",
    responses=errors(*AUTH, *DATABASE),
)
async def get_my_data(request: AnyRequest) -> UserDataExport:
    user_id = await current_user(request)
    return user_data_export(user_id, await export(services(request).pool, user_id))


@delete(
    "/v1/users/me/data",
    status_code=200,
    operation_id="deleteMyData",
    tags=[PLAYER_DATA],
    summary="Delete the player's progress and reward-ledger rows (GDPR erasure)",
    description="The audit entries about the player are kept without what they say about the player "
    '(`userId` becomes `""`, the rows before and after `null`): who changed what stays accountable.',
    responses=errors(*AUTH, *DATABASE),
)
async def delete_my_data(request: AnyRequest) -> UserDataDeleted:
    user_id = await current_user(request)
    erased = await erase(services(request).pool, user_id)
    return UserDataDeleted(
        user_id=user_id,
        deleted_goals=erased.goals,
        deleted_grants=erased.grants,
        anonymised_audit_entries=erased.audit_entries,
    )

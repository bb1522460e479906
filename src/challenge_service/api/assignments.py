"""Which goals a player has: initialize and set-active (SPEC §5)."""

from __future__ import annotations

from datetime import datetime

from litestar import post, put
from litestar.params import FromPath

from challenge_service.api.body import parse_body
from challenge_service.api.deps import AnyRequest, current_user, services
from challenge_service.api.wire import ActiveSet, Initialized, assigned_goal, timestamp
from challenge_service.catalog import Catalog
from challenge_service.rules import selection
from challenge_service.rules.progress import Progress, view
from challenge_service.store.assignments import insert_rows, lock_rows, update_rows, user_transaction
from challenge_service.store.database import connection
from challenge_service.store.progress import user_rows


def initialized(catalog: Catalog, rows: dict[str, Progress], now: datetime, inserted: int) -> Initialized:
    # Catalog order; `view` shows a due reset even on the read-only path (SPEC §7).
    active = []
    for goal in catalog.goals:
        row = rows.get(goal.goal_id)
        if row is not None and row.is_active:
            active.append(assigned_goal(goal, view(goal, row, now)))
    return Initialized(assigned_goals=active, new_assignments=inserted, total_active=len(active))


@post("/v1/challenges/initialize", status_code=200, summary="Assign default goals; apply due resets")
async def initialize(request: AnyRequest) -> Initialized:
    svc = services(request)
    user_id = await current_user(request)
    parse_body(await request.body())  # validated, nothing to read: `{}`
    catalog = svc.catalog
    now = svc.clock()
    # The usual repeat call has nothing to write: one read, no transaction.
    async with connection(svc.pool) as conn:
        rows = await user_rows(conn, user_id)
    if not selection.needs_initialize(catalog, rows, now):
        return initialized(catalog, rows, now, 0)

    async with user_transaction(svc.pool, user_id) as conn:
        rows = await lock_rows(conn, user_id)
        changes = selection.initialize(catalog, rows, now)
        inserted = await insert_rows(conn, user_id, with_challenge(catalog, changes.created), now)
        await update_rows(conn, user_id, with_challenge(catalog, changes.updated), now)
    return initialized(catalog, changes.merged(rows), now, len(inserted))


def with_challenge(catalog: Catalog, rows: dict[str, Progress]) -> dict[str, tuple[str, Progress]]:
    result = {}
    for goal_id, row in rows.items():
        goal = catalog.goal(goal_id)
        result[goal_id] = (goal.challenge_id if goal else "", row)
    return result


@put(
    "/v1/challenges/{challenge_id:str}/goals/{goal_id:str}/active",
    summary="Activate or deactivate one goal",
)
async def set_active(request: AnyRequest, challenge_id: FromPath[str], goal_id: FromPath[str]) -> ActiveSet:
    svc = services(request)
    user_id = await current_user(request)
    catalog = svc.catalog  # one catalog for the whole request, even if a reload swaps it meanwhile
    goal = catalog.require_goal(challenge_id, goal_id)
    is_active = parse_body(await request.body()).boolean("is_active")
    now = svc.clock()
    async with user_transaction(svc.pool, user_id) as conn:
        rows = await lock_rows(conn, user_id, [goal_id])
        changes = selection.set_active(goal, rows.get(goal_id), is_active, now)
        await insert_rows(conn, user_id, with_challenge(catalog, changes.created), now)
        await update_rows(conn, user_id, with_challenge(catalog, changes.updated), now)
    row = changes.merged(rows)[goal_id]
    return ActiveSet(
        challenge_id=challenge_id,
        goal_id=goal_id,
        is_active=row.is_active,
        assigned_at=timestamp(row.assigned_at),
        message="Goal activated successfully" if is_active else "Goal deactivated successfully",
    )

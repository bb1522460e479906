"""Choosing goals in one challenge: batch-select and random-select (SPEC §5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from litestar import post
from litestar.params import FromPath

from challenge_service.api.assignments import with_challenge
from challenge_service.api.body import parse_body
from challenge_service.api.deps import AnyRequest, current_user, services
from challenge_service.api.wire import GoalSelection, selected_goal
from challenge_service.catalog import Catalog, Challenge, Goal
from challenge_service.errors import DomainError, ErrorCode
from challenge_service.rules import selection
from challenge_service.rules.progress import Progress
from challenge_service.store.assignments import (
    AnyConnection,
    insert_rows,
    lock_rows,
    update_rows,
    user_transaction,
)


def insufficient_goals(available: int, requested: int) -> DomainError:
    return DomainError(
        ErrorCode.INSUFFICIENT_GOALS,
        "INSUFFICIENT_GOALS: no goals available for selection "
        f"(available: {available}, requested: {requested})",
    )


@post(
    "/v1/challenges/{challenge_id:str}/goals/batch-select",
    status_code=200,
    summary="Activate chosen goals of a challenge",
)
async def batch_select(request: AnyRequest, challenge_id: FromPath[str]) -> GoalSelection:
    svc = services(request)
    user_id = await current_user(request)
    catalog = svc.catalog  # one catalog for the whole request, even if a reload swaps it meanwhile
    challenge = catalog.require_challenge(challenge_id)
    body = parse_body(await request.body())
    goal_ids = body.id_list("goal_ids")
    replace_existing = body.boolean("replace_existing", default=False)
    chosen = [catalog.require_goal(challenge_id, goal_id) for goal_id in goal_ids]
    now = svc.clock()
    async with user_transaction(svc.pool, user_id) as conn:
        rows = await lock_rows(conn, user_id, [g.goal_id for g in challenge.goals])
        result = await _select(conn, user_id, catalog, challenge, chosen, rows, now, replace_existing)
    return _response(challenge, chosen, result, rows, now)


@post(
    "/v1/challenges/{challenge_id:str}/goals/random-select",
    status_code=200,
    summary="Activate randomly chosen available goals of a challenge",
)
async def random_select(request: AnyRequest, challenge_id: FromPath[str]) -> GoalSelection:
    svc = services(request)
    user_id = await current_user(request)
    catalog = svc.catalog  # one catalog for the whole request, even if a reload swaps it meanwhile
    challenge = catalog.require_challenge(challenge_id)
    body = parse_body(await request.body())
    count = body.positive_int("count")
    replace_existing = body.boolean("replace_existing", default=False)
    exclude_active = body.boolean("exclude_active", default=False)
    now = svc.clock()
    # Prerequisites may live in other challenges; their rows are read (and locked) with the challenge's.
    wanted = {g.goal_id for g in challenge.goals} | selection.prerequisite_ids(challenge.goals)
    async with user_transaction(svc.pool, user_id) as conn:
        rows = await lock_rows(conn, user_id, wanted)
        # Replacing deactivates the active goals, so picking them again would be no choice at all.
        pool = selection.random_pool(
            catalog, challenge, rows, now, exclude_active=exclude_active or replace_existing
        )
        if not pool:
            raise insufficient_goals(0, count)
        chosen = selection.sample(pool, count, svc.rng)
        result = await _select(conn, user_id, catalog, challenge, chosen, rows, now, replace_existing)
    return _response(challenge, chosen, result, rows, now)


async def _select(
    conn: AnyConnection,
    user_id: str,
    catalog: Catalog,
    challenge: Challenge,
    chosen: Sequence[Goal],
    rows: dict[str, Progress],
    now: datetime,
    replace_existing: bool,
) -> selection.Selection:
    """The step both selections share: decide with the pure rules, then write what changed."""
    result = selection.select(challenge, chosen, rows, now, replace_existing)
    await insert_rows(conn, user_id, with_challenge(catalog, result.changes.created), now)
    await update_rows(conn, user_id, with_challenge(catalog, result.changes.updated), now)
    return result


def _response(
    challenge: Challenge,
    chosen: Sequence[Goal],
    result: selection.Selection,
    rows: dict[str, Progress],
    now: datetime,
) -> GoalSelection:
    after = result.changes.merged(rows)
    return GoalSelection(
        selected_goals=[selected_goal(goal, after[goal.goal_id], now) for goal in chosen],
        challenge_id=challenge.challenge_id,
        total_active_goals=result.total_active,
        replaced_goals=result.replaced,
    )

"""`create_app()`: the Litestar application, every route under `BASE_PATH`."""

from __future__ import annotations

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from challenge_service.api import admin, assignments, challenges, health, rotation, selection, users
from challenge_service.api.claims import claim_goal
from challenge_service.api.deps import Services
from challenge_service.api.errors import handle_exception

# Bodies of this API are a few hundred bytes; anything near this bound is abuse.
MAX_BODY_BYTES = 64 * 1024


def create_app(services: Services, base_path: str) -> Litestar:
    router = Router(
        path=base_path or "/",
        route_handlers=[
            health.healthz,
            challenges.list_challenges,
            challenges.get_challenge,
            assignments.initialize,
            assignments.set_active,
            selection.batch_select,
            selection.random_select,
            rotation.get_rotation,
            claim_goal,
            users.get_my_data,
            users.delete_my_data,
            admin.player_state,
            admin.set_progress,
            admin.reset_goal,
            admin.list_grants,
            admin.resolve_grant,
            admin.audit_trail,
        ],
    )
    return Litestar(
        route_handlers=[router],
        exception_handlers={Exception: handle_exception},
        openapi_config=OpenAPIConfig(
            title="Challenge Service",
            version="1.0.0",
            path=f"{base_path}/openapi",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        request_max_body_size=MAX_BODY_BYTES,
        state=State({"services": services}),
        logging_config=None,
        debug=False,
    )

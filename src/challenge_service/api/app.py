"""`create_app()`: the Litestar application, every route under `BASE_PATH`, and the documents that
describe it (OpenAPI 3.1 under `/openapi`, Swagger 2.0 under `/apidocs`)."""

from __future__ import annotations

import msgspec
from litestar import Litestar, Router
from litestar.datastructures import State

from challenge_service.api import admin, assignments, challenges, health, rotation, selection, users
from challenge_service.api.apidocs import OfflineSwaggerUI, apidocs_router
from challenge_service.api.claims import claim_goal
from challenge_service.api.deps import Services
from challenge_service.api.errors import handle_exception
from challenge_service.api.openapi import admin_security, openapi_config
from challenge_service.api.swagger2 import to_swagger2

# Bodies of this API are a few hundred bytes; anything near this bound is abuse.
MAX_BODY_BYTES = 64 * 1024


def create_app(services: Services, base_path: str, *, jwt_auth: bool = True) -> Litestar:
    """The REST API; `jwt_auth` picks the security scheme its documents declare (bearer token or, in dev
    mode, the `X-Mock-User-Id` header)."""
    path = base_path or "/"
    router = Router(
        path=path,
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
        ],
    )
    operators = Router(
        path=path,
        route_handlers=[
            admin.player_state,
            admin.set_progress,
            admin.reset_goal,
            admin.list_grants,
            admin.resolve_grant,
            admin.audit_trail,
        ],
        security=admin_security(jwt_auth=jwt_auth),
    )
    app = Litestar(
        route_handlers=[router, operators],
        exception_handlers={Exception: handle_exception},
        openapi_config=openapi_config(
            base_path, jwt_auth=jwt_auth, render_plugins=[OfflineSwaggerUI(base_path)]
        ),
        request_max_body_size=MAX_BODY_BYTES,
        state=State({"services": services}),
        logging_config=None,
        debug=False,
    )
    # Built now rather than on the first request, so a document that cannot be generated stops start-up;
    # the apidocs routes are left out of it, so registering them afterwards does not change it.
    swagger2 = msgspec.json.encode(to_swagger2(app.openapi_schema.to_schema()))
    app.register(apidocs_router(base_path, swagger2))
    return app

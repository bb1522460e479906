"""`GET {BASE_PATH}/healthz`: no auth; 503 while the database is unreachable."""

from __future__ import annotations

from litestar import Response, get
from litestar.openapi import ResponseSpec

from challenge_service.api.deps import AnyRequest, services
from challenge_service.api.openapi import HEALTH, NO_AUTH
from challenge_service.api.wire import Health
from challenge_service.store.database import ping


@get(
    "/healthz",
    operation_id="getHealth",
    tags=[HEALTH],
    summary="Liveness and database reachability",
    security=NO_AUTH,
    responses={
        503: ResponseSpec(
            Health, description="The database is unreachable (`Retry-After: 1`)", generate_examples=False
        )
    },
)
async def healthz(request: AnyRequest) -> Response[Health]:
    if await ping(services(request).pool):
        return Response(Health("healthy"))
    return Response(Health("unhealthy"), status_code=503, headers={"Retry-After": "1"})

"""A do-nothing HTTP server for the api scenario's baseline: Litestar on uvicorn (the service's
stack) answering GET challenges with a pre-encoded body captured from the real service and claim with
a fixed body, no database. It shows what the HTTP stack alone costs on this machine.

    .venv/bin/python bench/baseline_http.py --port 7800 --body /tmp/body.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from litestar import Litestar, MediaType, Response, get, post


def create_app(body: bytes, base_path: str) -> Litestar:
    claimed = (
        b'{"goalId":"g","status":"claimed","reward":{"type":"WALLET","rewardId":"GOLD","quantity":1},'
        b'"claimedAt":"2026-01-01T00:00:00Z"}'
    )

    @get(f"{base_path}/v1/challenges", media_type=MediaType.JSON)
    async def challenges() -> Response[bytes]:
        return Response(body, media_type=MediaType.JSON)

    @post(
        f"{base_path}/v1/challenges/{{cid:str}}/goals/{{gid:str}}/claim",
        media_type=MediaType.JSON,
        status_code=200,
    )
    async def claim(cid: str, gid: str) -> Response[bytes]:
        return Response(claimed, media_type=MediaType.JSON)

    return Litestar([challenges, claim], openapi_config=None)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7800)
    parser.add_argument("--body", type=Path, required=True)
    parser.add_argument("--base-path", default="/challenge")
    args = parser.parse_args()
    app = create_app(args.body.read_bytes(), args.base_path)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()

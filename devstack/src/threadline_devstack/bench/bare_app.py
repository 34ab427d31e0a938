"""The ingest benchmark's baseline: a bare FastAPI endpoint that reads the body and answers 200,
served by uvicorn with exactly the settings ingest's entry point uses.

`python -m threadline_devstack.bench.bare_app --port 8190`
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response


def create_app() -> FastAPI:
    app = FastAPI(openapi_url=None)

    @app.post("/slack/events")
    async def events(request: Request) -> Response:
        await request.body()
        return Response(b'{"ok":true}', media_type="application/json")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m threadline_devstack.bench.bare_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes, as ingest's")
    args = parser.parse_args()
    # The same uvicorn.run arguments as threadline_ingest.__main__ (no access log; with several
    # workers, the app from a factory in each).
    app: Any = create_app() if args.workers == 1 else "threadline_devstack.bench.bare_app:create_app"
    uvicorn.run(
        app,
        factory=args.workers > 1,
        workers=args.workers,
        host=args.host,
        port=args.port,
        lifespan="on",
        access_log=False,
        log_config=None,
        server_header=False,
    )


if __name__ == "__main__":
    main()

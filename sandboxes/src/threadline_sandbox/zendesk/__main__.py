"""python -m threadline_sandbox.zendesk --port 8102 --seed account.yaml \
    --webhook-url http://127.0.0.1:8080/zendesk/webhook --webhook-secret S"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from threadline_sandbox.zendesk.knobs import Knobs
from threadline_sandbox.zendesk.seed import DEFAULT_SEED
from threadline_sandbox.zendesk.server import ZendeskSandbox


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m threadline_sandbox.zendesk")
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--seed", type=Path, default=DEFAULT_SEED, help="account YAML (default: the packaged one)")
    parser.add_argument("--webhook-url", action="append", default=[], help="event webhook target (repeatable)")
    parser.add_argument("--webhook-secret", default="sandbox-webhook-secret")
    parser.add_argument("--close-solved-after", type=float, default=None, help="seconds until solved tickets close")
    parser.add_argument("--rate-limit", type=int, default=None, help="API requests per minute")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    knobs = Knobs()
    if args.close_solved_after is not None:
        knobs.close_solved_after_seconds = args.close_solved_after
    if args.rate_limit is not None:
        knobs.rate_limit_per_minute = args.rate_limit
    sandbox = ZendeskSandbox(
        webhook_urls=args.webhook_url, webhook_secret=args.webhook_secret, port=args.port, seed=args.seed, knobs=knobs
    )
    print(
        f"Zendesk sandbox on {sandbox.base_url} (subdomain {sandbox.subdomain}; API user {sandbox.api_email}, "
        f"agent {sandbox.agent_email}; admin endpoints under /_sandbox)",
        flush=True,
    )
    sandbox.serve_forever()


if __name__ == "__main__":
    main()

"""`python -m threadline_sandbox.pagerduty --port 8103 [--seed account.yaml]`"""

from __future__ import annotations

import argparse
from pathlib import Path

from threadline_sandbox.pagerduty.server import DEFAULT_SEED, PagerDutySandbox


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m threadline_sandbox.pagerduty")
    parser.add_argument("--port", type=int, default=8103)
    parser.add_argument("--seed", type=Path, default=DEFAULT_SEED, help="account YAML (default: the packaged one)")
    args = parser.parse_args(argv)
    sandbox = PagerDutySandbox(seed=args.seed, port=args.port)
    print(f"PagerDuty sandbox on {sandbox.base_url} (token {sandbox.token})", flush=True)
    sandbox.serve_forever()


if __name__ == "__main__":
    main()

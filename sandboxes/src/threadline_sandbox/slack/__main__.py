"""`python -m threadline_sandbox.slack --port 8101 --events-url http://127.0.0.1:8080/slack/events`
(and `--commands-url` / `--interactivity-url` for the app's slash command and interactivity Request URLs)"""

from __future__ import annotations

import argparse
from pathlib import Path

from threadline_sandbox.slack.server import SEED, SlackSandbox


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m threadline_sandbox.slack")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--events-url", action="append", default=[])
    parser.add_argument("--signing-secret", default="sandbox-signing-secret")
    parser.add_argument("--seed", type=Path, default=SEED)
    parser.add_argument("--commands-url", help="the app's Request URL for slash commands")
    parser.add_argument("--interactivity-url", help="the app's Request URL for interactivity")
    args = parser.parse_args()
    sandbox = SlackSandbox(
        args.signing_secret,
        args.events_url,
        args.seed,
        args.port,
        commands_url=args.commands_url,
        interactivity_url=args.interactivity_url,
    )
    sandbox._worker.start()
    print(f"Slack sandbox on {sandbox.base_url}/api/ (bot token {sandbox.bot_token})", flush=True)
    sandbox._server.serve_forever()


if __name__ == "__main__":
    main()

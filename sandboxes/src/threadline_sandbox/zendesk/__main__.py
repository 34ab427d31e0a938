"""`python -m threadline_sandbox.zendesk --port 8102 --webhook-url http://127.0.0.1:8080/zendesk/webhook`"""

from __future__ import annotations

import argparse

from threadline_sandbox.zendesk.server import ZendeskSandbox


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m threadline_sandbox.zendesk")
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--webhook-url", action="append", default=[])
    parser.add_argument("--webhook-secret", default="sandbox-webhook-secret")
    args = parser.parse_args()
    sandbox = ZendeskSandbox(webhook_urls=args.webhook_url, webhook_secret=args.webhook_secret, port=args.port)
    sandbox._worker.start()
    print(
        f"Zendesk sandbox on {sandbox.base_url} (API user {sandbox.api_email}, token {sandbox.api_token})", flush=True
    )
    sandbox._server.serve_forever()


if __name__ == "__main__":
    main()

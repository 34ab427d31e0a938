"""Fixtures for the Zendesk sandbox tests: the sandbox, the unmodified zenpy client pointed at
it, and a listening endpoint that records the event webhooks it receives."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from zenpy import Zenpy

from threadline_sandbox.zendesk import ZendeskSandbox, zenpy_client

WEBHOOK_SECRET = "whsec-sandbox-tests"


class Listener:
    """An HTTP endpoint that records webhook requests and answers with scripted statuses."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []  # answered in turn; 200 once empty
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                listener.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(listener.statuses.pop(0) if listener.statuses else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/zendesk/webhook"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.bodies()

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def listener() -> Iterator[Listener]:
    endpoint = Listener()
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()


@pytest.fixture
def webhook_secret() -> str:
    return WEBHOOK_SECRET


@pytest.fixture
def zendesk(listener: Listener, monkeypatch: pytest.MonkeyPatch) -> Iterator[ZendeskSandbox]:
    sandbox = ZendeskSandbox(webhook_urls=[listener.url], webhook_secret=WEBHOOK_SECRET)
    sandbox.set_knobs(webhook_retry_base_seconds=0.05)
    sandbox.start()
    for key, value in sandbox.zenpy_env().items():
        monkeypatch.setenv(key, value)  # restored after the test
    yield sandbox
    sandbox.stop()


@pytest.fixture
def zen(zendesk: ZendeskSandbox) -> Zenpy:
    """Our integration's view: the API user with its API token."""
    return zenpy_client(zendesk, set_env=False)


@pytest.fixture
def auth(zendesk: ZendeskSandbox) -> tuple[str, str]:
    """Basic credentials for raw requests, as zenpy sends them."""
    return (f"{zendesk.api_email}/token", zendesk.api_token)

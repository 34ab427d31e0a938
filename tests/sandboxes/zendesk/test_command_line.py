"""`python -m threadline_sandbox.zendesk`: a seeded account in its own process, reached by zenpy,
delivering signed webhooks to the given URL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, Ticket

from threadline_sandbox.zendesk.seed import DEFAULT_SEED

pytestmark = pytest.mark.unit


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the sandbox exited: {process.stdout.read() if process.stdout else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the sandbox did not listen in time")


def test_the_command_line_serves_a_seeded_account_and_sends_webhooks(tmp_path: Path, listener, monkeypatch):
    seed = yaml.safe_load(DEFAULT_SEED.read_text())
    seed["subdomain"] = "acme"
    seed["groups"].append({"id": 2001, "name": "Billing"})
    (tmp_path / "account.yaml").write_text(yaml.safe_dump(seed))
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "threadline_sandbox.zendesk",
        "--port",
        str(port),
        "--seed",
        str(tmp_path / "account.yaml"),
        "--webhook-url",
        listener.url,
        "--webhook-secret",
        "cli-secret",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(port, process)
        monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
        monkeypatch.setenv("ZENPY_FORCE_NETLOC", f"127.0.0.1:{port}")
        zen = Zenpy(subdomain="acme", email="threadline@sandbox-corp.example", token="sandbox-api-token")
        assert "Billing" in {g.name for g in zen.groups()}
        ticket = zen.tickets.create(Ticket(subject="From the CLI", comment=Comment(body="hello"))).ticket
        [body] = listener.wait_for(1)
        headers, raw = listener.requests[0]
        timestamp = headers["x-zendesk-webhook-signature-timestamp"].encode()
        expected = base64.b64encode(hmac.new(b"cli-secret", timestamp + raw, hashlib.sha256).digest()).decode()
        assert headers["x-zendesk-webhook-signature"] == expected
        assert body["detail"]["id"] == str(ticket.id)
    finally:
        process.terminate()
        process.wait(10)

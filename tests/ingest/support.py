"""Helpers of the ingest tests: settings with test secrets, signed requests, reading a topic to its end."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from slack_sdk.signature import SignatureVerifier
from threadline_testing.kafka import read_topic, watermarks  # noqa: F401 - the ingest tests import them from here

from threadline_ingest.settings import IngestSettings
from threadline_ingest.verify import zendesk_signature

SLACK_SECRET = "slack-signing-secret-for-tests"
ZENDESK_SECRET = "zendesk-webhook-secret-for-tests"
LEGACY_TOKEN = "legacy-shared-token-for-tests"
BASIC_AUTH = ("zendesk-target", "basic-password-for-tests")


def make_settings(**overrides: Any) -> IngestSettings:
    values: dict[str, Any] = {
        "slack_signing_secret": SLACK_SECRET,
        "zendesk_webhook_secret": ZENDESK_SECRET,
        "zendesk_legacy_token": LEGACY_TOKEN,
        "zendesk_basic_auth_username": BASIC_AUTH[0],
        "zendesk_basic_auth_password": BASIC_AUTH[1],
        **overrides,
    }
    return IngestSettings(**values)


def slack_headers(
    body: bytes, *, age: int = 0, secret: str = SLACK_SECRET, content_type: str = "application/json", **extra: str
) -> dict[str, str]:
    """Headers Slack sends with `body`, signed the way slack_sdk signs."""
    ts = str(int(time.time()) - age)
    try:
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    except UnicodeDecodeError:  # the SDK signs text only; Slack's scheme is over the raw bytes
        signature = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"content-type": content_type, "x-slack-request-timestamp": ts, "x-slack-signature": signature, **extra}


def zendesk_headers(body: bytes, *, secret: str = ZENDESK_SECRET, age: int = 0) -> dict[str, str]:
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - age))
    return {
        "content-type": "application/json",
        "x-zendesk-webhook-signature": zendesk_signature(secret, ts, body),
        "x-zendesk-webhook-signature-timestamp": ts,
        "x-zendesk-webhook-id": "01HWEBHOOKID",
    }


def basic_auth_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (producer started, flushed at the end), called in-process."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest") as client,
    ):
        yield client

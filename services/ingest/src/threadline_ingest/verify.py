"""Who sent a request: Slack and Zendesk signatures, the legacy token, Authorization headers.

Pure functions. Signatures are checked on the raw bytes before anything parses them; every
comparison of a secret is constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any


class SignatureError(Exception):
    """Missing, stale or wrong credentials: answered 401. The message never holds a secret."""


def verify_slack(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float, max_age: int
) -> None:
    """Slack's v0 scheme: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`, timestamp within max_age."""
    if not timestamp or not signature:
        raise SignatureError("missing Slack signature headers")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise SignatureError("bad X-Slack-Request-Timestamp")
    if abs(now - int(timestamp)) > max_age:
        raise SignatureError("stale Slack request")
    # hmac.digest: OpenSSL's one-shot HMAC, without an HMAC object per request.
    expected = "v0=" + hmac.digest(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, "sha256").hex()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise SignatureError("wrong Slack signature")


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    """base64 of HMAC-SHA256(secret, timestamp + body), as Zendesk signs its webhooks."""
    return base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()).decode()


def verify_zendesk(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float, max_age: int
) -> None:
    """X-Zendesk-Webhook-Signature over X-Zendesk-Webhook-Signature-Timestamp (RFC 3339) + body."""
    if not timestamp or not signature:
        raise SignatureError("missing Zendesk signature headers")
    try:
        sent = datetime.fromisoformat(timestamp)
        age = now - (sent if sent.tzinfo else sent.replace(tzinfo=UTC)).timestamp()
    except (ValueError, OverflowError) as exc:
        raise SignatureError("bad X-Zendesk-Webhook-Signature-Timestamp") from exc
    if abs(age) > max_age:
        raise SignatureError("stale Zendesk request")
    expected = zendesk_signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode("utf-8", "replace")):
        raise SignatureError("wrong Zendesk signature")


def verify_legacy_token(expected: str, body: dict[str, Any]) -> None:
    """Trigger/target bodies authenticate with a shared token inside the JSON."""
    token = body.get("token")
    if not isinstance(token, str) or not hmac.compare_digest(token.encode(), expected.encode()):
        raise SignatureError("missing or wrong legacy token")


def verify_authorization(
    header: str | None, *, basic: tuple[str, str] | None = None, bearer: str | None = None
) -> None:
    """An Authorization header that matches the configured Basic credentials or Bearer token."""
    if not header:
        raise SignatureError("missing Authorization header")
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and bearer is not None:
        if hmac.compare_digest(value.encode("utf-8", "replace"), bearer.encode()):
            return
    elif scheme.lower() == "basic" and basic is not None:
        try:
            given = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            given = b""
        if hmac.compare_digest(given, f"{basic[0]}:{basic[1]}".encode()):
            return
    raise SignatureError("wrong Authorization header")

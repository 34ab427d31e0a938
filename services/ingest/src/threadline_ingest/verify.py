"""Signatures and records: pure functions, no I/O.

Signatures are checked on the raw body before anything parses it. Records are what ingest
publishes (threadline.slack.events v1, threadline.zendesk.events v1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any


class SignatureError(Exception):
    """Missing, stale or wrong signature: answered 401."""


class BadRequest(Exception):
    """Signed but malformed: answered 400."""


def verify_slack(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float, max_age: int
) -> None:
    """Slack's v0 scheme: HMAC-SHA256 of `v0:{timestamp}:{body}`, timestamp within max_age."""
    if not timestamp or not signature:
        raise SignatureError("missing Slack signature headers")
    try:
        ts = int(timestamp)
    except ValueError as exc:
        raise SignatureError("bad X-Slack-Request-Timestamp") from exc
    if abs(now - ts) > max_age:
        raise SignatureError("stale Slack request")
    expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise SignatureError("wrong Slack signature")


def verify_zendesk(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float, max_age: int
) -> None:
    """Zendesk webhooks: base64 HMAC-SHA256 of `{timestamp}{body}`; timestamp is RFC 3339."""
    if not timestamp or not signature:
        raise SignatureError("missing Zendesk signature headers")
    try:
        sent = datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise SignatureError("bad X-Zendesk-Webhook-Signature-Timestamp") from exc
    if abs(now - sent) > max_age:
        raise SignatureError("stale Zendesk request")
    expected = base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature.encode()):
        raise SignatureError("wrong Zendesk signature")


def verify_legacy_token(expected: str, body: dict[str, Any]) -> None:
    token = body.get("token")
    if not isinstance(token, str) or not hmac.compare_digest(token.encode(), expected.encode()):
        raise SignatureError("missing or wrong legacy token")


def as_object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest("body is not a JSON object")
    return data


def now_iso(now: float) -> str:
    return datetime.fromtimestamp(now, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def body_id(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def slack_channel_and_root(envelope: dict[str, Any]) -> tuple[str | None, str | None]:
    """The channel and thread root of an Events API envelope, as far as the event tells.

    A reaction names only the message it is on (item.ts); for a reply that is not the root,
    so reactions on replies land under their own key: only reactions on the opening message
    matter to the router, and those share the thread's key.
    """
    event = envelope.get("event")
    if not isinstance(event, dict):
        return None, None
    item = as_object(event.get("item"))
    channel = event.get("channel") or item.get("channel")
    if isinstance(channel, dict):  # channel_created and friends carry an object
        channel = channel.get("id")
    message = as_object(event.get("message"))
    previous = as_object(event.get("previous_message"))
    root = (
        event.get("thread_ts")
        or message.get("thread_ts")
        or previous.get("thread_ts")
        or item.get("ts")
        or message.get("ts")
        or previous.get("ts")
        or event.get("deleted_ts")
        or event.get("ts")
    )
    return (str(channel) if channel else None), (str(root) if root else None)


def slack_key(team_id: str | None, channel: str | None, root: str | None) -> str | None:
    if channel and root:
        return f"{team_id}:{channel}:{root}"
    return None


def slack_teams(envelope: dict[str, Any]) -> set[str]:
    """Every workspace or org an envelope speaks for (Slack Connect: ours is in authorizations)."""
    teams = {envelope.get("team_id"), envelope.get("enterprise_id"), envelope.get("context_team_id")}
    teams.add(envelope.get("context_enterprise_id"))
    for auth in envelope.get("authorizations") or []:
        if isinstance(auth, dict):
            teams.update({auth.get("team_id"), auth.get("enterprise_id")})
    team = envelope.get("team")
    if isinstance(team, dict):
        teams.add(team.get("id"))
    return {str(t) for t in teams if t}


def slack_record(
    *,
    kind: str,
    body: dict[str, Any],
    event_id: str,
    team_id: str | None,
    conversation_key: str | None,
    now: float,
    source: str,
    retry_num: int | None = None,
    retry_reason: str | None = None,
) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "kind": kind,
        "received_at": now_iso(now),
        "source": source,
        "team_id": team_id,
        "event_id": event_id,
        "retry_num": retry_num,
        "retry_reason": retry_reason,
        "conversation_key": conversation_key,
        "body": body,
    }


def zendesk_record(
    *, kind: str, body: dict[str, Any], raw: bytes, webhook_id: str | None, now: float
) -> tuple[str | None, dict[str, Any]]:
    ticket_id: Any = None
    if kind == "event_webhook":
        detail = as_object(body.get("detail"))
        ticket_id = detail.get("id") or str(body.get("subject", "")).rpartition(":")[2] or None
        event_id = str(body.get("id") or body_id(raw))
    else:
        ticket_id = body.get("ticket_id") or body.get("id")
        event_id = body_id(raw)
    ticket = str(ticket_id) if ticket_id not in (None, "") else None
    return ticket, {
        "schema_version": 1,
        "kind": kind,
        "received_at": now_iso(now),
        "webhook_id": webhook_id,
        "event_id": event_id,
        "ticket_id": ticket,
        "body": body,
    }

"""Slack deliveries and the records ingest makes of them, built the way Slack and ingest build them.

Bodies follow what Slack (and the Slack sandbox) send for a message; signatures are Slack's v0
scheme; topic records come from ingest's own functions, so the pipeline reads exactly what
ingest would have published.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import Any

from threadline_ingest.records import encode
from threadline_ingest.slack import Accept, SlackPolicy, event_id_of, route_event, slack_record

TEAM = "T0SANDBOX"
APP = "A0THREADLINE"
BOT_USER = "U0BOT"


def message_body(channel: str, user: str, ts: str, text: str, thread_ts: str | None = None) -> dict[str, Any]:
    """An Events API `event_callback` envelope for a message, as Slack delivers it."""
    event: dict[str, Any] = {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts,
        "team": TEAM,
        "client_msg_id": str(uuid.uuid4()),
        "channel": channel,
        "event_ts": ts,
        "channel_type": "channel",
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = user
    return {
        "token": "sandbox-verification-token",
        "team_id": TEAM,
        "context_team_id": TEAM,
        "context_enterprise_id": None,
        "api_app_id": APP,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:14].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM,
                "user_id": BOT_USER,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-bench-{channel}",
    }


def signed_headers(secret: str, raw: bytes, timestamp: int | None = None) -> dict[str, str]:
    ts = str(timestamp or int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


def topic_record(body: dict[str, Any]) -> tuple[bytes, bytes]:
    """(key, value) of the threadline.slack.events record ingest publishes for this body."""
    accepted = route_event(body, SlackPolicy())
    if not isinstance(accepted, Accept):
        raise ValueError(f"ingest would drop this body: {accepted}")
    record = slack_record(
        kind="event_callback",
        body=body,
        event_id=event_id_of("event_callback", body, None),
        accepted=accepted,
        now=time.time(),
        source="http",
    )
    return (accepted.key or "").encode(), encode(record)

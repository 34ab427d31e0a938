"""Builders of topic records as ingest publishes them, for tests."""

import json
from pathlib import Path

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "real_payloads"


def slack_record(body: dict, event_id: str | None = None) -> dict:
    """What ingest publishes for an Events API body (threadline.slack.events v1)."""
    return {
        "schema_version": 1,
        "kind": "event_callback",
        "received_at": "2026-11-23T10:00:00Z",
        "source": "http",
        "team_id": body.get("team_id"),
        "event_id": event_id or body.get("event_id"),
        "retry_num": None,
        "retry_reason": None,
        "conversation_key": None,
        "body": body,
    }


def message_body(channel: str, ts: str, text: str, user: str = "U1", thread_ts: str | None = None, **extra) -> dict:
    event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, **extra}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return {"team_id": "T1", "event": event, "type": "event_callback", "event_id": f"Ev{ts.replace('.', '')}"}


def zendesk_record(type_: str, ticket_id: int, external_id: str | None, event: dict, **detail) -> dict:
    body = {
        "account_id": 1,
        "detail": {"id": str(ticket_id), "external_id": external_id, "status": "OPEN", **detail},
        "event": event,
        "id": f"evt-{type_}-{ticket_id}-{json.dumps(event, sort_keys=True).__hash__() & 0xFFFF}",
        "subject": f"zen:ticket:{ticket_id}",
        "time": "2026-11-23T10:00:00Z",
        "type": f"zen:event-type:ticket.{type_}",
        "zendesk_event_version": "2022-11-06",
    }
    return {
        "schema_version": 1,
        "kind": "event_webhook",
        "event_id": body["id"],
        "ticket_id": str(ticket_id),
        "body": body,
    }

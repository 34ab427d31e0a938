"""Zendesk event webhook bodies for ticket events, and their signature.

Shapes follow https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/:
`detail` is the ticket (ids as strings, status/priority/type in upper case, `via.channel`),
`event` what happened (`comment`, or `current`/`previous`), plus `meta.sequence` that groups the
events of one action. Requests are signed as
https://developer.zendesk.com/documentation/webhooks/verifying/ describes:
base64(HMAC-SHA256(secret, timestamp + body)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from threadline_sandbox.zendesk.model import TicketEvent

EVENT_VERSION = "2022-11-06"
EVENT_TYPES = {
    "created": "zen:event-type:ticket.created",
    "comment_added": "zen:event-type:ticket.comment_added",
    "status_changed": "zen:event-type:ticket.status_changed",
}
# Event webhooks name the ticket's channel after Zendesk's via types, not as the REST API does:
# a ticket made through the API is "web_service" (the docs' ticket.created example), one made
# by email "mail" (as Zendesk sends it), one made in the agent interface "web_form".
EVENT_CHANNELS = {"api": "web_service", "web": "web_form", "email": "mail", "rule": "rule"}


def _id(value: Any) -> str | None:
    return None if value is None else str(value)


def _upper(value: Any) -> str | None:
    return str(value).upper() if value else None


def ticket_detail(ticket: dict[str, Any], actor_id: int) -> dict[str, Any]:
    channel = ticket["via"]["channel"]
    return {
        "actor_id": str(actor_id),
        "assignee_id": _id(ticket.get("assignee_id")),
        "brand_id": _id(ticket.get("brand_id")),
        "created_at": ticket["created_at"],
        "custom_status": _id(ticket.get("custom_status_id")),
        "description": ticket["description"],
        "external_id": _id(ticket.get("external_id")),
        "form_id": _id(ticket.get("ticket_form_id")),
        "group_id": _id(ticket.get("group_id")),
        "id": str(ticket["id"]),
        "is_public": bool(ticket.get("is_public", True)),
        "organization_id": _id(ticket.get("organization_id")),
        "priority": _upper(ticket.get("priority")),
        "requester_id": _id(ticket.get("requester_id")),
        "status": str(ticket["status"]).upper(),
        "subject": ticket.get("subject") or "",
        "submitter_id": _id(ticket.get("submitter_id")),
        "tags": list(ticket.get("tags") or []),
        "type": _upper(ticket.get("type")),
        "updated_at": ticket["updated_at"],
        "via": {"channel": EVENT_CHANNELS.get(channel, channel)},
    }


def event_body(account_id: int, event: TicketEvent, event_id: str, at: datetime | None = None) -> dict[str, Any]:
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    meta = {"sequence": {"id": event.sequence_id, "position": event.position}}
    return {
        "account_id": account_id,
        "detail": ticket_detail(event.ticket, event.actor_id),
        "event": {**event.event, "meta": meta},
        "id": event_id,
        "subject": f"zen:ticket:{event.ticket['id']}",
        "time": moment.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "type": EVENT_TYPES[event.kind],
        "zendesk_event_version": EVENT_VERSION,
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()

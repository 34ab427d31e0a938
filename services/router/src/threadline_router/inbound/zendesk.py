"""threadline.zendesk.events records (event webhooks, legacy triggers) -> ticket events."""

from __future__ import annotations

from typing import Any

from threadline_common.dlq import PoisonMessage
from threadline_router.inbound.events import Inbound, ZendeskTicketEvent
from threadline_router.inbound.records import json_record, opt_int

# The kinds the zendesk.events contract allows: another kind is dead-lettered; a Zendesk event
# type we do not handle is not (Zendesk adds types).
ZENDESK_KINDS = frozenset({"event_webhook", "legacy_trigger"})
# The event types the router handles, as the kind of ticket event each is.
EVENT_TYPES = {
    "zen:event-type:ticket.created": "created",
    "zen:event-type:ticket.comment_added": "comment",
    "zen:event-type:ticket.status_changed": "status",
}


def decode_zendesk(record: bytes | str | dict[str, Any]) -> Inbound | None:
    """A threadline.zendesk.events record -> ZendeskTicketEvent, or None for other events."""
    envelope = json_record(record)
    if envelope.get("kind") not in ZENDESK_KINDS:
        raise PoisonMessage(f"unknown zendesk.events kind {envelope.get('kind')!r}")
    body = envelope.get("body")
    if not isinstance(body, dict):
        raise PoisonMessage("zendesk record without body")
    if envelope.get("kind") == "legacy_trigger":
        return _decode_legacy(envelope, body)
    kind = EVENT_TYPES.get(str(body.get("type")))
    if kind is None:
        return None
    detail = body.get("detail") or {}
    event = body.get("event") or {}
    ticket_id = opt_int(detail.get("id")) or opt_int(str(body.get("subject", "")).rpartition(":")[2])
    if ticket_id is None:
        raise PoisonMessage("zendesk event without a ticket id")
    via = detail.get("via") or {}
    common: dict[str, Any] = {
        "event_id": str(body.get("id") or envelope.get("event_id") or ""),
        "kind": kind,
        "ticket_id": ticket_id,
        "external_id": detail.get("external_id") or None,
        "status": str(detail.get("status") or "").lower() or None,
        "via_channel": via.get("channel") if isinstance(via, dict) else None,
        "group_id": opt_int(detail.get("group_id")),
        "subject": str(detail.get("subject") or ""),
        "description": str(detail.get("description") or ""),
        "requester_id": opt_int(detail.get("requester_id")),
        "occurred_at": body["time"] if isinstance(body.get("time"), str) and body["time"] else None,
    }
    if kind == "comment":
        comment = event.get("comment") or {}
        author = comment.get("author") or {}
        common.update(
            comment_id=opt_int(comment.get("id")),
            comment_body=str(comment.get("body") or comment.get("plain_body") or ""),
            comment_html=str(comment.get("html_body") or ""),
            comment_public=bool(comment.get("is_public", True)),
            author_id=opt_int(author.get("id")),
            author_name=str(author.get("name") or ""),
            author_is_staff=bool(author.get("is_staff", False)),
        )
        if common["comment_id"] is None:
            raise PoisonMessage("comment_added event without comment id")
    elif kind == "status":
        common["status"] = str(event.get("current") or common["status"] or "").lower() or None
        common["previous_status"] = str(event.get("previous") or "").lower() or None
    return ZendeskTicketEvent(**common)


def _decode_legacy(envelope: dict[str, Any], body: dict[str, Any]) -> Inbound | None:
    """Trigger/target bodies: only the fields a trigger template can carry; comments only."""
    ticket_id = opt_int(body.get("ticket_id") or body.get("id") or envelope.get("ticket_id"))
    if ticket_id is None:
        return None
    comment_id = opt_int(body.get("comment_id"))
    text = body.get("latest_comment") or body.get("comment") or body.get("latest_public_comment")
    if comment_id is None or not text:
        return None
    return ZendeskTicketEvent(
        event_id=str(envelope.get("event_id") or ""),
        kind="comment",
        ticket_id=ticket_id,
        external_id=body.get("external_id") or None,
        status=str(body.get("status") or "").lower() or None,
        comment_id=comment_id,
        comment_body=str(text),
        comment_public=str(body.get("is_public", "true")).lower() != "false",
        author_name=str(body.get("author_name") or body.get("current_user_name") or ""),
        author_is_staff=True,
    )

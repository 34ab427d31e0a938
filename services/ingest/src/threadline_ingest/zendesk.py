"""What ingest publishes for a verified Zendesk request (threadline.zendesk.events v1). Pure.

Two shapes arrive: event webhooks (`type: zen:event-type:...`, Zendesk's own schema) and the
bodies of triggers and automations, whatever JSON their Liquid template renders. A template
that inserts a comment raw into a JSON string renders invalid JSON as soon as the comment has
a quote or a newline: such a body is refused with 400, never guessed at (event webhooks,
whose bodies Zendesk itself serialises, do not have this problem).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from threadline_common.models import ZendeskEventRecord
from threadline_ingest.bodies import BadRequest, body_id
from threadline_ingest.records import received_at

ZendeskKind = Literal["event_webhook", "legacy_trigger"]

_SUBJECT = re.compile(r"zen:[a-z_]+:.*", re.DOTALL)
_DIGITS = re.compile(r"[0-9]+")


def kind_of(body: dict[str, Any]) -> ZendeskKind:
    event_type = body.get("type")
    if isinstance(event_type, str) and event_type.startswith("zen:event-type:"):
        return "event_webhook"
    return "legacy_trigger"


def check_event_webhook(body: dict[str, Any]) -> None:
    """The fields of Zendesk's event webhook schema that consumers rely on."""
    detail, event_id = body.get("detail"), body.get("id")
    problems = [
        name
        for name, ok in (
            ("account_id", isinstance(body.get("account_id"), int) and not isinstance(body.get("account_id"), bool)),
            ("detail", isinstance(detail, dict) and isinstance(detail.get("id"), str)),
            ("event", isinstance(body.get("event"), dict)),
            ("id", isinstance(event_id, str) and bool(event_id)),
            ("subject", isinstance(body.get("subject"), str) and bool(_SUBJECT.fullmatch(body["subject"]))),
            ("time", isinstance(body.get("time"), str)),
            ("zendesk_event_version", isinstance(body.get("zendesk_event_version"), str)),
        )
        if not ok
    ]
    if problems:
        raise BadRequest("not a Zendesk event webhook: " + ", ".join(problems))


def _ticket_number(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return value.strip()
    return None  # absent, or a template placeholder Zendesk did not render


def ticket_of(kind: ZendeskKind, body: dict[str, Any]) -> str | None:
    if kind == "event_webhook":
        subject = str(body.get("subject", ""))
        if not subject.startswith("zen:ticket:"):
            return None  # a user, organization or other event
        detail = body.get("detail")
        from_detail = _ticket_number(detail.get("id")) if isinstance(detail, dict) else None
        return from_detail or _ticket_number(subject.rpartition(":")[2])
    return _ticket_number(body.get("ticket_id")) or _ticket_number(body.get("id"))


def record_key(kind: ZendeskKind, body: dict[str, Any], ticket_id: str | None) -> str | None:
    """The ticket id; for events about something else, their subject (zen:user:123) keeps them in order."""
    if ticket_id:
        return ticket_id
    if kind == "event_webhook":
        return str(body["subject"])
    return None


def legacy_event_id(raw: bytes, invocation_id: str | None) -> str:
    """Zendesk's retries of one trigger firing share its invocation id; two firings may render the
    same body (a template with only the ticket id), so the body decides only when no id came."""
    if invocation_id and invocation_id.strip():
        return f"invocation:{invocation_id.strip()}"
    return body_id(raw)


def zendesk_record(
    *,
    kind: ZendeskKind,
    body: dict[str, Any],
    raw: bytes,
    webhook_id: str | None,
    now: float,
    invocation_id: str | None = None,
) -> ZendeskEventRecord:
    if kind == "legacy_trigger":
        # The shared token is a secret: it stays out of Kafka.
        body = {k: v for k, v in body.items() if k != "token"}
        event_id = legacy_event_id(raw, invocation_id)
    else:
        event_id = str(body["id"])
    return ZendeskEventRecord(
        schema_version=1,
        kind=kind,
        received_at=received_at(now),
        webhook_id=webhook_id or None,
        event_id=event_id,
        ticket_id=ticket_of(kind, body),
        body=body,
    )

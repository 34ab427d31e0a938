# Generated from schemas/json/threadline.zendesk.events.v1.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, Struct


class ZendeskEventRecord(Struct):
    """
    A verified Zendesk webhook request as ingest received it: the body unchanged, plus ingest metadata.
    """

    schema_version: Literal[1]
    kind: Annotated[
        Literal['event_webhook', 'legacy_trigger'],
        Meta(
            description='event_webhook: a Zendesk event webhook (type zen:event-type:...); legacy_trigger: the JSON body of a trigger or automation that notifies a webhook.'
        ),
    ]
    received_at: Annotated[
        str, Meta(description='When ingest accepted the request (RFC 3339, UTC).')
    ]
    webhook_id: Annotated[str, Meta(description='X-Zendesk-Webhook-Id, when Zendesk sent one.')] | None
    event_id: Annotated[
        str,
        Meta(
            description="The event's `id` for event webhooks; sha256 hex of the raw body for legacy trigger bodies. Consumers deduplicate on it.",
            min_length=1,
        ),
    ]
    ticket_id: Annotated[str, Meta(description="The ticket the request is about (detail.id, or the trigger body's ticket_id), also the record key; null when the body names none.", pattern='^[0-9]+$')] | None
    body: Annotated[
        dict[str, Any],
        Meta(
            description='The Zendesk body exactly as received; open to any field Zendesk adds.'
        ),
    ]


class Detail(Struct):
    id: str


class EventWebhookBody(Struct):
    """
    Zendesk's event webhook schema (https://developer.zendesk.com/api-reference/webhooks/event-types/webhook-event-types/). For ticket events detail holds the ticket: ids as strings, status and priority in upper case (OPEN, SOLVED), via.channel.
    """

    account_id: int
    detail: Detail
    event: dict[str, Any]
    id: Annotated[str, Meta(min_length=1)]
    subject: Annotated[str, Meta(pattern='^zen:[a-z_]+:')]
    time: str
    type: Annotated[str, Meta(pattern='^zen:event-type:')]
    zendesk_event_version: str

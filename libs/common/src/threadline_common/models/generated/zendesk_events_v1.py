# Generated from schemas/json/threadline.zendesk.events.v1.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class ZendeskEventRecord(BaseModel):
    """
    A verified Zendesk webhook request as ingest received it: the body unchanged, plus ingest metadata.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    schema_version: Literal[1]
    kind: Literal['event_webhook', 'legacy_trigger'] = Field(
        ...,
        description='event_webhook: a Zendesk event webhook (type zen:event-type:...); legacy_trigger: the JSON body of a trigger or automation that notifies a webhook.',
    )
    received_at: AwareDatetime = Field(
        ..., description='When ingest accepted the request (RFC 3339, UTC).'
    )
    webhook_id: str | None = Field(
        ..., description='X-Zendesk-Webhook-Id, when Zendesk sent one.'
    )
    event_id: str = Field(
        ...,
        description="The event's `id` for event webhooks; sha256 hex of the raw body for legacy trigger bodies. Consumers deduplicate on it.",
        min_length=1,
    )
    ticket_id: str | None = Field(
        ...,
        description="The ticket the request is about (detail.id, or the trigger body's ticket_id), also the record key; null when the body names none.",
        pattern='^[0-9]+$',
    )
    body: dict[str, Any] = Field(
        ...,
        description='The Zendesk body exactly as received; open to any field Zendesk adds.',
    )


class Detail(BaseModel):
    id: str


class EventWebhookBody(BaseModel):
    """
    Zendesk's event webhook schema (https://developer.zendesk.com/api-reference/webhooks/event-types/webhook-event-types/). For ticket events detail holds the ticket: ids as strings, status and priority in upper case (OPEN, SOLVED), via.channel.
    """

    account_id: int
    detail: Detail
    event: dict[str, Any]
    id: str = Field(..., min_length=1)
    subject: str = Field(..., pattern='^zen:[a-z_]+:')
    time: str
    type: str = Field(..., pattern='^zen:event-type:')
    zendesk_event_version: str

# Generated from schemas/json/threadline.zendesk.events.v1.schema.json by `make models`. Do not edit.

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, constr


class Kind(Enum):
    event_webhook = 'event_webhook'
    legacy_trigger = 'legacy_trigger'


class ZendeskEventRecord(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    schema_version: Literal[1]
    kind: Kind = Field(
        ...,
        description='event_webhook: a Zendesk event webhook (zen:event-type:...); legacy_trigger: a trigger/target body authenticated by a shared token.',
    )
    received_at: AwareDatetime
    webhook_id: str | None = None
    event_id: constr(min_length=1) = Field(
        ...,
        description="The event's id for event webhooks; a sha256 of the body for legacy bodies.",
    )
    ticket_id: str | None
    body: dict[str, Any]

# Generated from schemas/json/threadline.slack.events.v1.schema.json by `make models`. Do not edit.

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, conint, constr


class Kind(Enum):
    event_callback = 'event_callback'
    interaction = 'interaction'
    slash_command = 'slash_command'


class Source(Enum):
    http = 'http'
    socket_mode = 'socket_mode'


class SlackEventRecord(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    schema_version: Literal[1]
    kind: Kind = Field(
        ...,
        description='event_callback: an Events API envelope; interaction: the decoded `payload` of an interactivity request; slash_command: the form fields of a slash command.',
    )
    received_at: AwareDatetime
    source: Source
    team_id: str | None = Field(
        ..., description="The workspace the request is about (the envelope's team_id)."
    )
    event_id: constr(min_length=1) = Field(
        ...,
        description="Slack's event_id for event_callback; for interactions and commands a sha256 of the raw body. Consumers deduplicate on it.",
    )
    retry_num: conint(ge=0) | None = Field(
        None, description='X-Slack-Retry-Num of the delivery ingest acknowledged.'
    )
    retry_reason: str | None = None
    conversation_key: str | None = Field(
        None,
        description='<team>:<channel>:<thread root ts>, the record key; null for events without a channel.',
    )
    body: dict[str, Any]

# Generated from schemas/json/threadline.slack.events.v1.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class SlackEventRecord(BaseModel):
    """
    A verified Slack request as ingest received it: the Slack body unchanged, plus ingest metadata.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    schema_version: Literal[1]
    kind: Literal['event_callback', 'interaction', 'slash_command'] = Field(
        ...,
        description='event_callback: an Events API envelope; interaction: the decoded `payload` JSON of an interactivity request; slash_command: the form fields of a slash command.',
    )
    received_at: AwareDatetime = Field(
        ..., description='When ingest accepted the request (RFC 3339, UTC).'
    )
    source: Literal['http', 'socket_mode']
    team_id: str | None = Field(
        ...,
        description="The workspace that installed Threadline: the envelope's context_team_id when present (Slack Connect: team_id is then the author's organisation), else team_id; team.id for interactions. null only when Slack sends none (org-level requests).",
        min_length=1,
    )
    event_id: str = Field(
        ...,
        description="Slack's event_id for event_callback; for interactions and slash commands a stable id derived by ingest (sha256 hex of the raw body). Consumers deduplicate on it.",
        min_length=1,
    )
    retry_num: int | None = Field(
        ...,
        description='X-Slack-Retry-Num of the delivery ingest acknowledged; null for a first delivery.',
        ge=0,
    )
    retry_reason: str | None = Field(
        ..., description='X-Slack-Retry-Reason, e.g. http_timeout.'
    )
    conversation_key: str | None = Field(
        ...,
        description='<team_id>:<channel id>:<thread root ts>, also the record key: the thread of the message the request is about (an interaction: of its container message). null for requests about no message (app_uninstalled, member_joined_channel, slash commands).',
        pattern='^[^:]+:[^:]+:[0-9]+\\.[0-9]+$',
    )
    body: dict[str, Any] = Field(
        ...,
        description='The Slack body exactly as received; open to any field Slack adds.',
    )


class Event(BaseModel):
    type: str


class EventsApiEnvelope(BaseModel):
    """
    The Events API callback envelope (https://docs.slack.dev/apis/events-api/#callback-field).
    """

    token: str | None = None
    team_id: str | None = None
    api_app_id: str | None = None
    event: Event
    type: Literal['event_callback']
    event_id: str | None = Field(None, min_length=1)
    event_time: int | None = None
    context_team_id: str | None = None
    is_ext_shared_channel: bool | None = None
    authorizations: list[dict[str, Any]] | None = None

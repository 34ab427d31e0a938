# Generated from schemas/json/threadline.slack.events.v1.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType


class SlackEventRecord(Struct):
    """
    A verified Slack request as ingest received it: the Slack body unchanged, plus ingest metadata.
    """

    schema_version: Literal[1]
    kind: Annotated[
        Literal['event_callback', 'interaction', 'slash_command'],
        Meta(
            description='event_callback: an Events API envelope; interaction: the decoded `payload` JSON of an interactivity request; slash_command: the form fields of a slash command.'
        ),
    ]
    received_at: Annotated[
        str, Meta(description='When ingest accepted the request (RFC 3339, UTC).')
    ]
    source: Literal['http', 'socket_mode']
    team_id: Annotated[str, Meta(description="The workspace that installed Threadline: the envelope's context_team_id when present (Slack Connect: team_id is then the author's organisation), else team_id; team.id for interactions. null only when Slack sends none (org-level requests).", min_length=1)] | None
    event_id: Annotated[
        str,
        Meta(
            description="Slack's event_id for event_callback; for interactions and slash commands a stable id derived by ingest (sha256 hex of the raw body). Consumers deduplicate on it.",
            min_length=1,
        ),
    ]
    retry_num: Annotated[int, Meta(description='X-Slack-Retry-Num of the delivery ingest acknowledged; null for a first delivery.', ge=0)] | None
    retry_reason: Annotated[str, Meta(description='X-Slack-Retry-Reason, e.g. http_timeout.')] | None
    conversation_key: Annotated[str, Meta(description='<team_id>:<channel id>:<thread root ts>, also the record key: the thread of the message the request is about (an interaction: of its container message). null for requests about no message (app_uninstalled, member_joined_channel, slash commands).', pattern='^[^:]+:[^:]+:[0-9]+\\.[0-9]+$')] | None
    body: Annotated[
        dict[str, Any],
        Meta(
            description='The Slack body exactly as received; open to any field Slack adds.'
        ),
    ]


class Event(Struct):
    type: str


class EventsApiEnvelope(Struct):
    """
    The Events API callback envelope (https://docs.slack.dev/apis/events-api/#callback-field).
    """

    event: Event
    type: Literal['event_callback']
    token: str | UnsetType = UNSET
    team_id: str | UnsetType = UNSET
    api_app_id: str | UnsetType = UNSET
    event_id: Annotated[str, Meta(min_length=1)] | UnsetType = UNSET
    event_time: int | UnsetType = UNSET
    context_team_id: str | None | UnsetType = UNSET
    is_ext_shared_channel: bool | UnsetType = UNSET
    authorizations: list[dict[str, Any]] | UnsetType = UNSET

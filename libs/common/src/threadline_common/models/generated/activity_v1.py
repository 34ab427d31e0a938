# Generated from schemas/json/threadline.activity.v1.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Actor(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    id: str | None = Field(
        ...,
        description='Slack user id, or Zendesk user id as a string; null for the system.',
    )
    name: str | None = None
    email: str | None = None
    role: Literal['requester', 'responder', 'agent', 'bot', 'system']


class Activity(BaseModel):
    """
    One thing that happened in a conversation, on either side, normalised for the reporter. event_id is stable: a replay overwrites the same document.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    schema_version: Literal[1]
    event_id: str = Field(
        ...,
        description='Derived from the source event, e.g. slack:<channel>:<ts>, zd-comment:<comment id>.',
        min_length=1,
    )
    type: Literal['message', 'reply', 'reaction', 'comment', 'internal_note', 'status_change', 'ticket_created', 'edit', 'delete', 'join']
    conversation_id: str = Field(
        ...,
        description='As in threadline.links; <team>:<channel> for channel activity outside a thread (join).',
        min_length=1,
    )
    occurred_at: AwareDatetime
    channel_id: str
    thread_ts: str | None
    ticket_id: int | None
    actor: Actor
    source: Literal['slack', 'zendesk', 'email']
    text: str | None = Field(
        None, description='null for internal notes and events without text.'
    )
    public: bool | None = True
    status: str | None = Field(
        None, description='Ticket status after the event (lower case).'
    )
    previous_status: str | None = None
    tags: list[str] | None = None
    reaction: str | None = Field(None, description='Emoji name, for type reaction.')

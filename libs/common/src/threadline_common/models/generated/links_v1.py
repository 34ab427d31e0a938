# Generated from schemas/json/threadline.links.v1.schema.json by `make models`. Do not edit.

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, conint


class Origin(Enum):
    slack = 'slack'
    email = 'email'


class Status(Enum):
    creating = 'creating'
    new = 'new'
    open = 'open'
    pending = 'pending'
    hold = 'hold'
    solved = 'solved'
    closed = 'closed'
    failed = 'failed'


class Conversation(BaseModel):
    model_config = ConfigDict(
        extra='allow',
    )
    conversation_id: str
    team_id: str
    channel_id: str
    thread_ts: str | None = Field(
        ..., description='null until the Slack thread exists (emailed tickets).'
    )
    origin: Origin
    status: Status
    created_at: str
    updated_at: str
    requester_slack_id: str | None = None
    ticket_id: int | None
    ticket_url: str | None = None
    generation: conint(ge=1) | None = Field(
        None, description='1 for the first ticket, n for the (n-1)th follow-up.'
    )
    previous_ticket_ids: list[int] | None = None
    responders: list[str] | None = None
    moved_to: str | None = None
    pending_comments: list[dict[str, Any]] | None = None
    seen: list[str] | None = Field(None, max_length=500)

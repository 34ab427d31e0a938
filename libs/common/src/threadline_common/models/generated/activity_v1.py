# Generated from schemas/json/threadline.activity.v1.schema.json by `make models`. Do not edit.

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, constr


class Type(Enum):
    message = 'message'
    reply = 'reply'
    reaction = 'reaction'
    comment = 'comment'
    internal_note = 'internal_note'
    status_change = 'status_change'
    ticket_created = 'ticket_created'
    edit = 'edit'
    delete = 'delete'
    join = 'join'


class Role(Enum):
    requester = 'requester'
    responder = 'responder'
    agent = 'agent'
    bot = 'bot'
    system = 'system'


class Actor(BaseModel):
    id: str | None
    name: str | None = None
    email: str | None = None
    role: Role


class Source(Enum):
    slack = 'slack'
    zendesk = 'zendesk'
    email = 'email'


class Activity(BaseModel):
    model_config = ConfigDict(
        extra='allow',
    )
    schema_version: Literal[1]
    event_id: constr(min_length=1)
    type: Type
    conversation_id: str
    occurred_at: str
    channel_id: str
    thread_ts: str | None = None
    ticket_id: int | None = None
    actor: Actor
    source: Source
    text: str | None = None
    public: bool | None = None
    status: str | None = None
    previous_status: str | None = None
    reaction: str | None = None

# Generated from schemas/json/threadline.sync.results.v1.schema.json by `make models`. Do not edit.

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, constr


class Kind(Enum):
    ticket_created = 'ticket_created'
    thread_opened = 'thread_opened'
    failed = 'failed'


class SyncResult(BaseModel):
    model_config = ConfigDict(
        extra='allow',
    )
    schema_version: Literal[1] | None = None
    kind: Kind = Field(
        ...,
        description='ticket_created: a ticket (or follow-up) exists; thread_opened: a Slack thread was opened for an emailed ticket; failed: the command could not be performed and was dead-lettered.',
    )
    conversation_id: constr(min_length=1)
    command_id: str
    ticket_id: int | None = None
    ticket_url: str | None = None
    team_id: str | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
    moved_from: str | None = Field(
        None,
        description="For thread_opened sent to the email conversation (zd:<ticket>): that conversation id; null on the copy sent to the new thread's conversation.",
    )
    reason: str | None = None

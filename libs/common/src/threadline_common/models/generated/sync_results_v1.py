# Generated from schemas/json/threadline.sync.results.v1.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SyncResult(BaseModel):
    """
    What zendesk-sync reports to the router after performing a command.
    """

    model_config = ConfigDict(
        extra='allow',
    )
    schema_version: Literal[1] | None = None
    kind: Literal['ticket_created', 'thread_opened', 'failed'] = Field(
        ...,
        description='ticket_created: a ticket (or follow-up) exists; thread_opened: a Slack thread was opened for an emailed ticket; failed: the command could not be performed and was dead-lettered.',
    )
    conversation_id: str = Field(..., min_length=1)
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

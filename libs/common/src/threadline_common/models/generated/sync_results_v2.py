# Generated from schemas/json/threadline.sync.results.v2.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SyncResult(BaseModel):
    """
    Version 2 reads every v1 result and adds the kind thread_gone, the failed command's type, and bounds on every text. What zendesk-sync reports to the router after performing a command.
    """

    model_config = ConfigDict(
        extra='allow',
    )
    schema_version: Literal[1, 2] | None = None
    kind: Literal['ticket_created', 'thread_opened', 'failed', 'thread_gone'] = (
        Field(
            ...,
            description='ticket_created: a ticket (or follow-up) exists; thread_opened: a Slack thread was opened for an emailed ticket; failed: the command could not be performed and was dead-lettered. thread_gone: Slack answered that the thread (or its channel) no longer exists; the command is not retried.',
        )
    )
    conversation_id: str = Field(..., max_length=512, min_length=1)
    command_id: str = Field(..., max_length=512)
    ticket_id: int | None = None
    ticket_url: str | None = None
    team_id: str | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
    moved_from: str | None = Field(
        None,
        description="For thread_opened sent to the email conversation (zd:<ticket>): that conversation id; null on the copy sent to the new thread's conversation.",
    )
    reason: str | None = Field(None, max_length=1000)
    command_type: str | None = Field(
        None,
        description='The type of the command this result is about (absent in v1 records), so that the router never answers a failed notice with another notice.',
        max_length=64,
    )

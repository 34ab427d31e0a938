# Generated from schemas/json/threadline.links.v3.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Conversation(BaseModel):
    """
    Version 3 reads every v2 record and adds thread_gone_at. The latest state of one conversation (a Slack thread and its ticket): the value of the compacted links table, keyed by conversation_id. A null value (tombstone) unlinks the conversation; compaction then forgets it.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    schema_version: Literal[1, 2, 3] | None = Field(None, description='Absent means 1.')
    conversation_id: str = Field(
        ...,
        description='<team>:<channel>:<thread ts>, or zd:<ticket id> for an emailed ticket.',
        min_length=1,
    )
    team_id: str = Field(
        ..., description='Empty until an emailed ticket has its Slack thread.'
    )
    channel_id: str = Field(..., min_length=1)
    thread_ts: str | None = Field(
        ..., description='null until the Slack thread exists (emailed tickets).'
    )
    ticket_id: int | None = Field(
        ..., description='null while the ticket is being created.'
    )
    ticket_url: str | None
    status: Literal['creating', 'new', 'open', 'pending', 'hold', 'solved', 'closed', 'failed'] = (
        Field(
            ...,
            description="The ticket's Zendesk status, or creating (create_ticket sent, no ticket yet) and failed (it could not be created).",
        )
    )
    origin: Literal['slack', 'email']
    requester_slack_id: str | None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    generation: int | None = Field(
        None, description='1 for the first ticket, n for the (n-1)th follow-up.', ge=1
    )
    previous_ticket_ids: list[int] = Field(
        ...,
        description='Closed tickets this thread had before the current one, oldest first.',
    )
    responders: list[str] | None = Field(
        None, description='Slack users other than the requester who replied.'
    )
    moved_to: str | None = Field(
        None,
        description='For zd:<ticket> conversations: the thread conversation that took over.',
    )
    pending_comments: list[dict[str, Any]] | None = Field(
        None,
        description='Messages waiting for the other side to exist, in order: agent comments of an emailed ticket before its Slack thread is open. Flushed, then emptied, when it is.',
    )
    seen: list[str] | None = Field(
        None,
        description='Keys of events already applied, newest last; a redelivery is recognised and skipped.',
        max_length=500,
    )
    waiting_since: AwareDatetime | None = Field(
        None,
        description='Since when the conversation waits on the support side (the request or a Slack reply no agent has answered yet); null when it does not.',
    )
    reminders_sent: int | None = Field(
        None, description='Reminders posted since waiting_since.', ge=0
    )
    thread_gone_at: AwareDatetime | None = Field(
        None,
        description="When Slack answered that the conversation's thread (or its channel) no longer exists: nothing more is posted there and the ticket was told once in an internal note. null while it exists; a reply in the thread clears it.",
    )

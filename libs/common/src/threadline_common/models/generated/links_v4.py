# Generated from schemas/json/threadline.links.v4.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, Struct


class Conversation(Struct):
    """
    Version 4 holds what v3 holds, with every field required: the router writes them all (it reads v1..v3 rows and upgrades them, with the defaults those versions imply). The latest state of one conversation (a Slack thread and its ticket): the value of the compacted links table, keyed by conversation_id. A null value (tombstone) unlinks the conversation; compaction then forgets it.
    """

    schema_version: Literal[4]
    conversation_id: Annotated[
        str,
        Meta(
            description='<team>:<channel>:<thread ts>, or zd:<ticket id> for an emailed ticket.',
            min_length=1,
        ),
    ]
    team_id: Annotated[
        str, Meta(description='Empty until an emailed ticket has its Slack thread.')
    ]
    channel_id: Annotated[str, Meta(min_length=1)]
    thread_ts: Annotated[str, Meta(description='null until the Slack thread exists (emailed tickets).')] | None
    ticket_id: Annotated[int, Meta(description='null while the ticket is being created.')] | None
    ticket_url: str | None
    status: Annotated[
        Literal['creating', 'new', 'open', 'pending', 'hold', 'solved', 'closed', 'failed'],
        Meta(
            description="The ticket's Zendesk status, or creating (create_ticket sent, no ticket yet) and failed (it could not be created)."
        ),
    ]
    origin: Literal['slack', 'email']
    requester_slack_id: str | None
    created_at: str
    updated_at: str
    generation: Annotated[
        int,
        Meta(description='1 for the first ticket, n for the (n-1)th follow-up.', ge=1),
    ]
    previous_ticket_ids: Annotated[
        list[int],
        Meta(
            description='Closed tickets this thread had before the current one, oldest first.'
        ),
    ]
    responders: Annotated[
        list[str], Meta(description='Slack users other than the requester who replied.')
    ]
    moved_to: Annotated[str, Meta(description='For zd:<ticket> conversations: the thread conversation that took over.')] | None
    pending_comments: Annotated[
        list[dict[str, Any]],
        Meta(
            description='Messages waiting for the other side to exist, in order: agent comments of an emailed ticket before its Slack thread is open. Flushed, then emptied, when it is.'
        ),
    ]
    seen: Annotated[
        list[str],
        Meta(
            description='Keys of events already applied, newest last; a redelivery is recognised and skipped.',
            max_length=500,
        ),
    ]
    waiting_since: Annotated[str, Meta(description='Since when the conversation waits on the support side (the request or a Slack reply no agent has answered yet); null when it does not.')] | None
    reminders_sent: Annotated[
        int, Meta(description='Reminders posted since waiting_since.', ge=0)
    ]
    thread_gone_at: Annotated[str, Meta(description="When Slack answered that the conversation's thread (or its channel) no longer exists: nothing more is posted there and the ticket was told once in an internal note. null while it exists; a reply in the thread clears it.")] | None

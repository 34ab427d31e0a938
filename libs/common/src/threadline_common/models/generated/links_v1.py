# Generated from schemas/json/threadline.links.v1.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType


class Conversation(Struct):
    """
    The latest state of one conversation (a Slack thread and its ticket): the value of the compacted links table, keyed by conversation_id. A null value (tombstone) unlinks the conversation; compaction then forgets it.
    """

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
    previous_ticket_ids: Annotated[
        list[int],
        Meta(
            description='Closed tickets this thread had before the current one, oldest first.'
        ),
    ]
    schema_version: (
        Annotated[Literal[1], Meta(description='Absent means 1.')] | UnsetType
    ) = UNSET
    generation: (
        Annotated[
            int,
            Meta(
                description='1 for the first ticket, n for the (n-1)th follow-up.', ge=1
            ),
        ]
        | UnsetType
    ) = UNSET
    responders: (
        Annotated[
            list[str],
            Meta(description='Slack users other than the requester who replied.'),
        ]
        | UnsetType
    ) = UNSET
    moved_to: (
        Annotated[
            str,
            Meta(description='For zd:<ticket> conversations: the thread conversation that took over.'),
        ]
        | None
        | UnsetType
    ) = UNSET
    pending_comments: (
        Annotated[
            list[dict[str, Any]],
            Meta(
                description='Messages waiting for the other side to exist, in order: agent comments of an emailed ticket before its Slack thread is open. Flushed, then emptied, when it is.'
            ),
        ]
        | UnsetType
    ) = UNSET
    seen: (
        Annotated[
            list[str],
            Meta(
                description='Keys of events already applied, newest last; a redelivery is recognised and skipped.',
                max_length=500,
            ),
        ]
        | UnsetType
    ) = UNSET

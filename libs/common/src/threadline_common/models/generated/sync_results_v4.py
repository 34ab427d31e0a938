# Generated from schemas/json/threadline.sync.results.v4.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType


class Choices(Struct):
    what: Annotated[
        list[Literal['agent_replies', 'requester_comments', 'status_changes']],
        Meta(min_length=1),
    ]
    detail: Literal['full', 'first', 'summary']
    chars: Annotated[int, Meta(ge=1, le=3000)] | None | UnsetType = UNSET


class Follower(Struct):
    """
    For follower_checked: who follows, what they chose, and whether they may read the text of the ticket's Slack thread.
    """

    team_id: Annotated[str, Meta(min_length=1)]
    user: Annotated[str, Meta(min_length=1)]
    sees_thread: Annotated[
        bool,
        Meta(
            description="False when the ticket's thread is in a channel they are not a member of: they get no text, only who, when and the link."
        ),
    ]
    choices: Choices


class SyncResult(Struct):
    """
    Version 4 reads every v1..v3 result and adds the kind comment_added (a Slack message was copied to Zendesk as a comment: its `comment_id`, so the router recognises the comment webhook for Threadline's own copy and counts it once). (Version 3 added follower_checked and its `follower`; version 2 added thread_gone, the failed command's type, and bounds on every text.) What zendesk-sync reports to the router after performing a command.
    """

    kind: Annotated[
        Literal['ticket_created', 'thread_opened', 'failed', 'thread_gone', 'follower_checked', 'comment_added'],
        Meta(
            description="ticket_created: a ticket (or follow-up) exists; thread_opened: a Slack thread was opened for an emailed ticket; failed: the command could not be performed and was dead-lettered. thread_gone: Slack answered that the thread (or its channel) no longer exists; the command is not retried. follower_checked: a person asked to follow a ticket that exists and they may see (conversation_id ticket:<id>); they were told. comment_added: a Slack message was added to the ticket as a comment (`comment_id`); the Zendesk comment webhook for it is Threadline's own copy."
        ),
    ]
    conversation_id: Annotated[str, Meta(max_length=512, min_length=1)]
    command_id: Annotated[str, Meta(max_length=512)]
    schema_version: Literal[1, 2, 3, 4] | UnsetType = UNSET
    ticket_id: int | None | UnsetType = UNSET
    ticket_url: str | None | UnsetType = UNSET
    comment_id: (
        Annotated[
            int,
            Meta(description='For comment_added: the id of the Zendesk comment Threadline wrote.'),
        ]
        | None
        | UnsetType
    ) = UNSET
    team_id: str | None | UnsetType = UNSET
    channel_id: str | None | UnsetType = UNSET
    thread_ts: str | None | UnsetType = UNSET
    moved_from: (
        Annotated[
            str,
            Meta(description="For thread_opened sent to the email conversation (zd:<ticket>): that conversation id; null on the copy sent to the new thread's conversation."),
        ]
        | None
        | UnsetType
    ) = UNSET
    reason: Annotated[str, Meta(max_length=1000)] | None | UnsetType = UNSET
    command_type: (
        Annotated[
            str,
            Meta(description='The type of the command this result is about (absent in v1 records), so that the router never answers a failed notice with another notice.', max_length=64),
        ]
        | None
        | UnsetType
    ) = UNSET
    follower: (
        Annotated[
            Follower | None,
            Meta(description="For follower_checked: who follows, what they chose, and whether they may read the text of the ticket's Slack thread."),
        ]
        | None
        | UnsetType
    ) = UNSET

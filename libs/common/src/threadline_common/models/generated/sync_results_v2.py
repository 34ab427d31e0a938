# Generated from schemas/json/threadline.sync.results.v2.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType


class SyncResult(Struct):
    """
    Version 2 reads every v1 result and adds the kind thread_gone, the failed command's type, and bounds on every text. What zendesk-sync reports to the router after performing a command.
    """

    kind: Annotated[
        Literal['ticket_created', 'thread_opened', 'failed', 'thread_gone'],
        Meta(
            description='ticket_created: a ticket (or follow-up) exists; thread_opened: a Slack thread was opened for an emailed ticket; failed: the command could not be performed and was dead-lettered. thread_gone: Slack answered that the thread (or its channel) no longer exists; the command is not retried.'
        ),
    ]
    conversation_id: Annotated[str, Meta(max_length=512, min_length=1)]
    command_id: Annotated[str, Meta(max_length=512)]
    schema_version: Literal[1, 2] | UnsetType = UNSET
    ticket_id: int | None | UnsetType = UNSET
    ticket_url: str | None | UnsetType = UNSET
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

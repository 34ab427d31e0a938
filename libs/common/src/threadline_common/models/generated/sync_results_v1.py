# Generated from schemas/json/threadline.sync.results.v1.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType


class SyncResult(Struct):
    """
    What zendesk-sync reports to the router after performing a command.
    """

    kind: Annotated[
        Literal['ticket_created', 'thread_opened', 'failed'],
        Meta(
            description='ticket_created: a ticket (or follow-up) exists; thread_opened: a Slack thread was opened for an emailed ticket; failed: the command could not be performed and was dead-lettered.'
        ),
    ]
    conversation_id: Annotated[str, Meta(min_length=1)]
    command_id: str
    schema_version: Literal[1] | UnsetType = UNSET
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
    reason: str | None | UnsetType = UNSET

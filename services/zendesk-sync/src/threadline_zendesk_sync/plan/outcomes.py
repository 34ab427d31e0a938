"""What performing a command did, and the threadline.sync.results records it reports (v2; v3 for
follower_checked; v4 for comment_added)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from msgspec import UNSET

from threadline_common.models import Activity, CommandV4, SyncResultV4
from threadline_common.models.generated.sync_results_v4 import Follower


@dataclass
class Outcome:
    """What performing a command did: `done`; `already_done` when an earlier attempt had done
    it; `skipped` when there was nothing to do (our own comment coming back)."""

    effect: str
    results: list[SyncResultV4] = field(default_factory=list)
    detail: str = ""
    # What the reporter is told of it (an automatic answer offered, with what zendesk-sync found).
    activity: list[Activity] = field(default_factory=list)


# The kinds zendesk-sync reports (mypy holds them to SyncResultV4.kind, the contract's).
ResultKind: TypeAlias = Literal[
    "ticket_created", "thread_opened", "failed", "thread_gone", "follower_checked", "comment_added"
]
REASON_LIMIT = 1000  # sync.results v2 bounds the reason


def thread_key(team_id: str, channel_id: str, ts: str) -> str:
    return f"{team_id}:{channel_id}:{ts}"


def thread_of(conversation_id: str) -> tuple[str | None, str | None, str | None]:
    """(team, channel, thread ts) of a `team:channel:ts` conversation id; Nones for `zd:<id>`."""
    parts = conversation_id.split(":")
    if len(parts) == 3 and parts[0] != "zd":
        return parts[0], parts[1], parts[2]
    return None, None, None


def command_type(command: CommandV4) -> str:
    """The command's `type`: the tag of its variant."""
    return str(type(command).__struct_config__.tag)


def result(
    kind: ResultKind,
    command: CommandV4,
    *,
    conversation_id: str | None = None,
    ticket_id: int | None = None,
    ticket_url: str | None = None,
    team_id: str | None = None,
    channel_id: str | None = None,
    thread_ts: str | None = None,
    moved_from: str | None = None,
    reason: str | None = None,
    follower: Follower | None = None,
    comment_id: int | None = None,
) -> SyncResultV4:
    """A threadline.sync.results v2 record; thread fields default to the command's conversation.
    It names its command by id and type, never by content, so a chain of results cannot grow."""
    conversation_id = conversation_id or command.conversation_id
    team, channel, ts = thread_of(conversation_id)
    return SyncResultV4(
        schema_version=4 if comment_id is not None else 3 if follower is not None else 2,
        kind=kind,
        conversation_id=conversation_id,
        command_id=command.command_id,
        command_type=command_type(command),
        ticket_id=ticket_id,
        ticket_url=ticket_url,
        team_id=team_id or team,
        channel_id=channel_id or channel,
        thread_ts=thread_ts or ts,
        moved_from=moved_from,
        reason=reason[:REASON_LIMIT] if reason else None,
        follower=UNSET if follower is None else follower,
        comment_id=UNSET if comment_id is None else comment_id,
    )

"""The conversation a links row holds (threadline.links v4) and what is read off it.

The router's state is the generated `Conversation` struct itself; the helpers that were methods
of the hand-written mirror are functions here. Older rows (v1..v3) are upgraded to v4 with the
defaults those versions imply, so the rules only ever see v4.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal, TypeAlias

from msgspec import UNSET

from threadline_common.models import ConversationV3, ConversationV4, SyncResultV4

Conversation: TypeAlias = ConversationV4
LINKS_VERSION: Final = 4
Status: TypeAlias = Literal["creating", "new", "open", "pending", "hold", "solved", "closed", "failed"]
Origin: TypeAlias = Literal["slack", "email"]


def external_id(state: Conversation) -> str:
    """The ticket's external_id: the conversation id, `#<n>` for the (n-1)th follow-up."""
    return state.conversation_id if state.generation == 1 else f"{state.conversation_id}#{state.generation}"


def conversation_key(team_id: str, channel_id: str, root_ts: str) -> str:
    return f"{team_id}:{channel_id}:{root_ts}"


def thread_conversation_id(result: SyncResultV4) -> str | None:
    """The conversation of the Slack thread a result names (thread_opened), if it names one."""
    if result.team_id and result.channel_id and result.thread_ts:
        return conversation_key(result.team_id, result.channel_id, result.thread_ts)
    return None


def new_conversation(
    *,
    conversation_id: str,
    team_id: str,
    channel_id: str,
    thread_ts: str | None,
    origin: Origin,
    status: Status,
    created_at: str,
    updated_at: str,
    requester_slack_id: str | None = None,
    ticket_id: int | None = None,
    ticket_url: str | None = None,
    seen: Iterable[str] = (),
    waiting_since: str | None = None,
) -> Conversation:
    """A conversation that has just begun: no follow-up, responder, reminder or pending comment yet."""
    return Conversation(
        schema_version=LINKS_VERSION,
        conversation_id=conversation_id,
        team_id=team_id,
        channel_id=channel_id,
        thread_ts=thread_ts,
        ticket_id=ticket_id,
        ticket_url=ticket_url,
        status=status,
        origin=origin,
        requester_slack_id=requester_slack_id,
        created_at=created_at,
        updated_at=updated_at,
        generation=1,
        previous_ticket_ids=[],
        responders=[],
        moved_to=None,
        pending_comments=[],
        seen=list(seen),
        waiting_since=waiting_since,
        reminders_sent=0,
        thread_gone_at=None,
    )


def upgrade(old: ConversationV3) -> Conversation:
    """A v1..v3 row as v4: what an older version leaves out reads as the router always read it."""
    return Conversation(
        schema_version=LINKS_VERSION,
        conversation_id=old.conversation_id,
        team_id=old.team_id,
        channel_id=old.channel_id,
        thread_ts=old.thread_ts,
        ticket_id=old.ticket_id,
        ticket_url=old.ticket_url,
        status=old.status,
        origin=old.origin,
        requester_slack_id=old.requester_slack_id,
        created_at=old.created_at,
        updated_at=old.updated_at,
        generation=1 if old.generation is UNSET else old.generation,
        previous_ticket_ids=old.previous_ticket_ids,
        responders=[] if old.responders is UNSET else old.responders,
        moved_to=None if old.moved_to is UNSET else old.moved_to,
        pending_comments=[] if old.pending_comments is UNSET else old.pending_comments,
        seen=[] if old.seen is UNSET else old.seen,
        waiting_since=None if old.waiting_since is UNSET else old.waiting_since,
        reminders_sent=0 if old.reminders_sent is UNSET else old.reminders_sent,
        thread_gone_at=None if old.thread_gone_at is UNSET else old.thread_gone_at,
    )

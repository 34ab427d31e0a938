"""Builds the activity records the rules emit for the reporter (threadline.activity v1 kinds as v1
wrote them; v2 for the kinds and fields v2 added: answers, copies, where a status change was done)."""

from __future__ import annotations

from typing import Literal

from msgspec import UNSET, UnsetType

from threadline_common.models import ACTIVITY_V2_KINDS, Activity, ActivityAnswer, Actor
from threadline_router.conversation import Conversation

Kind = Literal[
    "message", "reply", "reaction", "comment", "internal_note", "status_change", "ticket_created", "edit", "delete",
    "answer_offered", "answer_feedback", "copy",
]  # fmt: skip
# Where a solve, close or reopen was done (status_change's `via`).
Via = Literal["slack_emoji", "slack_button", "slack_command", "slack_reply", "answer", "zendesk"]
Role = Literal["requester", "responder", "agent", "bot", "system"]
Source = Literal["slack", "zendesk", "email"]


def activity(
    kind: Kind,
    event_id: str,
    state: Conversation,
    *,
    occurred_at: str,
    actor_id: str | None,
    role: Role,
    source: Source,
    text: str | None = None,
    public: bool = True,
    status: str | None = None,
    previous_status: str | None = None,
    reaction: str | None = None,
    via: Via | None = None,
    channel_id: str | None = None,
    thread_ts: str | UnsetType | None = UNSET,
    ticket_id: int | UnsetType | None = UNSET,
    answer: ActivityAnswer | None = None,
) -> Activity:
    """One thing that happened in `state`'s conversation; where and which ticket are the
    conversation's unless given. Every v1 field is written (null when unknown), as v1 records are."""
    record = Activity(
        schema_version=2 if kind in ACTIVITY_V2_KINDS or via is not None else 1,
        event_id=event_id,
        type=kind,
        conversation_id=state.conversation_id,
        occurred_at=occurred_at,
        channel_id=channel_id or state.channel_id,
        thread_ts=state.thread_ts if thread_ts is UNSET else thread_ts,
        ticket_id=state.ticket_id if ticket_id is UNSET else ticket_id,
        actor=Actor(id=actor_id, role=role),
        source=source,
        text=text,
        public=public,
        status=status,
        previous_status=previous_status,
        reaction=reaction,
    )
    if via is not None:
        record.via = via  # a v2 field, like `answer`
    if answer is not None:
        record.answer = answer  # a v2 field: absent from the v1 kinds' records
    return record

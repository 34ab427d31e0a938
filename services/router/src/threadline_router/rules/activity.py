"""Builds the activity records the rules emit for the reporter (threadline.activity v1 kinds as v1
wrote them; v2 for the automatic answers' kinds)."""

from __future__ import annotations

from typing import Literal

from msgspec import UNSET, UnsetType

from threadline_common.models import ActivityAnswer, ActivityV2, ActorV2
from threadline_router.conversation import Conversation

Kind = Literal[
    "message", "reply", "reaction", "comment", "internal_note", "status_change", "ticket_created", "edit", "delete",
    "answer_offered", "answer_feedback",
]  # fmt: skip
V2_KINDS = frozenset({"answer_offered", "answer_feedback"})
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
    channel_id: str | None = None,
    thread_ts: str | UnsetType | None = UNSET,
    ticket_id: int | UnsetType | None = UNSET,
    answer: ActivityAnswer | None = None,
) -> ActivityV2:
    """One thing that happened in `state`'s conversation; where and which ticket are the
    conversation's unless given. Every field is written (null when unknown), as v1 records are."""
    record = ActivityV2(
        schema_version=2 if kind in V2_KINDS else 1,
        event_id=event_id,
        type=kind,
        conversation_id=state.conversation_id,
        occurred_at=occurred_at,
        channel_id=channel_id or state.channel_id,
        thread_ts=state.thread_ts if thread_ts is UNSET else thread_ts,
        ticket_id=state.ticket_id if ticket_id is UNSET else ticket_id,
        actor=ActorV2(id=actor_id, role=role),
        source=source,
        text=text,
        public=public,
        status=status,
        previous_status=previous_status,
        reaction=reaction,
    )
    if answer is not None:
        record.answer = answer  # a v2 field: absent from the v1 kinds' records
    return record

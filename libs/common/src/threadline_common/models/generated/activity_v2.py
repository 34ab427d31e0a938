# Generated from schemas/json/threadline.activity.v2.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from msgspec import UNSET, Meta, Struct, UnsetType


class Actor(Struct):
    id: Annotated[str, Meta(description='Slack user id, or Zendesk user id as a string; null for the system.')] | None
    role: Literal['requester', 'responder', 'agent', 'bot', 'system']
    name: str | None | UnsetType = UNSET
    email: str | None | UnsetType = UNSET


RuleId: TypeAlias = Annotated[str, Meta(min_length=1)]


class Answer(Struct):
    rule_ids: Annotated[
        list[RuleId],
        Meta(
            description='The answer rules offered (answer_offered) or offered before the feedback (answer_feedback).',
            max_length=20,
        ),
    ]
    similar: (
        Annotated[int, Meta(description='Similar solved conversations offered.', ge=0)]
        | UnsetType
    ) = UNSET
    articles: (
        Annotated[int, Meta(description='Help Center articles offered.', ge=0)]
        | UnsetType
    ) = UNSET
    feedback: (
        Annotated[
            Literal['solved', 'more'],
            Meta(description='answer_feedback: solved ("This solved it") or more ("I still need help").'),
        ]
        | None
        | UnsetType
    ) = UNSET


class Activity(Struct):
    """
    Version 2 reads every v1 activity and adds: the automatic answers (answer_offered: what a new question was offered; answer_feedback: what the requester answered, each with an `answer`); the type `copy` (a Zendesk comment that is Threadline's copy of a Slack message: it overwrites, under the same event_id, the comment it was first counted as, and no figure counts it); and, on status changes, `via`: where the solve, close or reopen was done. One thing that happened in a conversation, on either side, normalised for the reporter. event_id is stable: a replay overwrites the same document.
    """

    schema_version: Annotated[
        Literal[1, 2],
        Meta(
            description="1: a record as v1 wrote it; 2: a record that may use v2's additions."
        ),
    ]
    event_id: Annotated[
        str,
        Meta(
            description='Derived from the source event, e.g. slack:<channel>:<ts>, zd-comment:<comment id>.',
            min_length=1,
        ),
    ]
    type: Literal['message', 'reply', 'reaction', 'comment', 'internal_note', 'status_change', 'ticket_created', 'edit', 'delete', 'join', 'copy', 'answer_offered', 'answer_feedback']
    conversation_id: Annotated[
        str,
        Meta(
            description='As in threadline.links; <team>:<channel> for channel activity outside a thread (join).',
            min_length=1,
        ),
    ]
    occurred_at: str
    channel_id: str
    thread_ts: str | None
    ticket_id: int | None
    actor: Actor
    source: Literal['slack', 'zendesk', 'email']
    text: (
        Annotated[
            str,
            Meta(description='null for internal notes and events without text.'),
        ]
        | None
        | UnsetType
    ) = UNSET
    public: bool | UnsetType = True
    status: (
        Annotated[str, Meta(description='Ticket status after the event (lower case).')]
        | None
        | UnsetType
    ) = UNSET
    previous_status: str | None | UnsetType = UNSET
    via: (
        Annotated[
            Literal['slack_emoji', 'slack_button', 'slack_command', 'slack_reply', 'answer', 'zendesk'],
            Meta(description='For status_change: where it was done. slack_emoji, slack_button, slack_command (a typed `solved` or the slash command), slack_reply (a requester\'s reply reopened it), answer ("This solved it" on an automatic answer), zendesk (an agent or an automation in Zendesk). Null when unknown (v1).'),
        ]
        | None
        | UnsetType
    ) = UNSET
    tags: list[str] | UnsetType = UNSET
    reaction: (
        Annotated[str, Meta(description='Emoji name, for type reaction.')]
        | None
        | UnsetType
    ) = UNSET
    answer: (
        Annotated[
            Answer,
            Meta(description='For answer_offered and answer_feedback: which rules, how many suggestions, and what the requester answered.'),
        ]
        | None
        | UnsetType
    ) = UNSET

# Generated from schemas/json/threadline.commands.v1.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from msgspec import UNSET, Meta, Struct, UnsetType


class Cause(Struct):
    """
    The record that caused the command.
    """

    topic: Annotated[
        str,
        Meta(
            description='Canonical (unprefixed) source topic, e.g. threadline.slack.events.',
            min_length=1,
        ),
    ]
    event_id: Annotated[
        str,
        Meta(
            description="The source record's event_id (or command_id for threadline.sync.results).",
            min_length=1,
        ),
    ]


class SlackPerson(Struct):
    """
    A Slack user as the router knows them; zendesk-sync looks up what is null (users.info) to find or create the Zendesk user.
    """

    slack_user_id: Annotated[str, Meta(description='null when no person is the author (notes Threadline writes itself).')] | None
    name: str | None | UnsetType = UNSET
    email: str | None | UnsetType = UNSET


class SlackFile(Struct):
    """
    A file shared with the message, to attach to the comment.
    """

    id: str
    name: str | UnsetType = UNSET
    mimetype: str | UnsetType = UNSET
    size: Annotated[int, Meta(ge=0)] | UnsetType = UNSET
    url_private: str | UnsetType = UNSET


class CustomField(Struct):
    id: int
    value: Any


class NewTicket(Struct):
    """
    What a new ticket is made of (create_ticket and create_followup).
    """

    external_id: Annotated[
        str,
        Meta(
            description="The ticket's external_id: the conversation id, #<n> for the (n-1)th follow-up. zendesk-sync searches it before creating, so a retry never creates twice.",
            min_length=1,
        ),
    ]
    subject: str
    body: Annotated[str, Meta(description='The first comment.')]
    requester: SlackPerson
    slack_channel_id: Annotated[str, Meta(min_length=1)]
    slack_thread_ts: Annotated[str, Meta(min_length=1)]
    permalink: (
        Annotated[
            str,
            Meta(description='Permalink of the opening Slack message; zendesk-sync asks chat.getPermalink when null.'),
        ]
        | None
        | UnsetType
    ) = UNSET
    files: list[SlackFile] | UnsetType = UNSET
    fetch_message: (
        Annotated[
            bool,
            Meta(
                description="Opened by a reaction: read the message's text and author from Slack instead of body and requester."
            ),
        ]
        | UnsetType
    ) = UNSET
    opened_by: (
        Annotated[
            str,
            Meta(description='Slack user who asked for the ticket when it is not the requester (reaction).'),
        ]
        | None
        | UnsetType
    ) = UNSET
    group_id: int | None | UnsetType = UNSET
    brand_id: int | None | UnsetType = UNSET
    ticket_form_id: int | None | UnsetType = UNSET
    priority: Literal['low', 'normal', 'high', 'urgent'] | None | UnsetType = UNSET
    tags: list[str] | UnsetType = UNSET
    custom_fields: list[CustomField] | UnsetType = UNSET


class SlackMessageMetadata(Struct):
    """
    Slack message metadata: marks Threadline's own posts so the events they cause are recognised.
    """

    event_type: Annotated[str, Meta(pattern='^[a-z0-9_]+$')]
    event_payload: dict[str, Any]


class CommandEnvelope(Struct):
    """
    Fields every command has.
    """

    schema_version: Literal[1]
    command_id: Annotated[
        str,
        Meta(
            description='Idempotency key derived from the causing event, e.g. comment:<channel>:<ts>.',
            min_length=1,
        ),
    ]
    conversation_id: Annotated[
        str,
        Meta(
            description='<team>:<channel>:<thread ts>, or zd:<ticket id> for an emailed ticket without a thread; the record key.',
            min_length=1,
        ),
    ]
    issued_at: str
    cause: Cause


class ZendeskCreateTicket(Struct, tag_field='type', tag='zendesk.create_ticket'):
    """
    Open a ticket for a new Slack thread.
    """

    schema_version: Literal[1]
    command_id: Annotated[
        str,
        Meta(
            description='Idempotency key derived from the causing event, e.g. comment:<channel>:<ts>.',
            min_length=1,
        ),
    ]
    conversation_id: Annotated[
        str,
        Meta(
            description='<team>:<channel>:<thread ts>, or zd:<ticket id> for an emailed ticket without a thread; the record key.',
            min_length=1,
        ),
    ]
    issued_at: str
    cause: Cause
    external_id: Annotated[
        str,
        Meta(
            description="The ticket's external_id: the conversation id, #<n> for the (n-1)th follow-up. zendesk-sync searches it before creating, so a retry never creates twice.",
            min_length=1,
        ),
    ]
    subject: str
    body: Annotated[str, Meta(description='The first comment.')]
    requester: SlackPerson
    slack_channel_id: Annotated[str, Meta(min_length=1)]
    slack_thread_ts: Annotated[str, Meta(min_length=1)]
    permalink: (
        Annotated[
            str,
            Meta(description='Permalink of the opening Slack message; zendesk-sync asks chat.getPermalink when null.'),
        ]
        | None
        | UnsetType
    ) = UNSET
    files: list[SlackFile] | UnsetType = UNSET
    fetch_message: (
        Annotated[
            bool,
            Meta(
                description="Opened by a reaction: read the message's text and author from Slack instead of body and requester."
            ),
        ]
        | UnsetType
    ) = UNSET
    opened_by: (
        Annotated[
            str,
            Meta(description='Slack user who asked for the ticket when it is not the requester (reaction).'),
        ]
        | None
        | UnsetType
    ) = UNSET
    group_id: int | None | UnsetType = UNSET
    brand_id: int | None | UnsetType = UNSET
    ticket_form_id: int | None | UnsetType = UNSET
    priority: Literal['low', 'normal', 'high', 'urgent'] | None | UnsetType = UNSET
    tags: list[str] | UnsetType = UNSET
    custom_fields: list[CustomField] | UnsetType = UNSET


class ZendeskCreateFollowup(Struct, tag_field='type', tag='zendesk.create_followup'):
    """
    Open a follow-up of a closed ticket (a reply in its thread after it closed).
    """

    schema_version: Literal[1]
    command_id: Annotated[
        str,
        Meta(
            description='Idempotency key derived from the causing event, e.g. comment:<channel>:<ts>.',
            min_length=1,
        ),
    ]
    conversation_id: Annotated[
        str,
        Meta(
            description='<team>:<channel>:<thread ts>, or zd:<ticket id> for an emailed ticket without a thread; the record key.',
            min_length=1,
        ),
    ]
    issued_at: str
    cause: Cause
    external_id: Annotated[
        str,
        Meta(
            description="The ticket's external_id: the conversation id, #<n> for the (n-1)th follow-up. zendesk-sync searches it before creating, so a retry never creates twice.",
            min_length=1,
        ),
    ]
    subject: str
    body: Annotated[str, Meta(description='The first comment.')]
    requester: SlackPerson
    slack_channel_id: Annotated[str, Meta(min_length=1)]
    slack_thread_ts: Annotated[str, Meta(min_length=1)]
    via_followup_source_id: Annotated[int, Meta(description='The closed ticket.')]
    permalink: (
        Annotated[
            str,
            Meta(description='Permalink of the opening Slack message; zendesk-sync asks chat.getPermalink when null.'),
        ]
        | None
        | UnsetType
    ) = UNSET
    files: list[SlackFile] | UnsetType = UNSET
    fetch_message: (
        Annotated[
            bool,
            Meta(
                description="Opened by a reaction: read the message's text and author from Slack instead of body and requester."
            ),
        ]
        | UnsetType
    ) = UNSET
    opened_by: (
        Annotated[
            str,
            Meta(description='Slack user who asked for the ticket when it is not the requester (reaction).'),
        ]
        | None
        | UnsetType
    ) = UNSET
    group_id: int | None | UnsetType = UNSET
    brand_id: int | None | UnsetType = UNSET
    ticket_form_id: int | None | UnsetType = UNSET
    priority: Literal['low', 'normal', 'high', 'urgent'] | None | UnsetType = UNSET
    tags: list[str] | UnsetType = UNSET
    custom_fields: list[CustomField] | UnsetType = UNSET


class ZendeskAddComment(CommandEnvelope, tag_field='type', tag='zendesk.add_comment'):
    """
    Add a Slack reply (or a note about an edit or delete) to the ticket.
    """

    external_id: Annotated[str, Meta(min_length=1)]
    ticket_id: Annotated[int, Meta(description='null while the ticket is being created: zendesk-sync finds it by external_id.')] | None
    body: str
    public: bool
    author: SlackPerson
    slack_channel_id: Annotated[str, Meta(min_length=1)]
    slack_ts: Annotated[str, Meta(min_length=1)]
    files: list[SlackFile] | UnsetType = UNSET
    reopen: (
        Annotated[
            bool,
            Meta(
                description='The ticket is solved: this reply reopens it, as an emailed reply would.'
            ),
        ]
        | UnsetType
    ) = UNSET


class ZendeskSetStatus(CommandEnvelope, tag_field='type', tag='zendesk.set_status'):
    """
    Change the ticket's status, e.g. solved from Slack.
    """

    external_id: Annotated[str, Meta(min_length=1)]
    ticket_id: int | None
    status: Literal['open', 'pending', 'solved']
    comment: Annotated[str, Meta(description='Internal note added with the change.')] | None
    author: SlackPerson | UnsetType = UNSET


class SlackPostMessage(CommandEnvelope, tag_field='type', tag='slack.post_message'):
    """
    Post in a Slack thread (or top-level when thread_ts is null).
    """

    channel_id: Annotated[str, Meta(min_length=1)]
    thread_ts: str | None
    text: Annotated[
        str,
        Meta(
            description='mrkdwn; the notification and fallback text when blocks are set.'
        ),
    ]
    purpose: Annotated[
        Literal['ticket_link', 'agent_comment', 'notice', 'help'],
        Meta(
            description="ticket_link: the ticket exists, here is its link; agent_comment: an agent's public Zendesk comment; notice: status changes, refusals, failures; help: the help text."
        ),
    ]
    blocks: list[dict[str, Any]] | None | UnsetType = UNSET
    metadata: SlackMessageMetadata | None | UnsetType = UNSET


class SlackAddReaction(CommandEnvelope, tag_field='type', tag='slack.add_reaction'):
    """
    Add a reaction to a Slack message, e.g. a check mark on the opening message once the ticket is solved.
    """

    channel_id: Annotated[str, Meta(min_length=1)]
    ts: Annotated[str, Meta(min_length=1)]
    name: Annotated[
        str, Meta(description='Emoji name without colons.', pattern='^[^:\\s]+$')
    ]


class SlackOpenThread(CommandEnvelope, tag_field='type', tag='slack.open_thread'):
    """
    Start a Slack thread for a ticket that began outside Slack (email); zendesk-sync reports the new thread in threadline.sync.results (thread_opened).
    """

    channel_id: Annotated[str, Meta(min_length=1)]
    ticket_id: int
    subject: str
    body: str
    ticket_url: str | None | UnsetType = UNSET
    requester_zendesk_id: int | None | UnsetType = UNSET


Command: TypeAlias = Annotated[
    ZendeskCreateTicket | ZendeskCreateFollowup | ZendeskAddComment | ZendeskSetStatus | SlackPostMessage | SlackAddReaction | SlackOpenThread,
    Meta(
        description='An effect the router decided, for zendesk-sync. One variant per `type`; a later version may add variants. command_id derives from the causing event, so a redelivered event yields the same id and zendesk-sync performs each id once.',
        title='Command',
    ),
]

# Generated from schemas/json/threadline.commands.v2.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel


class Cause(BaseModel):
    """
    The record that caused the command.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    topic: str = Field(
        ...,
        description='Canonical (unprefixed) source topic, e.g. threadline.slack.events.',
        min_length=1,
    )
    event_id: str = Field(
        ...,
        description="The source record's event_id (or command_id for threadline.sync.results).",
        min_length=1,
    )


class SlackPerson(BaseModel):
    """
    A Slack user as the router knows them; zendesk-sync looks up what is null (users.info) to find or create the Zendesk user.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    slack_user_id: str | None = Field(
        ...,
        description='null when no person is the author (notes Threadline writes itself).',
    )
    name: str | None = None
    email: str | None = None


class SlackFile(BaseModel):
    """
    A file shared with the message, to attach to the comment.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    id: str
    name: str | None = None
    mimetype: str | None = None
    size: int | None = Field(None, ge=0)
    url_private: str | None = None


class CustomField(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    id: int
    value: Any


class NewTicket(BaseModel):
    """
    What a new ticket is made of (create_ticket and create_followup).
    """

    external_id: str = Field(
        ...,
        description="The ticket's external_id: the conversation id, #<n> for the (n-1)th follow-up. zendesk-sync searches it before creating, so a retry never creates twice.",
        min_length=1,
    )
    subject: str
    body: str = Field(..., description='The first comment.')
    requester: SlackPerson
    permalink: str | None = Field(
        None,
        description='Permalink of the opening Slack message; zendesk-sync asks chat.getPermalink when null.',
    )
    slack_channel_id: str = Field(..., min_length=1)
    slack_thread_ts: str = Field(..., min_length=1)
    files: list[SlackFile] | None = None
    fetch_message: bool | None = Field(
        None,
        description="Opened by a reaction: read the message's text and author from Slack instead of body and requester.",
    )
    opened_by: str | None = Field(
        None,
        description='Slack user who asked for the ticket when it is not the requester (reaction).',
    )
    group_id: int | None = None
    brand_id: int | None = None
    ticket_form_id: int | None = None
    priority: Literal['low', 'normal', 'high', 'urgent'] | None = None
    tags: list[str] | None = None
    custom_fields: list[CustomField] | None = None


class SlackMessageMetadata(BaseModel):
    """
    Slack message metadata: marks Threadline's own posts so the events they cause are recognised.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    event_type: str = Field(..., pattern='^[a-z0-9_]+$')
    event_payload: dict[str, Any]


class CommandEnvelope(BaseModel):
    """
    Fields every command has.
    """

    schema_version: Literal[1, 2] = Field(
        ...,
        description='1 for the v1 variants as v1 wrote them; 2 for the variants added in v2.',
    )
    command_id: str = Field(
        ...,
        description='Idempotency key derived from the causing event, e.g. comment:<channel>:<ts>.',
        min_length=1,
    )
    conversation_id: str = Field(
        ...,
        description='<team>:<channel>:<thread ts>, or zd:<ticket id> for an emailed ticket without a thread; the record key.',
        min_length=1,
    )
    issued_at: AwareDatetime
    cause: Cause


class ZendeskCreateTicket(CommandEnvelope, NewTicket):
    """
    Open a ticket for a new Slack thread.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    type: Literal['zendesk.create_ticket']


class ZendeskCreateFollowup(CommandEnvelope, NewTicket):
    """
    Open a follow-up of a closed ticket (a reply in its thread after it closed).
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    type: Literal['zendesk.create_followup']
    via_followup_source_id: int = Field(..., description='The closed ticket.')


class ZendeskAddComment(CommandEnvelope):
    """
    Add a Slack reply (or a note about an edit or delete) to the ticket.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    type: Literal['zendesk.add_comment']
    external_id: str = Field(..., min_length=1)
    ticket_id: int | None = Field(
        ...,
        description='null while the ticket is being created: zendesk-sync finds it by external_id.',
    )
    body: str
    public: bool
    author: SlackPerson
    slack_channel_id: str = Field(..., min_length=1)
    slack_ts: str = Field(..., min_length=1)
    files: list[SlackFile] | None = None
    reopen: bool | None = Field(
        None,
        description='The ticket is solved: this reply reopens it, as an emailed reply would.',
    )


class ZendeskSetStatus(CommandEnvelope):
    """
    Change the ticket's status, e.g. solved from Slack.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    type: Literal['zendesk.set_status']
    external_id: str = Field(..., min_length=1)
    ticket_id: int | None
    status: Literal['open', 'pending', 'solved']
    comment: str | None = Field(..., description='Internal note added with the change.')
    author: SlackPerson | None = None


class SlackPostMessage(CommandEnvelope):
    """
    Post in a Slack thread (or top-level when thread_ts is null).
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    type: Literal['slack.post_message']
    channel_id: str = Field(..., min_length=1)
    thread_ts: str | None
    text: str = Field(
        ...,
        description='mrkdwn; the notification and fallback text when blocks are set.',
    )
    blocks: list[dict[str, Any]] | None = None
    metadata: SlackMessageMetadata | None = None
    purpose: Literal['ticket_link', 'agent_comment', 'notice', 'help'] = (
        Field(
            ...,
            description="ticket_link: the ticket exists, here is its link; agent_comment: an agent's public Zendesk comment; notice: status changes, refusals, failures; help: the help text.",
        )
    )


class SlackAddReaction(CommandEnvelope):
    """
    Add a reaction to a Slack message, e.g. a check mark on the opening message once the ticket is solved.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    type: Literal['slack.add_reaction']
    channel_id: str = Field(..., min_length=1)
    ts: str = Field(..., min_length=1)
    name: str = Field(
        ..., description='Emoji name without colons.', pattern='^[^:\\s]+$'
    )


class SlackOpenThread(CommandEnvelope):
    """
    Start a Slack thread for a ticket that began outside Slack (email); zendesk-sync reports the new thread in threadline.sync.results (thread_opened).
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    type: Literal['slack.open_thread']
    channel_id: str = Field(..., min_length=1)
    ticket_id: int
    ticket_url: str | None = None
    subject: str
    body: str
    requester_zendesk_id: int | None = None


class ZendeskSetPriority(CommandEnvelope):
    """
    Change the ticket's priority, e.g. marked urgent with an emoji in Slack.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    type: Literal['zendesk.set_priority']
    external_id: str = Field(..., min_length=1)
    ticket_id: int | None
    priority: Literal['low', 'normal', 'high', 'urgent']
    comment: str | None = Field(..., description='Internal note added with the change.')
    author: SlackPerson | None = None
    slack_channel_id: str | None = None
    slack_thread_ts: str | None = Field(None, description='Where to say it was done.')


class SlackPostEphemeral(CommandEnvelope):
    """
    A message only one person sees (chat.postEphemeral), e.g. the welcome to someone who joined a support channel. Slack keeps no trace of it to check, so a redelivery may show it twice.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    type: Literal['slack.post_ephemeral']
    channel_id: str = Field(..., min_length=1)
    user: str = Field(..., min_length=1)
    thread_ts: str | None = None
    text: str = Field(..., min_length=1)
    purpose: Literal['welcome', 'notice']


class OnCallNotify(CommandEnvelope):
    """
    Name who is on call (PagerDuty: primary and secondary of an escalation policy or schedule) in the thread: when a ticket opens, optionally assigning it to the primary's Zendesk agent, or as a reminder that the conversation waits.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    type: Literal['oncall.notify']
    channel_id: str = Field(..., min_length=1)
    thread_ts: str = Field(..., min_length=1)
    external_id: str = Field(..., min_length=1)
    ticket_id: int | None
    escalation_policy_id: str | None = None
    schedule_id: str | None = None
    assign: bool | None = Field(
        None,
        description="Assign the ticket to the Zendesk agent with the primary's email.",
    )
    reason: Literal['ticket_opened', 'reminder']
    waited_minutes: int | None = Field(
        None, description='For reminders: how long the conversation has waited.'
    )


class Command(
    RootModel[
        ZendeskCreateTicket
        | ZendeskCreateFollowup
        | ZendeskAddComment
        | ZendeskSetStatus
        | SlackPostMessage
        | SlackAddReaction
        | SlackOpenThread
        | ZendeskSetPriority
        | SlackPostEphemeral
        | OnCallNotify
    ]
):
    root: (
        ZendeskCreateTicket
        | ZendeskCreateFollowup
        | ZendeskAddComment
        | ZendeskSetStatus
        | SlackPostMessage
        | SlackAddReaction
        | SlackOpenThread
        | ZendeskSetPriority
        | SlackPostEphemeral
        | OnCallNotify
    ) = Field(..., description='Version 2 reads every v1 command and adds zendesk.set_priority, slack.post_ephemeral and oncall.notify. An effect the router decided, for zendesk-sync. One variant per `type`; a later version may add variants. command_id derives from the causing event, so a redelivered event yields the same id and zendesk-sync performs each id once.', discriminator='type', title='Command')

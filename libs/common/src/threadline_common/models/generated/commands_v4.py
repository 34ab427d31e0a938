# Generated from schemas/json/threadline.commands.v4.schema.json by `make models`. Do not edit.

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
    private: (
        Annotated[
            bool,
            Meta(
                description='A private request (a direct message to the app, v3): the description says so and names no Slack channel or link.'
            ),
        ]
        | UnsetType
    ) = UNSET
    ticket_type: (
        Annotated[
            Literal['question', 'incident', 'problem', 'task'],
            Meta(description="The ticket's Zendesk type, when the person chose one (the ticket form modal)."),
        ]
        | None
        | UnsetType
    ) = UNSET


class SlackMessageMetadata(Struct):
    """
    Slack message metadata: marks Threadline's own posts so the events they cause are recognised.
    """

    event_type: Annotated[str, Meta(pattern='^[a-z0-9_]+$')]
    event_payload: dict[str, Any]


class FollowChoices(Struct):
    """
    What a follower is told of a ticket, and how much of its text.
    """

    what: Annotated[
        list[Literal['agent_replies', 'requester_comments', 'status_changes']],
        Meta(
            description="Which updates: agents' public replies, the requester's comments, status changes.",
            min_length=1,
        ),
    ]
    detail: Annotated[
        Literal['full', 'first', 'summary'],
        Meta(
            description='full: the whole text; first: its first `chars` characters; summary: who, when and the link, no text.'
        ),
    ]
    chars: (
        Annotated[
            int,
            Meta(description='For detail first: how many characters.', ge=1, le=3000),
        ]
        | None
        | UnsetType
    ) = UNSET


class AnswerRuleOffer(Struct):
    """
    One automatic answer rule that matched the question: its id (reports, tags) and its answer (mrkdwn, from the channel config).
    """

    id: Annotated[str, Meta(max_length=40, min_length=1)]
    answer: Annotated[str, Meta(max_length=3000, min_length=1)]


class HelpCenter(Struct):
    """
    Search Zendesk Guide's articles (in this locale); null: do not.
    """

    locale: str | None | UnsetType = UNSET


RuleId: TypeAlias = Annotated[str, Meta(min_length=1)]


Tag: TypeAlias = Annotated[str, Meta(min_length=1)]


class CommandEnvelope(Struct):
    """
    Fields every command has.
    """

    schema_version: Annotated[
        Literal[1, 2, 3, 4],
        Meta(
            description='The version that added the variant: 1 for the v1 variants as v1 wrote them, 2, 3 and 4 for those v2, v3 and v4 added.'
        ),
    ]
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

    schema_version: Annotated[
        Literal[1, 2, 3, 4],
        Meta(
            description='The version that added the variant: 1 for the v1 variants as v1 wrote them, 2, 3 and 4 for those v2, v3 and v4 added.'
        ),
    ]
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
    private: (
        Annotated[
            bool,
            Meta(
                description='A private request (a direct message to the app, v3): the description says so and names no Slack channel or link.'
            ),
        ]
        | UnsetType
    ) = UNSET
    ticket_type: (
        Annotated[
            Literal['question', 'incident', 'problem', 'task'],
            Meta(description="The ticket's Zendesk type, when the person chose one (the ticket form modal)."),
        ]
        | None
        | UnsetType
    ) = UNSET


class ZendeskCreateFollowup(Struct, tag_field='type', tag='zendesk.create_followup'):
    """
    Open a follow-up of a closed ticket (a reply in its thread after it closed).
    """

    schema_version: Annotated[
        Literal[1, 2, 3, 4],
        Meta(
            description='The version that added the variant: 1 for the v1 variants as v1 wrote them, 2, 3 and 4 for those v2, v3 and v4 added.'
        ),
    ]
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
    private: (
        Annotated[
            bool,
            Meta(
                description='A private request (a direct message to the app, v3): the description says so and names no Slack channel or link.'
            ),
        ]
        | UnsetType
    ) = UNSET
    ticket_type: (
        Annotated[
            Literal['question', 'incident', 'problem', 'task'],
            Meta(description="The ticket's Zendesk type, when the person chose one (the ticket form modal)."),
        ]
        | None
        | UnsetType
    ) = UNSET


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


class ZendeskSetPriority(CommandEnvelope, tag_field='type', tag='zendesk.set_priority'):
    """
    Change the ticket's priority, e.g. marked urgent with an emoji in Slack.
    """

    external_id: Annotated[str, Meta(min_length=1)]
    ticket_id: int | None
    priority: Literal['low', 'normal', 'high', 'urgent']
    comment: Annotated[str, Meta(description='Internal note added with the change.')] | None
    author: SlackPerson | UnsetType = UNSET
    slack_channel_id: str | None | UnsetType = UNSET
    slack_thread_ts: (
        Annotated[str, Meta(description='Where to say it was done.')] | None | UnsetType
    ) = UNSET


class SlackPostEphemeral(CommandEnvelope, tag_field='type', tag='slack.post_ephemeral'):
    """
    A message only one person sees (chat.postEphemeral), e.g. the welcome to someone who joined a support channel. Slack keeps no trace of it to check, so a redelivery may show it twice.
    """

    channel_id: Annotated[str, Meta(min_length=1)]
    user: Annotated[str, Meta(min_length=1)]
    text: Annotated[str, Meta(min_length=1)]
    purpose: Literal['welcome', 'notice']
    thread_ts: str | None | UnsetType = UNSET


class OnCallNotify(CommandEnvelope, tag_field='type', tag='oncall.notify'):
    """
    Name who is on call (PagerDuty: primary and secondary of an escalation policy or schedule) in the thread: when a ticket opens, optionally assigning it to the primary's Zendesk agent, or as a reminder that the conversation waits.
    """

    channel_id: Annotated[str, Meta(min_length=1)]
    thread_ts: Annotated[str, Meta(min_length=1)]
    external_id: Annotated[str, Meta(min_length=1)]
    ticket_id: int | None
    reason: Literal['ticket_opened', 'reminder']
    escalation_policy_id: str | None | UnsetType = UNSET
    schedule_id: str | None | UnsetType = UNSET
    assign: (
        Annotated[
            bool,
            Meta(
                description="Assign the ticket to the Zendesk agent with the primary's email."
            ),
        ]
        | UnsetType
    ) = UNSET
    waited_minutes: (
        Annotated[
            int,
            Meta(description='For reminders: how long the conversation has waited.'),
        ]
        | None
        | UnsetType
    ) = UNSET


class SlackRespond(CommandEnvelope, tag_field='type', tag='slack.respond'):
    """
    Answer an interaction (slash command, button, shortcut) through its response_url: ephemeral to the person who acted unless in_channel. Valid 30 minutes, 5 uses; Slack keeps no trace to check, so a redelivery may answer twice.
    """

    response_url: Annotated[str, Meta(min_length=1)]
    user: Annotated[
        str, Meta(description='Who acted (and sees an ephemeral answer).', min_length=1)
    ]
    text: Annotated[str, Meta(max_length=3000, min_length=1)]
    purpose: Literal['answer', 'refusal', 'help', 'error']
    channel_id: str | None | UnsetType = UNSET
    blocks: (
        Annotated[
            list[dict[str, Any]],
            Meta(description='Block Kit blocks; text is the notification and fallback.', max_length=50),
        ]
        | None
        | UnsetType
    ) = UNSET
    response_type: Literal['ephemeral', 'in_channel'] | UnsetType = UNSET
    replace_original: (
        Annotated[
            bool,
            Meta(
                description='Replace the message the interaction came from (ephemeral originals only).'
            ),
        ]
        | UnsetType
    ) = UNSET


class SlackUpdateMessage(CommandEnvelope, tag_field='type', tag='slack.update_message'):
    """
    Rewrite one of Threadline's own messages in place (chat.update), e.g. the ticket confirmation after a button press. Idempotent: the same update twice shows the same message.
    """

    channel_id: Annotated[str, Meta(min_length=1)]
    ts: Annotated[str, Meta(min_length=1)]
    text: Annotated[str, Meta(max_length=40000, min_length=1)]
    blocks: (
        Annotated[
            list[dict[str, Any]],
            Meta(description='Block Kit blocks; text is the notification and fallback.', max_length=50),
        ]
        | None
        | UnsetType
    ) = UNSET


class SlackOpenView(CommandEnvelope, tag_field='type', tag='slack.open_view'):
    """
    Open a modal for the person who acted (views.open). Slack's trigger_id lives 3 seconds: when it has expired, the person is answered through response_url (when known) with a button that opens the modal again.
    """

    trigger_id: Annotated[str, Meta(min_length=1)]
    user: Annotated[str, Meta(min_length=1)]
    view: Annotated[
        dict[str, Any],
        Meta(
            description='The modal view payload (type modal, callback_id, private_metadata, blocks).'
        ),
    ]
    response_url: str | None | UnsetType = UNSET
    retry_action: (
        Annotated[
            dict[str, Any],
            Meta(description='The button (action_id, value) that opens the modal again when the trigger expired.'),
        ]
        | None
        | UnsetType
    ) = UNSET


class SlackPublishHome(CommandEnvelope, tag_field='type', tag='slack.publish_home'):
    """
    Publish a person's App Home tab (views.publish). The latest publish wins.
    """

    user: Annotated[str, Meta(min_length=1)]
    view: dict[str, Any]


class SlackDirectMessage(CommandEnvelope, tag_field='type', tag='slack.direct_message'):
    """
    A direct message from the bot to one person (conversations.open, then chat.postMessage), marked with the command id in metadata so that a retry finds it and posts once.
    """

    user: Annotated[str, Meta(min_length=1)]
    text: Annotated[str, Meta(max_length=40000, min_length=1)]
    purpose: Literal['follow_update', 'notice']
    blocks: (
        Annotated[
            list[dict[str, Any]],
            Meta(description='Block Kit blocks; text is the notification and fallback.', max_length=50),
        ]
        | None
        | UnsetType
    ) = UNSET


class ZendeskAssignToSlackUser(CommandEnvelope, tag_field='type', tag='zendesk.assign_to_slack_user'):
    """
    Assign the ticket to the Zendesk agent whose email is the Slack user's (the Assign to me button). Already assigned to them: said, nothing written. No agent with that email: one line through response_url.
    """

    external_id: Annotated[str, Meta(min_length=1)]
    ticket_id: int | None
    slack_user_id: Annotated[
        str,
        Meta(
            description='Who pressed: their Slack email names the agent.', min_length=1
        ),
    ]
    response_url: (
        Annotated[
            str,
            Meta(description="The interaction's response_url: the person who acted hears the outcome there (one line)."),
        ]
        | None
        | UnsetType
    ) = UNSET


class ZendeskCopyMessage(CommandEnvelope, tag_field='type', tag='zendesk.copy_message'):
    """
    Copy a Slack message into an existing ticket as a public comment with the message's permalink, written as the message's author (the Add to ticket shortcut). Found again by its command id in the audit metadata.
    """

    ticket_id: Annotated[int, Meta(ge=1)]
    slack_channel_id: Annotated[str, Meta(min_length=1)]
    slack_ts: Annotated[str, Meta(min_length=1)]
    author: SlackPerson
    body: str
    user: Annotated[
        str,
        Meta(description='Who used the shortcut (hears the outcome).', min_length=1),
    ]
    response_url: (
        Annotated[
            str,
            Meta(description="The interaction's response_url: the person who acted hears the outcome there (one line)."),
        ]
        | None
        | UnsetType
    ) = UNSET


class ZendeskOpenRequest(CommandEnvelope, tag_field='type', tag='zendesk.open_request'):
    """
    A request made with `/support open`: post it at the top of the channel as Threadline on the person's behalf (once: found again by the command id in its metadata), then open the ticket on that new thread, whose ts names the conversation (external_id <team>:<channel>:<ts>). The sync result ticket_created names the new thread's conversation, moved_from this command's.
    """

    channel_id: Annotated[str, Meta(min_length=1)]
    request_text: Annotated[
        str,
        Meta(
            description='What the channel reads (mrkdwn), e.g. <@U> asks: ...',
            max_length=40000,
            min_length=1,
        ),
    ]
    requester: SlackPerson
    subject: str
    body: str
    group_id: int | None | UnsetType = UNSET
    brand_id: int | None | UnsetType = UNSET
    ticket_form_id: int | None | UnsetType = UNSET
    priority: Literal['low', 'normal', 'high', 'urgent'] | None | UnsetType = UNSET
    ticket_type: Literal['question', 'incident', 'problem', 'task'] | None | UnsetType = (
        UNSET
    )
    tags: list[str] | UnsetType = UNSET
    custom_fields: list[CustomField] | UnsetType = UNSET


class ZendeskDescribeTicket(CommandEnvelope, tag_field='type', tag='zendesk.describe_ticket'):
    """
    Answer a person (through the interaction's response_url) about one ticket: its number and link, status, assignee, last public update and how long it has waited (show status), or its latest public comment (show latest_comment). Only to someone who may see the ticket (a Zendesk agent, its requester or a CC, or a member of the channel its thread is in); a ticket that does not exist, or one they may not see, gets one line. Read-only: a redelivery answers again.
    """

    response_url: Annotated[str, Meta(min_length=1)]
    user: Annotated[str, Meta(description='The Slack user who asked.', min_length=1)]
    ticket_id: Annotated[int, Meta(ge=1)]
    show: Literal['status', 'latest_comment']
    detail: (
        Annotated[
            Literal['full', 'first', 'summary'],
            Meta(
                description="How much comment text to show (a follower's choice); full when absent."
            ),
        ]
        | UnsetType
    ) = UNSET
    chars: Annotated[int, Meta(ge=1, le=3000)] | None | UnsetType = UNSET
    thread_channel_id: (
        Annotated[
            str,
            Meta(description="The channel of the ticket's Slack thread, when the router knows it."),
        ]
        | None
        | UnsetType
    ) = UNSET


class ZendeskCheckFollower(CommandEnvelope, tag_field='type', tag='zendesk.check_follower'):
    """
    Someone asks to follow a ticket: check that it exists and that they may see it (a Zendesk agent by their Slack email, its requester or a CC, or a member of the channel its thread is in), answer them through response_url (or a direct message when there is none), and report follower_checked on threadline.sync.results when they may, for the router to store the follow. Read-only in Zendesk and Slack: a redelivery checks and answers again.
    """

    user: Annotated[str, Meta(min_length=1)]
    team_id: Annotated[str, Meta(min_length=1)]
    ticket_id: Annotated[int, Meta(ge=1)]
    choices: FollowChoices
    response_url: str | None | UnsetType = UNSET
    thread_channel_id: (
        Annotated[
            str,
            Meta(description="The channel of the ticket's Slack thread, when the router knows it."),
        ]
        | None
        | UnsetType
    ) = UNSET


class OnCallAnswer(CommandEnvelope, tag_field='type', tag='oncall.answer'):
    """
    Answer a person (through response_url) with who is on call for a channel now, from PagerDuty (the channel's escalation policy or schedule). Read-only: a redelivery answers again.
    """

    response_url: Annotated[str, Meta(min_length=1)]
    user: Annotated[str, Meta(min_length=1)]
    channel_id: Annotated[str, Meta(min_length=1)]
    escalation_policy_id: str | None | UnsetType = UNSET
    schedule_id: str | None | UnsetType = UNSET


class ReportAnswer(CommandEnvelope, tag_field='type', tag='report.answer'):
    """
    Answer a person (through response_url) with a channel's daily or weekly report, from the reporter's API, if they may see it: a Zendesk agent (by their Slack email) or a member of the channel the channel's reports go to. Read-only: a redelivery answers again.
    """

    response_url: Annotated[str, Meta(min_length=1)]
    user: Annotated[str, Meta(min_length=1)]
    kind: Literal['daily', 'weekly']
    channel_id: Annotated[
        str, Meta(description='The channel the figures are about.', min_length=1)
    ]
    date: Annotated[
        str,
        Meta(
            description="The day (daily) or the first day of the seven (weekly), in the channel's timezone."
        ),
    ]
    report_channel_id: (
        Annotated[
            str,
            Meta(description="Where the channel's reports go: its members may see them (the channel itself when null)."),
        ]
        | None
        | UnsetType
    ) = UNSET


class SlackPostAnswers(CommandEnvelope, tag_field='type', tag='slack.post_answers'):
    """
    Offer automatic answers in a new question's thread, once: the matched rules' answers and, when asked, similar solved conversations of the channel and Help Center articles found by zendesk-sync, with the buttons "This solved it" and "I still need help" (value: the conversation). Nothing is posted when there is nothing to offer. Idempotent: the post carries the command id in its metadata.
    """

    team_id: Annotated[str, Meta(min_length=1)]
    channel_id: Annotated[str, Meta(min_length=1)]
    thread_ts: Annotated[str, Meta(min_length=1)]
    requester: Annotated[str, Meta(description='Slack user id of who asked; only they may answer the buttons.')] | None
    question: Annotated[
        str, Meta(description="The question's text, for the searches.", max_length=4000)
    ]
    rules: Annotated[
        list[AnswerRuleOffer],
        Meta(description='The rules that matched, in config order.', max_length=20),
    ]
    similar_solved: Annotated[
        bool,
        Meta(
            description='Search the reporter for similar solved conversations of the channel.'
        ),
    ]
    help_center: Annotated[HelpCenter, Meta(description="Search Zendesk Guide's articles (in this locale); null: do not.")] | None


class ZendeskAnswerSolved(CommandEnvelope, tag_field='type', tag='zendesk.answer_solved'):
    """
    The requester said an automatic answer solved their question: solve the ticket with an internal note and add the tags that let reports tell (threadline_answered, threadline_answer_<rule id>). Idempotent: the command id is in the update's audit metadata.
    """

    external_id: Annotated[str, Meta(min_length=1)]
    ticket_id: int | None
    author: SlackPerson
    rule_ids: Annotated[list[RuleId], Meta(max_length=20)]
    tags: Annotated[list[Tag], Meta(max_length=22)]


Command: TypeAlias = Annotated[
    ZendeskCreateTicket | ZendeskCreateFollowup | ZendeskAddComment | ZendeskSetStatus | SlackPostMessage | SlackAddReaction | SlackOpenThread | ZendeskSetPriority | SlackPostEphemeral | OnCallNotify | SlackRespond | SlackUpdateMessage | SlackOpenView | SlackPublishHome | SlackDirectMessage | ZendeskAssignToSlackUser | ZendeskCopyMessage | ZendeskOpenRequest | ZendeskDescribeTicket | ZendeskCheckFollower | OnCallAnswer | ReportAnswer | SlackPostAnswers | ZendeskAnswerSolved,
    Meta(
        description="Version 4 reads every v1, v2 and v3 command and adds automatic answers (issue #17): slack.post_answers (offer the matching rules' answers, similar solved conversations and Help Center articles in a new question's thread, with feedback buttons) and zendesk.answer_solved (the requester said the answer solved it: solve and tag the ticket).",
        title='Command',
    ),
]

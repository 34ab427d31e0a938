"""Builds the commands the rules send to zendesk-sync: one generated struct per command type
(threadline.commands v4). Each variant carries the `schema_version` that added it (1 to 4),
as readers of that version expect. `issued_at` and `cause` are stamped by `route` once the decision is made."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

from threadline_common import to_slack
from threadline_common.channels import ChannelRules
from threadline_common.models import CommandV4
from threadline_common.models.generated.commands_v4 import (
    Cause,
    CustomField,
    OnCallAnswer,
    OnCallNotify,
    ReportAnswer,
    SlackDirectMessage,
    SlackFile,
    SlackMessageMetadata,
    SlackOpenView,
    SlackPerson,
    SlackPostEphemeral,
    SlackPostMessage,
    SlackRespond,
    SlackUpdateMessage,
    ZendeskAddComment,
    ZendeskCheckFollower,
    ZendeskDescribeTicket,
    ZendeskSetStatus,
)
from threadline_common.models.generated.commands_v4 import FollowChoices as CommandFollowChoices
from threadline_common.models.generated.follows_v1 import FollowChoices
from threadline_router.conversation import Conversation, external_id

Command: TypeAlias = CommandV4
# What a command carries until `route` stamps it with the time and the event that caused it.
UNSTAMPED = ""
NO_CAUSE = Cause(topic="-", event_id="-")


def command_type(command: CommandV4) -> str:
    """The command's `type` (the variant's tag)."""
    return str(type(command).__struct_config__.tag)


def person(slack_user_id: str | None) -> SlackPerson:
    return SlackPerson(slack_user_id=slack_user_id)


def file_ref(f: dict[str, Any]) -> SlackFile:
    return SlackFile(**{k: f[k] for k in ("id", "name", "mimetype", "size", "url_private") if f.get(k) is not None})


def ticket_fields(rules: ChannelRules) -> dict[str, Any]:
    """The channel's Zendesk routing, as the fields of a new ticket."""
    z = rules.zendesk
    return {
        "group_id": z.group_id,
        "brand_id": z.brand_id,
        "ticket_form_id": z.ticket_form_id,
        "tags": list(z.tags),
        "priority": z.priority,
        "custom_fields": [CustomField(id=k, value=v) for k, v in z.custom_fields.items()],
    }


def notice(
    state: Conversation, command_id: str, text: str, purpose: Literal["notice", "help"] = "notice"
) -> SlackPostMessage:
    """Something Threadline says in the conversation's thread."""
    return SlackPostMessage(
        schema_version=1,
        command_id=command_id,
        conversation_id=state.conversation_id,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        channel_id=state.channel_id,
        thread_ts=state.thread_ts,
        text=text,
        purpose=purpose,
    )


def ticket_note(
    state: Conversation,
    ticket_id: int | None,
    command_id: str,
    text: str,
    where: tuple[str, str] | None = None,
) -> ZendeskAddComment:
    """An internal note on the ticket (an operator's change, an edit, a vanished thread);
    `where`: the Slack channel and message it is about (the thread's by default)."""
    channel_id, slack_ts = where or (state.channel_id, state.thread_ts or "")
    return ZendeskAddComment(
        schema_version=1,
        command_id=command_id,
        conversation_id=state.conversation_id,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        external_id=external_id(state),
        ticket_id=ticket_id,
        body=text,
        public=False,
        author=person(None),
        slack_channel_id=channel_id,
        slack_ts=slack_ts,
        files=[],
        reopen=False,
    )


def solve(state: Conversation, command_id: str, by: str | None) -> ZendeskSetStatus:
    return ZendeskSetStatus(
        schema_version=1,
        command_id=command_id,
        conversation_id=state.conversation_id,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        external_id=external_id(state),
        ticket_id=state.ticket_id,
        status="solved",
        comment=f"Solved from Slack by {by}." if by else "Solved from Slack.",
        author=person(by),
    )


def agent_comment(state: Conversation, post: dict[str, Any]) -> SlackPostMessage:
    """An agent's public comment, posted in the thread under the agent's name. The metadata
    names the comment: zendesk-sync checks it is not one Threadline wrote, and finds the post
    again after a crash instead of posting twice. The comment's HTML (or Markdown) becomes
    Slack mrkdwn with every character of its text escaped (to_slack): it can ping nobody."""
    author = post["author"]
    name = to_slack.bold(author["name"] or "Support agent")
    text = to_slack.zendesk_to_mrkdwn(post.get("html_body"), post.get("body"))
    return SlackPostMessage(
        schema_version=1,
        command_id=f"zd-comment:{post['comment_id']}",
        conversation_id=state.conversation_id,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        channel_id=state.channel_id,
        thread_ts=state.thread_ts,
        text=f"{name} (Zendesk): {text}",
        purpose="agent_comment",
        metadata=SlackMessageMetadata(
            event_type="threadline_agent_comment",
            event_payload={
                "ticket_id": post["ticket_id"],
                "comment_id": post["comment_id"],
                "author_name": author["name"],
                "author_zendesk_id": author["zendesk_user_id"],
            },
        ),
    )


def on_call(
    state: Conversation,
    rules: ChannelRules,
    command_id: str,
    reason: Literal["ticket_opened", "reminder"],
    waited: int | None,
) -> OnCallNotify:
    """Name who is on call in the thread: when the ticket opens, or as a reminder."""
    on_call = rules.on_call
    assert on_call is not None and state.thread_ts is not None
    return OnCallNotify(
        schema_version=2,
        command_id=command_id,
        conversation_id=state.conversation_id,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        channel_id=state.channel_id,
        thread_ts=state.thread_ts,
        external_id=external_id(state),
        ticket_id=state.ticket_id,
        escalation_policy_id=on_call.escalation_policy_id,
        schedule_id=on_call.schedule_id,
        assign=on_call.assign and reason == "ticket_opened",
        reason=reason,
        waited_minutes=waited,
    )


# --- answers to people: slash commands, button presses, following ---------------------------------
# (slack.respond through the interaction's response_url, or a DM where there is none; the
# zendesk-sync commands that look a ticket or the on-call up and answer the person themselves.)

AnswerPurpose: TypeAlias = Literal["answer", "refusal", "help", "error"]


def answer(
    key: str,
    command_id: str,
    user: str,
    response_url: str | None,
    text: str,
    purpose: AnswerPurpose = "answer",
    channel_id: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
) -> SlackRespond | SlackDirectMessage:
    """An ephemeral answer to the person who acted, through response_url; a DM when the
    interaction has none (a button in the App Home). `key`: the row that decided it."""
    if response_url:
        return SlackRespond(
            schema_version=3,
            command_id=command_id,
            conversation_id=key,
            issued_at=UNSTAMPED,
            cause=NO_CAUSE,
            response_url=response_url,
            user=user,
            channel_id=channel_id,
            text=text[:3000],
            blocks=blocks,
            response_type="ephemeral",
            replace_original=False,
            purpose=purpose,
        )
    return direct_message(key, command_id, user, text, "notice", blocks)


def direct_message(
    key: str,
    command_id: str,
    user: str,
    text: str,
    purpose: Literal["follow_update", "notice"],
    blocks: list[dict[str, Any]] | None = None,
) -> SlackDirectMessage:
    return SlackDirectMessage(
        schema_version=3,
        command_id=command_id,
        conversation_id=key,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        user=user,
        text=text[:40000],
        purpose=purpose,
        blocks=blocks,
    )


# --- buttons, shortcuts and modals ------------------------------------------------------------


def respond(
    conversation_id: str,
    command_id: str,
    response_url: str,
    user: str,
    text: str,
    purpose: Literal["answer", "refusal", "help", "error"] = "answer",
    channel_id: str | None = None,
) -> SlackRespond:
    """One line for the person who acted, through the interaction's response_url (ephemeral)."""
    return SlackRespond(
        schema_version=3,
        command_id=command_id,
        conversation_id=conversation_id,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        response_url=response_url,
        user=user,
        channel_id=channel_id,
        text=text,
        response_type="ephemeral",
        purpose=purpose,
    )


def tell_person(
    conversation_id: str,
    command_id: str,
    user: str,
    text: str,
    purpose: Literal["answer", "refusal", "help", "error"],
    response_url: str | None,
    channel_id: str | None,
    thread_ts: str | None = None,
) -> SlackRespond | SlackPostEphemeral | None:
    """One line only the person who acted sees: through the interaction's response_url, else
    ephemeral in the channel it happened in; None when it has neither (nowhere to answer)."""
    if response_url:
        return respond(conversation_id, command_id, response_url, user, text, purpose, channel_id)
    if not channel_id:
        return None
    return SlackPostEphemeral(
        schema_version=2,
        command_id=command_id,
        conversation_id=conversation_id,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        channel_id=channel_id,
        user=user,
        thread_ts=thread_ts,
        text=text,
        purpose="notice",
    )


def update_message(
    conversation_id: str, command_id: str, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]
) -> SlackUpdateMessage:
    return SlackUpdateMessage(
        schema_version=3,
        command_id=command_id,
        conversation_id=conversation_id,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        channel_id=channel_id,
        ts=ts,
        text=text,
        blocks=blocks,
    )


def describe_ticket(
    key: str,
    command_id: str,
    user: str,
    response_url: str,
    ticket_id: int,
    show: Literal["status", "latest_comment"],
    choices: FollowChoices | None = None,
    thread_channel_id: str | None = None,
) -> ZendeskDescribeTicket:
    """zendesk-sync looks the ticket up and answers the person (status, or the latest comment)."""
    return ZendeskDescribeTicket(
        schema_version=3,
        command_id=command_id,
        conversation_id=key,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        response_url=response_url,
        user=user,
        ticket_id=ticket_id,
        show=show,
        detail=choices.detail if choices else "full",
        chars=choices.chars if choices and choices.detail == "first" else None,
        thread_channel_id=thread_channel_id,
    )


def check_follower(
    command_id: str,
    team_id: str,
    user: str,
    response_url: str | None,
    ticket_id: int,
    choices: FollowChoices,
    thread_channel_id: str | None = None,
) -> ZendeskCheckFollower:
    """zendesk-sync checks the ticket exists and the person may see it, answers them, and
    reports follower_checked to the ticket's row (`ticket:<id>`), which stores the follow."""
    return ZendeskCheckFollower(
        schema_version=3,
        command_id=command_id,
        conversation_id=f"ticket:{ticket_id}",
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        response_url=response_url,
        user=user,
        team_id=team_id,
        ticket_id=ticket_id,
        choices=CommandFollowChoices(what=list(choices.what), detail=choices.detail, chars=choices.chars),
        thread_channel_id=thread_channel_id,
    )


def oncall_answer(
    key: str, command_id: str, user: str, response_url: str, channel_id: str, rules: ChannelRules
) -> OnCallAnswer:
    """zendesk-sync asks PagerDuty who is on call for the channel now and answers the person."""
    assert rules.on_call is not None
    return OnCallAnswer(
        schema_version=3,
        command_id=command_id,
        conversation_id=key,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        response_url=response_url,
        user=user,
        channel_id=channel_id,
        escalation_policy_id=rules.on_call.escalation_policy_id,
        schedule_id=rules.on_call.schedule_id,
    )


def report_answer(
    key: str,
    command_id: str,
    user: str,
    response_url: str,
    kind: Literal["daily", "weekly"],
    channel_id: str,
    date: str,
    report_channel_id: str | None,
) -> ReportAnswer:
    """zendesk-sync asks the reporter for a channel's report and answers the person, if they may see it."""
    return ReportAnswer(
        schema_version=3,
        command_id=command_id,
        conversation_id=key,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        response_url=response_url,
        user=user,
        kind=kind,
        channel_id=channel_id,
        date=date,
        report_channel_id=report_channel_id,
    )


def open_view(
    conversation_id: str,
    command_id: str,
    trigger_id: str,
    user: str,
    view: dict[str, Any],
    response_url: str | None,
    retry_action: dict[str, Any] | None,
) -> SlackOpenView:
    return SlackOpenView(
        schema_version=3,
        command_id=command_id,
        conversation_id=conversation_id,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        trigger_id=trigger_id,
        user=user,
        view=view,
        response_url=response_url,
        retry_action=retry_action,
    )

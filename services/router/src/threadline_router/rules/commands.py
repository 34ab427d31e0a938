"""Builds the commands the rules send to zendesk-sync: one generated struct per command type
(threadline.commands v3). Each variant carries the `schema_version` that added it (1, 2 or 3),
as readers of that version expect. `issued_at` and `cause` are stamped by `route` once the decision is made."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

from threadline_common import to_slack
from threadline_common.channels import ChannelRules
from threadline_common.models import CommandV3
from threadline_common.models.generated.commands_v3 import (
    Cause,
    CustomField,
    OnCallNotify,
    SlackFile,
    SlackMessageMetadata,
    SlackOpenView,
    SlackPerson,
    SlackPostMessage,
    SlackRespond,
    SlackUpdateMessage,
    ZendeskAddComment,
    ZendeskSetStatus,
)
from threadline_router.conversation import Conversation, external_id

Command: TypeAlias = CommandV3
# What a command carries until `route` stamps it with the time and the event that caused it.
UNSTAMPED = ""
NO_CAUSE = Cause(topic="-", event_id="-")


def command_type(command: CommandV3) -> str:
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

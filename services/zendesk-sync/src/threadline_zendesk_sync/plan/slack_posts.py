"""What is posted in Slack: texts and blocks of each post, the metadata that makes a post findable
again, and from when a post for a command is looked for. Text from elsewhere (emails, names) is
escaped (threadline_common.to_slack): it is data, not markup."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from threadline_common import confirmation, to_slack
from threadline_common.models import CommandV4
from threadline_common.models.generated.commands_v4 import (
    OnCallNotify,
    SlackMessageMetadata,
    SlackOpenThread,
    SlackPostMessage,
)
from threadline_common.times import parse_time

# event_type of the metadata on every Slack post Threadline makes when the router gave none.
THREADLINE_POST = "threadline_post"
# How much of an email the root post of its thread quotes.
EXCERPT_LIMIT = 1500


def post_metadata(command_id: str, given: SlackMessageMetadata | None = None, **extra: Any) -> dict[str, Any]:
    """Message metadata for a post: the router's when it gave some, always naming the command,
    so the post is found again instead of being repeated."""
    if given and given.event_type:
        payload = {**given.event_payload, **extra, "command_id": command_id}
        return {"event_type": given.event_type, "event_payload": payload}
    return {"event_type": THREADLINE_POST, "event_payload": {**extra, "command_id": command_id}}


def posted_command(message: Mapping[str, Any]) -> str | None:
    """The command a Slack message was posted for, if Threadline posted it."""
    metadata = message.get("metadata") or {}
    if not str(metadata.get("event_type") or "").startswith("threadline_"):
        return None
    value = (metadata.get("event_payload") or {}).get("command_id")
    return str(value) if value else None


# Slack's clock and the router's may differ: a post for a command is looked for from this long
# before the command was issued.
LOOK_BACK_MARGIN_SECONDS = 600.0


def look_back_from(command: CommandV4) -> float:
    """Slack epoch seconds from which a post made for `command` is looked for: its issue time
    less a margin (a post for a command cannot be older than the command)."""
    try:
        return parse_time(command.issued_at).timestamp() - LOOK_BACK_MARGIN_SECONDS
    except ValueError:
        return 0.0  # unknown: the whole conversation is looked through


def ticket_link_text(ticket_id: int, url: str, followup_of: int | None) -> str:
    """The confirmation's first line (threadline_common.confirmation renders the whole message)."""
    return confirmation.opening_text(ticket_id, url, followup_of)


def event_payload(command: SlackPostMessage) -> dict[str, Any]:
    """The payload of the metadata the router gave a post ({} when it gave none)."""
    return command.metadata.event_payload if command.metadata else {}


def agent_post(command: SlackPostMessage, icon_url: str | None) -> dict[str, Any]:
    """chat.postMessage arguments beyond channel/thread/text/metadata for an agent's comment:
    posted under the agent's name and photo. Without the chat:write.customize scope Slack shows
    the app's name instead, so the router's text names the agent too."""
    payload = event_payload(command)
    extra: dict[str, Any] = {}
    if payload.get("author_name"):
        extra["username"] = str(payload["author_name"])
    if icon_url:
        extra["icon_url"] = icon_url
    if command.blocks:
        extra["blocks"] = command.blocks
    return extra


def thread_opener(requester: Mapping[str, Any] | None) -> str:
    """How an emailed ticket's requester is named in Slack: their name and address as text
    (escaped: a sender may call themselves `<!channel>`), the address as a mailto link."""
    if not requester:
        return "someone"
    name, email = str(requester.get("name") or ""), str(requester.get("email") or "")
    if name and email and name != email:
        return f"{to_slack.escape(name)} {to_slack.link('mailto:' + email, email)}"
    return to_slack.escape(name or email or "someone")


def email_thread_text(command: SlackOpenThread, requester: str, url: str) -> str:
    """The root post of an emailed ticket's thread. `requester`: thread_opener's (safe) text.
    The email's latest reply without signature and quoted history, converted and escaped as
    every outside text (to_slack); when that is not all of it, the post says so and links the
    ticket, which keeps the full text."""
    ticket = to_slack.link(url, f"#{command.ticket_id}")
    excerpt = to_slack.email_excerpt(command.body, EXCERPT_LIMIT)
    title = to_slack.bold(command.subject) or "*Emailed request*"
    text = (
        f":email: {title}\n"
        f"From {requester}, ticket {ticket}. Replies in this thread go to the ticket.\n"
        f"{to_slack.quote_lines(excerpt.text)}"
    )
    if excerpt.shortened:
        text += f"\n_{excerpt.shortened}: the whole email is on ticket {ticket}._"
    return text


def on_call_order(oncalls: list[Mapping[str, Any]]) -> list[str]:
    """PagerDuty user ids of an /oncalls answer, lowest escalation level first, each once: the
    first is the primary, the second the secondary."""
    ranked = sorted(enumerate(oncalls), key=lambda item: (int(item[1].get("escalation_level") or 99), item[0]))
    return list(dict.fromkeys(str(o["user"]["id"]) for _, o in ranked if (o.get("user") or {}).get("id")))


def on_call_text(command: OnCallNotify, people: list[str]) -> str:
    """`people`: how to name the primary and secondary in Slack (a mention, or a name)."""
    if command.reason == "reminder":
        waited = command.waited_minutes
        head = f":hourglass: This request has waited {waited} min for an answer" if waited else ":hourglass: Reminder"
        if not people:
            return head + ". Nobody is on call in PagerDuty right now."
        return f"{head}. {people[0]}, could you take a look?"
    if not people:
        return ":pager: Nobody is on call in PagerDuty right now; the team will pick this up."
    text = f":pager: On call now: {people[0]} (primary)"
    if len(people) > 1:
        text += f", {people[1]} (secondary)"
    return text + "."


def on_call_answer_text(channel: str, people: list[str]) -> str:
    """`/support oncall`'s answer; `channel` as Slack shows it (`<#C…>`), `people` as named in Slack."""
    if not people:
        return f":pager: Nobody is on call in PagerDuty for {channel} right now."
    text = f":pager: On call for {channel} now: {people[0]} (primary)"
    if len(people) > 1:
        text += f", {people[1]} (secondary)"
    return text + "."


def priority_text(ticket_id: int, priority: str) -> str:
    icon = ":rotating_light:" if priority == "urgent" else ":label:"
    return f"{icon} Ticket #{ticket_id} is now {priority}."


def queued_text() -> str:
    return (
        ":hourglass_flowing_sand: Zendesk is not answering right now. Your request is queued and will be "
        "filed as a ticket as soon as Zendesk is back; nothing is lost."
    )

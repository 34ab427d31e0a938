"""What to ask Zendesk and Slack for, as pure functions: bodies, texts, and what counts as done.

The commands are the contract's structs (threadline_common.models), decoded once by the worker.
The command performers feed these with what they looked up and send what they return.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from msgspec import UNSET

from threadline_common import from_slack, to_slack
from threadline_common.models import CommandV2, SyncResultV2
from threadline_common.models.generated.commands_v2 import (
    OnCallNotify,
    SlackFile,
    SlackMessageMetadata,
    SlackOpenThread,
    SlackPostMessage,
    ZendeskAddComment,
    ZendeskCreateFollowup,
    ZendeskCreateTicket,
    ZendeskSetPriority,
    ZendeskSetStatus,
)
from threadline_common.retry import TransientError
from threadline_common.tickets import DONE_STATUSES
from threadline_common.times import parse_time

# The two commands that open a ticket (the contract's v2 structs: a follow-up names the closed one).
NewTicketCommand: TypeAlias = ZendeskCreateTicket | ZendeskCreateFollowup
ResultKind: TypeAlias = Literal["ticket_created", "thread_opened", "failed", "thread_gone"]

# event_type of the metadata on every Slack post Threadline makes when the router gave none.
THREADLINE_POST = "threadline_post"
# Zendesk keeps what a request sends as `ticket.metadata` on the audit, and shows it on the
# comment as metadata.custom: this key names the command that wrote it.
COMMAND_KEY = "threadline_command_id"
EXCERPT_LIMIT = 1500
REASON_LIMIT = 1000  # sync.results v2 bounds the reason


class PermanentError(Exception):
    """The command can never succeed as it is (closed ticket, unknown channel): dead-letter it."""


class NotFound(PermanentError):
    """Zendesk has no such record."""


class ThreadGone(PermanentError):
    """Slack has no such thread or message any more (deleted, or its channel is gone or archived):
    nothing can be said there. Not dead-lettered: the router records it and tells the ticket once."""


@dataclass
class Outcome:
    """What performing a command did: `done`; `already_done` when an earlier attempt had done
    it; `skipped` when there was nothing to do (our own comment coming back)."""

    effect: str
    results: list[SyncResultV2] = field(default_factory=list)
    detail: str = ""


# --- people ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A Slack author as Zendesk will see them."""

    slack_user_id: str | None
    name: str
    email: str | None
    is_bot: bool = False

    @property
    def zendesk_external_id(self) -> str | None:
        """Identity of a person Zendesk cannot know by email (Slack Connect guests)."""
        if self.email or self.is_bot or not self.slack_user_id:
            return None
        return f"slack:{self.slack_user_id}"


def person_from_slack(
    slack_user_id: str | None,
    user: Mapping[str, Any] | None,
    name: str | None = None,
    email: str | None = None,
) -> Person:
    """`user` is a users.info `user` object (None when Slack would not say); `name` and `email`
    are what the router already knew and win over it."""
    user = user or {}
    profile = user.get("profile") or {}
    is_bot = bool(user.get("is_bot")) or bool(slack_user_id and slack_user_id.startswith("B"))
    found_name = (
        profile.get("real_name") or user.get("real_name") or profile.get("display_name") or user.get("name") or None
    )
    # Bots have no mailbox; Slack Connect guests usually share none.
    found_email = None if is_bot else profile.get("email")
    return Person(
        slack_user_id,
        str(name or found_name or slack_user_id or "Someone in Slack"),
        email or found_email or None,
        is_bot,
    )


def same_user(user: Mapping[str, Any], email: str | None, external_id: str) -> bool:
    """Whether a Zendesk user found by search is this person (search also matches parts)."""
    if email:
        return str(user.get("email") or "").lower() == email.lower()
    return user.get("external_id") == external_id


# --- Slack text for Zendesk ---------------------------------------------------------------------------
# The rules are threadline_common.from_slack (emoji, names, links, Markdown); these name them here.

mentioned_users = from_slack.mentioned_users


def slack_to_plain(text: str, names: Mapping[str, str]) -> str:
    """Slack mrkdwn as an agent should read it in a comment: names for mentions, emoji as
    characters, links as links, Slack formatting as Zendesk Markdown, no escapes."""
    return from_slack.to_zendesk(text, names)


# --- files ----------------------------------------------------------------------------------------------


def split_files(files: Iterable[SlackFile], max_bytes: int) -> tuple[list[SlackFile], list[str]]:
    """Files to carry to Zendesk, and notes for those that cannot be (too large, no URL)."""
    carry: list[SlackFile] = []
    notes: list[str] = []
    for f in files:
        name = f.name or f.id or "a file"
        if not f.url_private:
            notes.append(f"{name}: not downloadable from Slack")
        elif f.size is not UNSET and f.size > max_bytes:
            notes.append(f"{name}: {human_size(f.size)}, over the {human_size(max_bytes)} limit")
        else:
            carry.append(f)
    return carry, notes


def message_files(message: Mapping[str, Any]) -> list[SlackFile]:
    """The files of a Slack message (conversations.replies) as commands carry them."""
    files: list[SlackFile] = []
    for f in message.get("files") or []:
        if not isinstance(f, Mapping) or not f.get("id"):
            continue
        size, url = f.get("size"), f.get("url_private")
        files.append(
            SlackFile(
                id=str(f["id"]),
                name=str(f.get("name") or f["id"]),
                mimetype=str(f.get("mimetype") or "application/octet-stream"),
                size=size if isinstance(size, int) and size >= 0 else UNSET,
                url_private=str(url) if url else UNSET,
            )
        )
    return files


def human_size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"


def files_note(notes: list[str]) -> str:
    if not notes:
        return ""
    lines = "\n".join(f"• {n}" for n in notes)
    return f"\n\nAttachments left in Slack (open the thread to see them):\n{lines}"


# --- Zendesk requests --------------------------------------------------------------------------------------


def ticket_request(
    command: NewTicketCommand,
    *,
    body: str,
    requester_id: int | None,
    requester: Person,
    permalink: str | None,
    uploads: list[str],
    file_notes: list[str],
    opened_by: str | None = None,
    subject: str | None = None,
) -> dict[str, Any]:
    """The `ticket` object of POST /api/v2/tickets.json for create_ticket / create_followup.
    `body` is the message as an agent reads it, `subject` the router's with people named
    (from_slack.subject); the Slack link and any notes are added here."""
    text = body.strip() or "(no text)"
    if requester_id is None:
        text = f"{requester.name} asked in Slack:\n\n{text}"
    text += files_note(file_notes)
    if opened_by:
        text += f"\n\nTicket opened from Slack by {opened_by}."
    if permalink:
        text += f"\n\n—\nSlack thread: {permalink}"
    comment: dict[str, Any] = {"body": text, "public": True}
    if uploads:
        comment["uploads"] = list(uploads)
    ticket: dict[str, Any] = {
        "subject": subject or from_slack.subject(body),
        "comment": comment,
        "external_id": command.external_id,
        "tags": list(command.tags or []),
        "metadata": {COMMAND_KEY: command.command_id},
    }
    if requester_id is not None:
        ticket["requester_id"] = requester_id
    routing = {
        "group_id": command.group_id,
        "brand_id": command.brand_id,
        "ticket_form_id": command.ticket_form_id,
        "priority": command.priority,
    }
    if isinstance(command, ZendeskCreateFollowup):
        routing["via_followup_source_id"] = command.via_followup_source_id
    ticket.update({key: value for key, value in routing.items() if value is not None and value is not UNSET})
    if command.custom_fields:
        ticket["custom_fields"] = [{"id": f.id, "value": f.value} for f in command.custom_fields]
    return ticket


def comment_request(
    command: ZendeskAddComment,
    *,
    body: str,
    author_id: int | None,
    author: Person,
    uploads: list[str],
    file_notes: list[str],
) -> dict[str, Any]:
    """The `ticket` object of PUT /api/v2/tickets/{id}.json adding one Slack message (or a note).

    A public reply whose author has no Zendesk user is written by the API user, labelled with
    the Slack author's name; internal notes are always the API user's."""
    public = command.public
    text = body.strip() or "(no text)"
    if public and author_id is None:
        text = f"{author.name} wrote in Slack:\n\n{text}"
    text += files_note(file_notes)
    comment: dict[str, Any] = {"body": text, "public": public}
    if public and author_id is not None:
        comment["author_id"] = author_id
    if uploads:
        comment["uploads"] = list(uploads)
    ticket: dict[str, Any] = {
        "comment": comment,
        "metadata": {COMMAND_KEY: command.command_id, "slack_ts": command.slack_ts},
    }
    if command.reopen:
        ticket["status"] = "open"
    return ticket


def status_request(command: ZendeskSetStatus, ticket_id: int, current: str, note: str | None) -> dict[str, Any] | None:
    """The `ticket` object of PUT /api/v2/tickets/{id}.json changing the status, or None when
    the ticket is already there (solved also counts as done once Zendesk has closed it)."""
    wanted = command.status
    if current == wanted or (wanted in DONE_STATUSES and current in DONE_STATUSES):
        return None
    if current == "closed":
        raise PermanentError(f"ticket #{ticket_id} is closed; it cannot become {wanted}")
    ticket: dict[str, Any] = {"status": wanted, "metadata": {COMMAND_KEY: command.command_id}}
    if note:
        ticket["comment"] = {"body": note, "public": False}
    return ticket


_BARE_USER = re.compile(r"\b[UW][A-Z0-9]{4,}\b")


def note_people(note: str) -> list[str]:
    """Bare Slack user ids in the first line of a note the router wrote ("Edited in Slack by
    U0SRE:"); what follows that line is the person's own text and is left alone."""
    head = note.split("\n", 1)[0]
    return list(dict.fromkeys(_BARE_USER.findall(head)))


def name_people(note: str, names: Mapping[str, str]) -> str:
    """The note with the first line's bare user ids replaced by names."""
    head, sep, rest = note.partition("\n")
    for user_id, name in names.items():
        head = re.sub(rf"\b{re.escape(user_id)}\b", name, head)
    return head + sep + rest


def written_by_us(comment: Mapping[str, Any]) -> str | None:
    """The command id a Zendesk comment was written for, if Threadline wrote it."""
    metadata = comment.get("metadata") or {}
    custom = metadata.get("custom") if isinstance(metadata, Mapping) else None
    value = (custom or {}).get(COMMAND_KEY)
    return str(value) if value else None


def agent_may_post(comment: Mapping[str, Any] | None) -> bool:
    """Loop guard for agent comments: what Threadline wrote, and internal notes, stay in Zendesk."""
    if comment is None:
        return True  # not listed (yet): the router saw it as a public agent comment
    return written_by_us(comment) is None and bool(comment.get("public", True))


def photo_url(user: Mapping[str, Any] | None) -> str | None:
    photo = (user or {}).get("photo")
    if isinstance(photo, Mapping):
        thumbs = photo.get("thumbnails") or []
        url = photo.get("content_url") or (thumbs[0].get("content_url") if thumbs else None)
        return str(url) if url else None
    return None


def thread_opener(requester: Mapping[str, Any] | None) -> str:
    """How an emailed ticket's requester is named in Slack: their name and address as text
    (escaped: a sender may call themselves `<!channel>`), the address as a mailto link."""
    if not requester:
        return "someone"
    name, email = str(requester.get("name") or ""), str(requester.get("email") or "")
    if name and email and name != email:
        return f"{to_slack.escape(name)} {to_slack.link('mailto:' + email, email)}"
    return to_slack.escape(name or email or "someone")


# --- Slack posts ----------------------------------------------------------------------------------


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


def ticket_link_text(ticket_id: int, url: str, followup_of: int | None) -> str:
    ticket = to_slack.link(url, f"#{ticket_id}")
    if followup_of:
        return (
            f":ticket: Ticket #{followup_of} is closed, so I opened follow-up ticket {ticket}. Replies here go to it."
        )
    return f":ticket: I opened ticket {ticket}. Replies in this thread are added to it; type `help` for more."


def ticket_link_blocks(text: str, url: str) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open in Zendesk"}, "url": url}],
        },
    ]


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


def thread_note(permalink: str | None, channel_id: str) -> str:
    """The internal note that takes an agent from an emailed ticket to its Slack thread."""
    where = permalink or f"channel {channel_id}"
    return f"This email opened a Slack thread: {where}\nReplies there are added to this ticket."


def thread_note_request(command_id: str, thread_key: str, permalink: str | None, channel_id: str) -> dict[str, Any]:
    """The `ticket` object pointing an emailed ticket at its thread and noting the thread's
    permalink, once: `command_id` is in the audit metadata, so a redelivery finds it."""
    return {
        "external_id": thread_key,
        "comment": {"body": thread_note(permalink, channel_id), "public": False},
        "metadata": {COMMAND_KEY: command_id},
    }


# --- on call, priority, attachments --------------------------------------------------------------------


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


def is_agent(user: Mapping[str, Any]) -> bool:
    return str(user.get("role") or "") in ("agent", "admin")


def assign_request(command_id: str, current: Any, agent_id: int) -> dict[str, Any] | None:
    """The `ticket` object assigning the ticket to the on-call agent, None when it already is."""
    if current is not None and int(current) == agent_id:
        return None
    return {"assignee_id": agent_id, "metadata": {COMMAND_KEY: command_id}}


def priority_request(command: ZendeskSetPriority, current: str | None, note: str | None) -> dict[str, Any] | None:
    if current == command.priority:
        return None
    ticket: dict[str, Any] = {"priority": command.priority, "metadata": {COMMAND_KEY: command.command_id}}
    if note:
        ticket["comment"] = {"body": note, "public": False}
    return ticket


def priority_text(ticket_id: int, priority: str) -> str:
    icon = ":rotating_light:" if priority == "urgent" else ":label:"
    return f"{icon} Ticket #{ticket_id} is now {priority}."


def attachment_lines(attachments: list[Mapping[str, Any]]) -> str:
    """Links to an agent comment's attachments, for its post in Slack."""
    lines = []
    for a in attachments:
        url, name = a.get("content_url"), str(a.get("file_name") or "attachment")
        if not url:
            continue
        size = f" ({human_size(int(a['size']))})" if a.get("size") is not None else ""
        lines.append(f":paperclip: {to_slack.link(str(url), name)}{size}")
    return "\n" + "\n".join(lines) if lines else ""


def files_left_text(notes: list[str], max_bytes: int) -> str:
    """The thread's notice about files that stayed in Slack."""
    lines = "\n".join(f"• {to_slack.escape(n)}" for n in notes)
    return (
        f":warning: Some files could not be added to the ticket (the limit is {human_size(max_bytes)} a file); "
        f"the agent sees a note and can open them here:\n{lines}"
    )


def seconds(headers: Mapping[str, Any]) -> float | None:
    """A Retry-After header, in seconds."""
    return retry_after_seconds(next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None))


def pagerduty_reason(body: str) -> str:
    try:
        error = (json.loads(body) or {}).get("error") or {}
    except (ValueError, AttributeError):
        return body[:200]
    if not isinstance(error, dict):
        return str(error)[:200]
    return "; ".join([str(error.get("message") or "error"), *map(str, error.get("errors") or [])])


# --- keys and results --------------------------------------------------------------------------------


def thread_key(team_id: str, channel_id: str, ts: str) -> str:
    return f"{team_id}:{channel_id}:{ts}"


def thread_of(conversation_id: str) -> tuple[str | None, str | None, str | None]:
    """(team, channel, thread ts) of a `team:channel:ts` conversation id; Nones for `zd:<id>`."""
    parts = conversation_id.split(":")
    if len(parts) == 3 and parts[0] != "zd":
        return parts[0], parts[1], parts[2]
    return None, None, None


def command_type(command: CommandV2) -> str:
    """The command's `type`: the tag of its variant."""
    return str(type(command).__struct_config__.tag)


def result(
    kind: ResultKind,
    command: CommandV2,
    *,
    conversation_id: str | None = None,
    ticket_id: int | None = None,
    ticket_url: str | None = None,
    team_id: str | None = None,
    channel_id: str | None = None,
    thread_ts: str | None = None,
    moved_from: str | None = None,
    reason: str | None = None,
) -> SyncResultV2:
    """A threadline.sync.results v2 record; thread fields default to the command's conversation.
    It names its command by id and type, never by content, so a chain of results cannot grow."""
    conversation_id = conversation_id or command.conversation_id
    team, channel, ts = thread_of(conversation_id)
    return SyncResultV2(
        schema_version=2,
        kind=kind,
        conversation_id=conversation_id,
        command_id=command.command_id,
        command_type=command_type(command),
        ticket_id=ticket_id,
        ticket_url=ticket_url,
        team_id=team_id or team,
        channel_id=channel_id or channel,
        thread_ts=thread_ts or ts,
        moved_from=moved_from,
        reason=reason[:REASON_LIMIT] if reason else None,
    )


# Slack's clock and the router's may differ: a post for a command is looked for from this long
# before the command was issued.
LOOK_BACK_MARGIN_SECONDS = 600.0


def look_back_from(command: CommandV2) -> float:
    """Slack epoch seconds from which a post made for `command` is looked for: its issue time
    less a margin (a post for a command cannot be older than the command)."""
    try:
        return parse_time(command.issued_at).timestamp() - LOOK_BACK_MARGIN_SECONDS
    except ValueError:
        return 0.0  # unknown: the whole conversation is looked through


def queued_text() -> str:
    return (
        ":hourglass_flowing_sand: Zendesk is not answering right now. Your request is queued and will be "
        "filed as a ticket as soon as Zendesk is back; nothing is lost."
    )


# --- failures and pacing ---------------------------------------------------------------------------------


def retry_after_seconds(value: Any) -> float | None:
    """A Retry-After header's seconds (None when absent or not a number)."""
    try:
        return max(0.0, float(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def zendesk_reason(body: str) -> str:
    """Zendesk's own words from an error body: description and field details."""
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200]
    if not isinstance(data, dict):
        return body[:200]
    details = data.get("details") or {}
    said = [
        str(item.get("description"))
        for items in details.values()
        if isinstance(items, list)
        for item in items
        if isinstance(item, dict) and item.get("description")
    ]
    error = data.get("error")
    head = data.get("description") or (error if isinstance(error, str) else None) or ""
    return "; ".join([str(head), *said]) if said else str(head or body[:200])


def zendesk_failure(status: int | None, body: str = "", retry_after: Any = None) -> Exception:
    """What a Zendesk answer means for the command. 429 and 409 (an update raced another) and
    5xx are worth retrying; any other 4xx will not change by itself."""
    if status is None:
        return TransientError("Zendesk unreachable", service="zendesk")
    if status in (429, 409) or status >= 500:
        return TransientError(f"Zendesk answered {status}", retry_after_seconds(retry_after), "zendesk")
    if status == 404:
        return NotFound(f"Zendesk answered 404: {zendesk_reason(body)}")
    return PermanentError(f"Zendesk answered {status}: {zendesk_reason(body)}")


SLACK_TRANSIENT_ERRORS = frozenset({"fatal_error", "internal_error", "service_unavailable", "request_timeout"})
# Slack's answers when the thread, its parent message or its channel is no longer there.
SLACK_GONE_ERRORS = frozenset(
    {"thread_not_found", "message_not_found", "channel_not_found", "is_archived", "invalid_thread_ts"}
)


# Slack answers channel_not_found both for a channel that is gone and for a private channel the
# app is not a member of (to a non-member it does not exist): whoever reads it must hear both.
CHANNEL_NOT_FOUND = (
    "Slack answered channel_not_found: the channel was deleted, or it is private and the Threadline app "
    "is not a member of it (invite the app to the channel)"
)


def slack_failure(status: int, error: str | None, retry_after: Any = None) -> Exception:
    if status == 429 or error == "ratelimited":
        return TransientError("Slack rate limit", retry_after_seconds(retry_after), "slack")
    if status >= 500 or error in SLACK_TRANSIENT_ERRORS:
        return TransientError(f"Slack answered {error or status}", service="slack")
    if error == "channel_not_found":
        return ThreadGone(CHANNEL_NOT_FOUND)
    if error in SLACK_GONE_ERRORS:
        return ThreadGone(f"Slack answered {error}")
    return PermanentError(f"Slack answered {error or status}")

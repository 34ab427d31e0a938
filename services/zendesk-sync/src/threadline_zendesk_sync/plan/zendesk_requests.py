"""What is written to Zendesk: the ticket objects of each create and update, the command id in
the audit metadata that makes a write findable again (and keeps Threadline's own comments out of
Slack), and the router's notes with people named. Slack text becomes Zendesk Markdown through
threadline_common.from_slack."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeAlias

from msgspec import UNSET

from threadline_common import from_slack
from threadline_common.models.generated.commands_v4 import (
    ZendeskAddComment,
    ZendeskAnswerSolved,
    ZendeskCreateFollowup,
    ZendeskCreateTicket,
    ZendeskSetPriority,
    ZendeskSetStatus,
)
from threadline_common.tickets import DONE_STATUSES
from threadline_zendesk_sync.plan.attachments import files_note
from threadline_zendesk_sync.plan.failures import PermanentError
from threadline_zendesk_sync.plan.people import Person

# The two commands that open a ticket (the contract's v2 structs: a follow-up names the closed one).
NewTicketCommand: TypeAlias = ZendeskCreateTicket | ZendeskCreateFollowup
# Zendesk keeps what a request sends as `ticket.metadata` on the audit, and shows it on the
# comment as metadata.custom: this key names the command that wrote it.
COMMAND_KEY = "threadline_command_id"


# How a private request (a direct message to the app) introduces itself to the agent.
PRIVATE_NOTE = (
    "Private request, sent to Threadline in a direct message in Slack. Public replies reach the person there."
)


def private_request(command: NewTicketCommand) -> bool:
    """Opened from a direct message to the app: nothing in the ticket names a Slack channel."""
    return command.private is True


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
    if private_request(command):
        text += f"\n\n—\n{PRIVATE_NOTE}"  # no channel, no link: the DM is the person's own
    elif permalink:
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
        "type": command.ticket_type,  # question, incident, problem or task (the ticket form modal)
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


def priority_request(command: ZendeskSetPriority, current: str | None, note: str | None) -> dict[str, Any] | None:
    if current == command.priority:
        return None
    ticket: dict[str, Any] = {"priority": command.priority, "metadata": {COMMAND_KEY: command.command_id}}
    if note:
        ticket["comment"] = {"body": note, "public": False}
    return ticket


def assign_request(command_id: str, current: Any, agent_id: int) -> dict[str, Any] | None:
    """The `ticket` object assigning the ticket to the on-call agent, None when it already is."""
    if current is not None and int(current) == agent_id:
        return None
    return {"assignee_id": agent_id, "metadata": {COMMAND_KEY: command_id}}


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


def answer_solved_request(command: ZendeskAnswerSolved, ticket_id: int, current: str, note: str) -> dict[str, Any]:
    """The `ticket` object of PUT /api/v2/tickets/{id}.json for "This solved it": solved, the tags
    that let reports tell (added to the ticket's, not replacing them: `additional_tags`), and an
    internal note carrying the command id (what a retry finds). A ticket already solved keeps its
    status and still gets the tags; a closed one can no longer change."""
    if current == "closed":
        raise PermanentError(f"ticket #{ticket_id} is closed; the answer's feedback cannot be recorded on it")
    ticket: dict[str, Any] = {
        "additional_tags": list(command.tags),
        "comment": {"body": note, "public": False},
        "metadata": {COMMAND_KEY: command.command_id},
    }
    if current not in DONE_STATUSES:
        ticket["status"] = "solved"
    return ticket

"""What to ask Zendesk and Slack for, as pure functions: bodies, texts, and what counts as done.

The executor (effects.py) feeds these with what it looked up and sends what they return.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

THREADLINE_POST = "threadline_post"


class PermanentError(Exception):
    """The command can never succeed as it is (closed ticket, unknown channel): dead-letter it."""


class TransientError(Exception):
    """Worth retrying after a pause (rate limit, 5xx, timeout)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Person:
    """A Slack author as Zendesk will see them."""

    slack_user_id: str | None
    name: str
    email: str | None


def person_from_slack(slack_user_id: str | None, user: dict[str, Any] | None) -> Person:
    if not user:
        return Person(slack_user_id, slack_user_id or "Slack user", None)
    profile = user.get("profile") or {}
    name = profile.get("real_name") or user.get("real_name") or profile.get("display_name") or user.get("name")
    # Slack Connect guests and bots share no email: they stay labelled, not matched.
    email = None if user.get("is_bot") else profile.get("email")
    return Person(slack_user_id, str(name or slack_user_id or "Slack user"), email)


def ticket_request(command: dict[str, Any], requester_id: int | None, permalink: str | None) -> dict[str, Any]:
    """The `ticket` object of POST /api/v2/tickets.json for create_ticket / create_followup."""
    body = command["body"] or "(no text)"
    if permalink:
        body = f"{body}\n\n—\nSlack thread: {permalink}"
    ticket: dict[str, Any] = {
        "subject": command["subject"],
        "comment": {"body": body, "public": True},
        "external_id": command["external_id"],
        "tags": list(command.get("tags") or []),
        "metadata": {"threadline_command_id": command["command_id"]},
    }
    if requester_id is not None:
        ticket["requester_id"] = requester_id
    for key in ("group_id", "brand_id", "ticket_form_id", "priority", "via_followup_source_id"):
        if command.get(key) is not None:
            ticket[key] = command[key]
    if command.get("custom_fields"):
        ticket["custom_fields"] = command["custom_fields"]
    return ticket


def comment_request(
    command: dict[str, Any], author_id: int | None, author: Person, uploads: list[str]
) -> dict[str, Any]:
    """The `ticket` object of PUT /api/v2/tickets/{id}.json adding one Slack message."""
    body = command["body"] or "(no text)"
    if author_id is None and command.get("public", True):
        body = f"{author.name} wrote in Slack:\n\n{body}"
    comment: dict[str, Any] = {"body": body, "public": bool(command.get("public", True))}
    if author_id is not None:
        comment["author_id"] = author_id
    if uploads:
        comment["uploads"] = uploads
    ticket: dict[str, Any] = {
        "comment": comment,
        "metadata": {"threadline_command_id": command["command_id"], "slack_ts": command.get("slack_ts")},
    }
    if command.get("reopen"):
        ticket["status"] = "open"
    return ticket


def written_by_us(comment: dict[str, Any]) -> str | None:
    """The command id a comment was written for, if Threadline wrote it."""
    custom = (comment.get("metadata") or {}).get("custom") or {}
    value = custom.get("threadline_command_id")
    return str(value) if value else None


def post_metadata(command_id: str, **extra: Any) -> dict[str, Any]:
    return {"event_type": THREADLINE_POST, "event_payload": {"command_id": command_id, **extra}}


def posted_command(message: dict[str, Any]) -> str | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != THREADLINE_POST:
        return None
    return str((metadata.get("event_payload") or {}).get("command_id") or "") or None


def ticket_link_text(ticket_id: int, url: str, followup_of: int | None) -> str:
    if followup_of:
        return (
            f":ticket: Ticket #{followup_of} is closed, so I opened follow-up <{url}|#{ticket_id}>. "
            "Replies here go to it."
        )
    return (
        f":ticket: I opened ticket <{url}|#{ticket_id}>. Replies in this thread are added to it; type `help` for more."
    )


def ticket_link_blocks(text: str, url: str) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open in Zendesk"}, "url": url}],
        },
    ]


def email_thread_text(command: dict[str, Any], requester: str, url: str) -> str:
    excerpt = command["body"] if len(command["body"]) <= 1500 else command["body"][:1500] + "…"
    return (
        f":email: *{command['subject']}* — emailed by {requester}, ticket <{url}|#{command['ticket_id']}>\n>{excerpt}"
    )


def thread_key(team_id: str, channel_id: str, ts: str) -> str:
    return f"{team_id}:{channel_id}:{ts}"


def result(kind: str, command: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A threadline.sync.results v1 record."""
    return {
        "schema_version": 1,
        "kind": kind,
        "conversation_id": fields.pop("conversation_id", command["conversation_id"]),
        "command_id": command["command_id"],
        "ticket_id": fields.pop("ticket_id", None),
        "ticket_url": fields.pop("ticket_url", None),
        "team_id": fields.pop("team_id", None),
        "channel_id": fields.pop("channel_id", None),
        "thread_ts": fields.pop("thread_ts", None),
        "moved_from": fields.pop("moved_from", None),
        "reason": fields.pop("reason", None),
    }


def backoff(attempt: int, cap: float, retry_after: float | None) -> float:
    """Exponential, capped; Retry-After wins when the server gave one."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), cap * 4)
    return float(min(cap, 0.5 * 2**attempt))

"""What operators type, understood: Slack thread links, dates, offsets, conversation ids and
ticket ids. Pure; every failure is a ValueError whose message says what was expected."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

_TS = re.compile(r"^[0-9]{9,11}\.[0-9]{6}$")
_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_PERMALINK = re.compile(r"^/archives/([^/]+)/p([0-9]{7,})/?$")
_CONVERSATION = re.compile(r"^(?:[^:\s]+:[CGD][A-Z0-9]+:[0-9]+\.[0-9]{6}|zd:[0-9]+)$")
LINK_FORMAT = "https://<workspace>.slack.com/archives/<channel>/p<timestamp>"


@dataclass(frozen=True)
class ThreadRef:
    """A thread named by a Slack link: its channel, its root message and the message linked."""

    channel_id: str
    root_ts: str
    message_ts: str
    workspace: str


def parse_thread_link(text: str) -> ThreadRef:
    """`https://acme.slack.com/archives/C0SUPPORT/p1795984450000001`, or a reply's link with
    `?thread_ts=1795984450.000001&cid=C0SUPPORT`."""
    parts = urlsplit(text.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host.endswith(".slack.com") or host == ".slack.com":
        raise ValueError(f"not a Slack thread link: {text!r} (expected {LINK_FORMAT})")
    match = _PERMALINK.match(parts.path)
    if match is None:
        raise ValueError(f"not a Slack message link: {text!r} (expected {LINK_FORMAT})")
    channel, digits = match.groups()
    if not _CHANNEL.match(channel):
        raise ValueError(f"{channel!r} in {text!r} is not a Slack channel id")
    message_ts = f"{digits[:-6]}.{digits[-6:]}"
    query = parse_qs(parts.query)
    root_ts = message_ts
    if "thread_ts" in query:
        root_ts = query["thread_ts"][0]
        if not _TS.match(root_ts):
            raise ValueError(f"thread_ts={root_ts!r} in {text!r} is not a Slack timestamp")
    if "cid" in query and query["cid"][0] != channel:
        raise ValueError(f"cid={query['cid'][0]!r} in {text!r} names another channel than {channel!r}")
    if not _TS.match(message_ts):
        raise ValueError(f"p{digits} in {text!r} is not a Slack timestamp")
    return ThreadRef(channel, root_ts, message_ts, host.split(".", 1)[0])


def parse_time(text: str, end_of_day: bool = False) -> datetime:
    """An ISO 8601 date or date-time; UTC unless it says otherwise. A bare date as an end
    (`--until 2026-11-30`) means the end of that day."""
    value = text.strip()
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date or date-time: {text!r} (e.g. 2026-11-23 or 2026-11-23T14:30:00Z)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if end_of_day and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        when += timedelta(days=1) - timedelta(microseconds=1)
    return when


def parse_position(text: str, end_of_day: bool = False) -> int | datetime:
    """A DLQ bound: an offset (a whole number) or a time."""
    value = text.strip()
    if value.isdigit():
        return int(value)
    if value.startswith("-") and value[1:].isdigit():
        raise ValueError(f"offsets are not negative: {text!r}")
    try:
        return parse_time(value, end_of_day)
    except ValueError:
        raise ValueError(f"neither an offset nor a time: {text!r} (e.g. 42, 2026-11-23 or 2026-11-23T14:30Z)") from None


@dataclass(frozen=True)
class Target:
    """What `show` was asked about."""

    kind: str  # conversation | thread | ticket
    conversation_id: str | None = None
    thread: ThreadRef | None = None
    ticket_id: int | None = None


def parse_target(text: str, allow_ticket: bool = True) -> Target:
    value = text.strip()
    if value.startswith(("http://", "https://")):
        return Target("thread", thread=parse_thread_link(value))
    if _CONVERSATION.match(value):
        return Target("conversation", conversation_id=value)
    if allow_ticket:
        ticket = value.removeprefix("#")
        if ticket.isdigit() and int(ticket) > 0:
            return Target("ticket", ticket_id=int(ticket))
    wanted = "a conversation id, a Slack thread link" + (" or a ticket id" if allow_ticket else "")
    raise ValueError(f"{text!r} is not {wanted} (e.g. T0ACME:C0SUPPORT:1795984450.000001 or {LINK_FORMAT})")


def parse_ticket_id(text: str) -> int:
    value = text.strip().removeprefix("#")
    if not value.isdigit() or int(value) <= 0:
        raise ValueError(f"not a Zendesk ticket id: {text!r} (a positive number, e.g. 4821)")
    return int(value)


def matches(conversation: dict[str, Any], target: Target) -> bool:
    if target.kind == "conversation":
        return conversation.get("conversation_id") == target.conversation_id
    if target.kind == "ticket":
        return target.ticket_id == conversation.get("ticket_id") or target.ticket_id in (
            conversation.get("previous_ticket_ids") or []
        )
    assert target.thread is not None
    return (
        conversation.get("channel_id") == target.thread.channel_id
        and conversation.get("thread_ts") == target.thread.root_ts
        and not str(conversation.get("conversation_id", "")).startswith("zd:")
    )


def describe(c: dict[str, Any]) -> str:
    """A conversation as an operator reads it."""
    ticket = f"#{c['ticket_id']}" if c.get("ticket_id") else "(none yet)"
    if c.get("ticket_url"):
        ticket += f"  {c['ticket_url']}"
    generation = int(c.get("generation") or 1)
    rows = [
        ("conversation", c.get("conversation_id")),
        ("channel", c.get("channel_id")),
        ("thread", c.get("thread_ts") or "(no Slack thread yet)"),
        ("origin", c.get("origin")),
        ("status", c.get("status")),
        ("ticket", ticket),
        ("external id", c.get("conversation_id") if generation == 1 else f"{c.get('conversation_id')}#{generation}"),
    ]
    if c.get("previous_ticket_ids"):
        rows.append(("earlier tickets", ", ".join(f"#{t}" for t in c["previous_ticket_ids"])))
    rows.append(("requester", c.get("requester_slack_id") or "-"))
    if c.get("responders"):
        rows.append(("responders", ", ".join(c["responders"])))
    if c.get("moved_to"):
        rows.append(("moved to", c["moved_to"]))
    if c.get("waiting_since"):
        rows.append(("waiting since", f"{c['waiting_since']} ({c.get('reminders_sent', 0)} reminders sent)"))
    if c.get("pending_comments"):
        rows.append(("pending comments", str(len(c["pending_comments"]))))
    rows += [("created", c.get("created_at")), ("updated", c.get("updated_at"))]
    return "\n".join(f"{label:<17}{value}" for label, value in rows)

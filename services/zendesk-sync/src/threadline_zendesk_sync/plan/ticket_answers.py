"""What a person is told about a ticket (`/support status`, Show latest comment, a follow), and
who may be told: pure, from the ticket, its comments and what is known of the person."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from threadline_common import to_slack
from threadline_common.tickets import DONE_STATUSES, WAITING_STATUSES
from threadline_common.times import parse_time

EXCERPT_CHARS = 200  # the last update's text in a status answer


@dataclass(frozen=True)
class Access:
    """Whether a Slack person may see a ticket, and read the text of its Slack thread."""

    allowed: bool
    sees_thread: bool
    why: str  # for the logs: agent, requester or CC, member of the thread's channel, or why not


def thread_channel(external_id: str | None) -> str | None:
    """The Slack channel a ticket's thread is in, from its external_id (`<team>:<channel>:<ts>`,
    `#<n>` for a follow-up); None for a ticket with no thread (emailed, made in Zendesk)."""
    parts = str(external_id or "").split("#", 1)[0].split(":")
    if len(parts) == 3 and parts[0] != "zd" and parts[1]:
        return parts[1]
    return None


def parties(ticket: Mapping[str, Any]) -> set[int]:
    """The Zendesk users a ticket is shared with: its requester, submitter, CCs and followers."""
    ids = {ticket.get("requester_id"), ticket.get("submitter_id")}
    for name in ("collaborator_ids", "email_cc_ids", "follower_ids"):
        ids.update(ticket.get(name) or ())
    return {int(i) for i in ids if i}


def access(
    ticket: Mapping[str, Any], zendesk_user: Mapping[str, Any] | None, channel: str | None, member: bool | None
) -> Access:
    """May the person see the ticket? A Zendesk agent (by their Slack email) may, so may its
    requester or a CC, and so may a member of the channel its thread is in. They read the
    thread's text only if they are in that channel (or the ticket has no thread)."""
    sees_thread = channel is None or bool(member)
    role = str((zendesk_user or {}).get("role") or "")
    if role in ("agent", "admin"):
        return Access(True, sees_thread, "a Zendesk agent")
    if zendesk_user is not None and int(zendesk_user.get("id") or 0) in parties(ticket):
        return Access(True, sees_thread, "the requester or a CC")
    if channel is not None and member:
        return Access(True, True, f"a member of {channel}")
    return Access(False, False, "neither an agent, the requester, a CC nor in the thread's channel")


def not_found_text(ticket_id: int) -> str:
    return f"There is no ticket #{ticket_id} (or Threadline cannot see it)."


def refused_text(ticket_id: int) -> str:
    return (
        f"You may not see ticket #{ticket_id}: only Zendesk agents, its requester and CCs, and members of"
        " the channel its thread is in may."
    )


def duration(seconds: float) -> str:
    minutes = int(max(0.0, seconds) // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60:02d}"
    return f"{hours // 24} days {hours % 24} h"


def _time(value: Any) -> dt.datetime | None:
    try:
        return parse_time(str(value)) if value else None
    except ValueError:
        return None


def public_comments(comments: Mapping[int, Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The ticket's public comments, oldest first."""
    public = [c for c in comments.values() if c.get("public", True)]
    return sorted(public, key=lambda c: (str(c.get("created_at") or ""), int(c.get("id") or 0)))


def comment_text(comment: Mapping[str, Any], detail: str, chars: int | None) -> str:
    """A comment's text as the person chose to read it: escaped, whole, or its first `chars`."""
    text = str(comment.get("plain_body") or comment.get("body") or "").strip()
    limit = chars if detail == "first" and chars else 2500
    if len(text) > limit:
        text = text[:limit].rstrip() + "…"
    return to_slack.escape(text)


def waiting_line(
    status: str, comments: Sequence[Mapping[str, Any]], staff: set[int], created_at: Any, now: dt.datetime
) -> str:
    """How long the ticket has waited, and on whom."""
    if status in DONE_STATUSES:
        return "Nobody is waiting: it is " + status + "."
    last_agent = next((c for c in reversed(comments) if int(c.get("author_id") or 0) in staff), None)
    if status == "pending":
        since = _time((last_agent or {}).get("created_at")) or _time(created_at)
        waited = f" for {duration((now - since).total_seconds())}" if since else ""
        return f"Waiting on the requester{waited}."
    after = [c for c in comments if last_agent is None or str(c.get("created_at")) > str(last_agent.get("created_at"))]
    asking = [c for c in after if int(c.get("author_id") or 0) not in staff]
    if status in WAITING_STATUSES and (asking or last_agent is None):
        since = _time(asking[0].get("created_at")) if asking else _time(created_at)
        if since is not None:
            return f"Waiting on support for {duration((now - since).total_seconds())}."
    if last_agent is not None:
        since = _time(last_agent.get("created_at"))
        if since is not None:
            return f"Support answered {duration((now - since).total_seconds())} ago."
    return "Waiting on support."


def status_text(
    ticket: Mapping[str, Any],
    url: str,
    assignee: str | None,
    comments: Sequence[Mapping[str, Any]],
    names: Mapping[int, str],
    staff: set[int],
    now: dt.datetime,
    sees_thread: bool,
) -> str:
    """`/support status`: number and link, subject, status, assignee, the last public update
    (who, when, its first 200 characters) and how long it has waited."""
    ticket_id = int(ticket["id"])
    status = str(ticket.get("status") or "new")
    subject = to_slack.escape(str(ticket.get("subject") or "")[:120])
    lines = [f"*{to_slack.link(url, f'Ticket #{ticket_id}')}*" + (f": {subject}" if subject else "")]
    assigned = to_slack.bold(assignee) if assignee else "nobody yet"
    lines.append(f"Status: *{to_slack.escape(status)}*. Assignee: {assigned}.")
    if comments:
        last = comments[-1]
        who = names.get(int(last.get("author_id") or 0)) or "someone"
        when = _time(last.get("created_at"))
        ago = f" {duration((now - when).total_seconds())} ago" if when else ""
        head = f"Last public update: {to_slack.bold(who)}{ago}"
        if sees_thread:
            lines.append(head + ":")
            lines.append(to_slack.quote_lines(comment_text(last, "first", EXCERPT_CHARS)))
        else:
            lines.append(head + " (its text is in a channel you are not in).")
    lines.append(waiting_line(status, comments, staff, ticket.get("created_at"), now))
    return "\n".join(lines)


def latest_comment_text(
    ticket: Mapping[str, Any],
    url: str,
    comments: Sequence[Mapping[str, Any]],
    names: Mapping[int, str],
    detail: str,
    chars: int | None,
    now: dt.datetime,
) -> str:
    """Show latest comment: the last public comment, as the follower chose to read it."""
    ticket_id = int(ticket["id"])
    link = to_slack.link(url, f"#{ticket_id}")
    if not comments:
        return f"Ticket {link} has no public comment yet."
    last = comments[-1]
    who = names.get(int(last.get("author_id") or 0)) or "someone"
    when = _time(last.get("created_at"))
    ago = f" {duration((now - when).total_seconds())} ago" if when else ""
    head = f"The latest comment on ticket {link}, by {to_slack.bold(who)}{ago}"
    if detail == "summary":
        return head + ". _Summary only: read it in Zendesk._"
    return head + ":\n" + to_slack.quote_lines(comment_text(last, detail, chars))


def followed_text(ticket_id: int, url: str, what: str, sees_thread: bool) -> str:
    text = f"You now follow ticket {to_slack.link(url, f'#{ticket_id}')}: you get a direct message on {what}."
    if not sees_thread:
        text += " Its thread is in a channel you are not in, so you get who and when, not the text."
    return text + f" `/support unfollow {ticket_id}` stops it."


WHAT_NAMES = {
    "agent_replies": "agents' replies",
    "requester_comments": "the requester's comments",
    "status_changes": "status changes",
}


def describe_choices(what: Sequence[str], detail: str, chars: int | None, sees_thread: bool = True) -> str:
    """What a follower hears of, as a sentence part (the router's words for the same choices)."""
    listed = [name for key, name in WHAT_NAMES.items() if key in what] or list(WHAT_NAMES.values())
    said = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
    if list(what) == ["status_changes"]:
        return said  # no comment text to choose the length of
    if detail == "summary" or not sees_thread:
        return f"{said}, as summaries (who, when and the link; no text)"
    if detail == "first" and chars:
        return f"{said}, with the first {chars} characters of each comment"
    return f"{said}, with each comment in full"


def report_refused_text(channel: str, report_channel: str) -> str:
    if report_channel == channel:
        return f"The reports of <#{channel}> are for Zendesk agents and members of <#{channel}>."
    return f"The reports of <#{channel}> are for Zendesk agents and members of <#{report_channel}>, where they go."

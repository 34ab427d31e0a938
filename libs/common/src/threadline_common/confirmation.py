"""The bot's confirmation in a thread: the ticket's link, the ticket's state as Slack shows it
(solved by whom, urgent since when) and the buttons to act on it, as one pure function.

zendesk-sync posts it when the ticket is created; the router rewrites it after a press on one of
its buttons (slack.update_message), so both render the same message from the same facts. Each of
Threadline's buttons carries the conversation's key as its `value`: the press is decided by that
conversation's row (threadline_router.inbound.interactions). Built with slack_sdk's Block Kit
models, which check Slack's limits (texts, action ids) as they are built.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from threadline_common import to_slack
from threadline_common.times import parse_time

RESOLVE = "threadline.resolve"
URGENT = "threadline.urgent"
FOLLOW = "threadline.follow"
ASSIGN_ME = "threadline.assign_me"
# A link button: Slack sends its press too; without the threadline. prefix the router drops it.
OPEN_IN_ZENDESK = "open_in_zendesk"


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation shows. `solved_by`: the Slack user who solved it from Slack (None:
    solved elsewhere, or not solved); `urgent_since`: RFC 3339 time it was marked urgent."""

    conversation: str  # <team>:<channel>:<thread ts>, the buttons' value
    ticket_id: int
    url: str
    followup_of: int | None = None
    solved: bool = False
    solved_by: str | None = None
    urgent_since: str | None = None


def opening_text(ticket_id: int, url: str, followup_of: int | None = None) -> str:
    ticket = to_slack.link(url, f"#{ticket_id}")
    if followup_of:
        return (
            f":ticket: Ticket #{followup_of} is closed, so I opened follow-up ticket {ticket}. Replies here go to it."
        )
    return f":ticket: I opened ticket {ticket}. Replies in this thread are added to it; type `help` for more."


def clock(at: str) -> str:
    """`<!date>` markup: Slack shows the time in the reader's own timezone; the fallback (UTC)
    where it cannot (notifications, other clients)."""
    when = parse_time(at)
    fallback = when.astimezone(dt.UTC).strftime("%H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{{time}}|{fallback}>"


def state_lines(c: Confirmation) -> list[str]:
    lines = []
    if c.solved:
        by = f" by {to_slack.mention(c.solved_by)}" if c.solved_by and to_slack.is_user_id(c.solved_by) else ""
        lines.append(f":white_check_mark: Solved{by}.")
    if c.urgent_since:
        lines.append(f":rotating_light: Urgent since {clock(c.urgent_since)}.")
    return lines


def text(c: Confirmation) -> str:
    """The message's text: the notification, and what clients without blocks show."""
    return "\n".join([opening_text(c.ticket_id, c.url, c.followup_of), *state_lines(c)])


def buttons(c: Confirmation) -> list[ButtonElement]:
    """What can still be done: a solved ticket keeps only Follow and its link."""
    shown: list[ButtonElement] = []
    if not c.solved:
        shown.append(ButtonElement(text="Resolve", action_id=RESOLVE, value=c.conversation, style="primary"))
        if not c.urgent_since:
            shown.append(ButtonElement(text="Urgent", action_id=URGENT, value=c.conversation, style="danger"))
    shown.append(ButtonElement(text="Follow", action_id=FOLLOW, value=c.conversation))
    if not c.solved:
        shown.append(ButtonElement(text="Assign to me", action_id=ASSIGN_ME, value=c.conversation))
    if to_slack.safe_url(c.url):
        shown.append(ButtonElement(text="Open in Zendesk", action_id=OPEN_IN_ZENDESK, url=c.url))
    return shown


def blocks(c: Confirmation) -> list[dict[str, Any]]:
    """The confirmation's Block Kit blocks."""
    built: list[Block] = [SectionBlock(text=MarkdownTextObject(text=opening_text(c.ticket_id, c.url, c.followup_of)))]
    lines = state_lines(c)
    if lines:
        built.append(ContextBlock(elements=[MarkdownTextObject(text="\n".join(lines))]))
    built.append(ActionsBlock(block_id="threadline.ticket_actions", elements=buttons(c)))
    return [b.to_dict() for b in built]

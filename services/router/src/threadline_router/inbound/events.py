"""The events the rules understand, decoded from the router's input records, and the
conversation each belongs to (the table key the router groups by)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from threadline_common.models import SyncResultV4 as SyncResult
from threadline_router.conversation import conversation_key
from threadline_router.inbound.interactions import (
    BlockAction,
    HomeOpened,
    MessageShortcut,
    SlashCommand,
    ViewSubmission,
    interaction_conversation,
    person_key,
    ticket_key,
)


@dataclass(frozen=True)
class SlackMessage:
    event_id: str
    team_id: str
    channel_id: str
    ts: str
    thread_ts: str | None
    user: str | None
    bot_id: str | None
    text: str
    subtype: str | None = None
    files: tuple[dict[str, Any], ...] = ()
    # Sent by `threadline-ops backfill` (history read from Slack), not delivered by Slack.
    backfill: bool = False
    # Backfill: the operator named this thread, so it opens a ticket whatever the channel's rule.
    explicit: bool = False
    # Backfill: the message's reactions as Slack lists them ({name, users, count}).
    reactions: tuple[dict[str, Any], ...] = ()

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def root_ts(self) -> str:
        return self.thread_ts or self.ts


@dataclass(frozen=True)
class SlackEdit:
    event_id: str
    team_id: str
    channel_id: str
    ts: str
    root_ts: str
    user: str | None
    text: str
    edited_ts: str


@dataclass(frozen=True)
class SlackDelete:
    event_id: str
    team_id: str
    channel_id: str
    ts: str
    root_ts: str
    user: str | None


@dataclass(frozen=True)
class SlackReaction:
    event_id: str
    team_id: str
    channel_id: str
    item_ts: str
    user: str
    reaction: str
    added: bool
    item_user: str | None = None  # the author of the message reacted to


@dataclass(frozen=True)
class SlackJoin:
    """Someone joined a channel (member_joined_channel)."""

    event_id: str
    team_id: str
    channel_id: str
    user: str


@dataclass(frozen=True)
class ReminderTick:
    """The router's timer found a conversation that may be due a reminder (threadline.router.inbound)."""

    conversation_id: str
    at: str


@dataclass(frozen=True)
class ZendeskTicketEvent:
    """A Zendesk event webhook about one ticket: created, comment added, status changed."""

    event_id: str
    kind: str  # created | comment | status
    ticket_id: int
    external_id: str | None
    status: str | None
    previous_status: str | None = None
    via_channel: str | None = None
    group_id: int | None = None
    subject: str = ""
    description: str = ""
    requester_id: int | None = None
    comment_id: int | None = None
    comment_body: str = ""
    comment_html: str = ""  # the comment's html_body, when Zendesk sends it (preferred for Slack)
    comment_public: bool = True
    author_id: int | None = None
    author_name: str = ""
    author_is_staff: bool = False
    occurred_at: str | None = None  # when Zendesk says it happened (the webhook's `time`)


@dataclass(frozen=True)
class OperatorAction:
    """An operator's correction sent by `threadline-ops` (relink, unlink) for the router to apply,
    so that the links table stays the router's and the change is in its changelog."""

    kind: str  # relink | unlink
    action_id: str  # unique per run of the command: the seen key and command ids derive from it
    conversation_id: str
    by: str
    at: str
    team_id: str = ""
    channel_id: str = ""
    thread_ts: str | None = None
    ticket_id: int | None = None
    ticket_url: str | None = None
    ticket_status: str | None = None
    requester_slack_id: str | None = None


@dataclass(frozen=True)
class FollowNote:
    """The router's note to one of its own rows about a follow (threadline.router.inbound,
    threadline-source `follows`): the row that decided it tells the row that must learn it, in
    that row's own order, as the reminder timer does with ticks.

    - `followed` / `unfollowed`, to the person's row: a ticket joins or leaves their list;
    - `unfollow`, to the ticket's row: someone asked to stop following it by a thread link."""

    kind: str  # followed | unfollowed | unfollow
    note_id: str  # unique per cause: the seen key and command ids derive from it
    team_id: str
    user: str
    ticket_id: int
    at: str
    response_url: str | None = None
    ticket_url: str | None = None  # followed: the ticket's link, for the person's Home


Inbound: TypeAlias = (
    SlackMessage
    | SlackEdit
    | SlackDelete
    | SlackReaction
    | SlackJoin
    | ZendeskTicketEvent
    | SyncResult
    | ReminderTick
    | OperatorAction
    | SlashCommand
    | BlockAction
    | MessageShortcut
    | ViewSubmission
    | HomeOpened
    | FollowNote
)


def conversation_of(event: Inbound) -> str:
    """The conversation an event belongs to: the table key the router groups by."""
    match event:
        case SlackMessage():
            return conversation_key(event.team_id, event.channel_id, event.root_ts)
        case SlackEdit() | SlackDelete():
            return conversation_key(event.team_id, event.channel_id, event.root_ts)
        case SlackReaction():
            return conversation_key(event.team_id, event.channel_id, event.item_ts)
        case SlackJoin():
            # Not a conversation: its own key, so joins never touch a thread's row.
            return f"{event.team_id}:{event.channel_id}:join:{event.user}"
        case ReminderTick():
            return event.conversation_id
        case ZendeskTicketEvent():
            if event.external_id:
                # Follow-up tickets carry "<conversation>#<generation>".
                return event.external_id.split("#", 1)[0]
            return f"zd:{event.ticket_id}"
        case SyncResult():
            return event.conversation_id
        case OperatorAction():
            return event.conversation_id
        case SlashCommand() | BlockAction() | MessageShortcut() | ViewSubmission() | HomeOpened():
            return interaction_conversation(event)
        case FollowNote():
            if event.kind == "unfollow":
                return ticket_key(event.ticket_id)
            return person_key(event.team_id, event.user)
    raise TypeError(f"not an inbound event: {event!r}")


# Zendesk events a ticket's followers hear of: its row (ticket:<id>) gets them too.
FOLLOWED_KINDS = frozenset({"comment", "status"})


def also_for(event: Inbound) -> tuple[str, ...]:
    """The other rows an event is forwarded to besides its conversation's: a ticket's comments
    and status changes also reach the ticket's followers row (emailed tickets' too)."""
    if isinstance(event, ZendeskTicketEvent) and event.kind in FOLLOWED_KINDS:
        return (ticket_key(event.ticket_id),)
    return ()

"""What an event means for a conversation: the router's rules, as pure functions.

`route(event, state, ctx) -> Decision` is the entry point: which ticket to open, which reply
becomes which comment, when to solve, reopen or follow up, what the thread is told. The agents
around it only decode, call it, store `Decision.state` and send `Decision.commands`. One module
per kind of event decides it:

- `messages`: Slack messages (requests, replies, help, resolve, follow-ups, backfill), edits, deletions;
- `reactions`: action emoji (open, urgent, resolve) and who may use them (`who`);
- `joins`: the welcome to someone who joins a channel;
- `zendesk`: ticket events (agents' comments, status changes, emailed tickets);
- `results`: zendesk-sync's results (ticket created, thread opened, failed, thread gone);
- `operators`: threadline-ops relink and unlink;
- `reminders`: when a waiting conversation is due a reminder;
- `answers`: automatic answers offered to a new question, and the requester's feedback on them;
- `follows`: the rows of the follows table (a ticket's followers, a person's tickets) and the
  direct messages a followed ticket's updates become (`route_follow_row`);
- Threadline's own Slack surface: `slash` (/support), `buttons`, `shortcuts` (message
  shortcuts), `forms` (submitted modals), `home` (the App Home tab);

with `opening` (a new ticket and the out-of-hours notice), and builders for the records they
emit: `commands` (threadline.commands v4 structs) and `activity` (threadline.activity v2).

Every command carries an id derived from the event that caused it (the Slack message ts, the
Zendesk comment id, ...), so a redelivered event yields the same command and zendesk-sync,
which checks ids before it acts, performs each effect once.
"""

from __future__ import annotations

from dataclasses import replace

from threadline_common.contracts import Topics
from threadline_common.models.generated.commands_v4 import (
    Cause,
    OnCallNotify,
    SlackAddReaction,
    SlackPostAnswers,
    SlackPostEphemeral,
    SlackPostMessage,
)
from threadline_router.conversation import Conversation
from threadline_router.follow_rows import FollowRow
from threadline_router.inbound import (
    BlockAction,
    FollowNote,
    HomeOpened,
    Inbound,
    MessageShortcut,
    OperatorAction,
    ReminderTick,
    SlackDelete,
    SlackEdit,
    SlackJoin,
    SlackMessage,
    SlackReaction,
    SlashCommand,
    SyncResult,
    ViewSubmission,
    ZendeskTicketEvent,
)
from threadline_router.rules.buttons import on_block_action
from threadline_router.rules.commands import Command, command_type
from threadline_router.rules.decision import Context, Decision, ignore
from threadline_router.rules.follows import FollowDecision, on_follow_row
from threadline_router.rules.forms import on_view_submission
from threadline_router.rules.home import on_home_opened
from threadline_router.rules.joins import on_join
from threadline_router.rules.messages import on_edit_or_delete, on_message
from threadline_router.rules.operators import on_operator
from threadline_router.rules.reactions import on_reaction
from threadline_router.rules.reminders import next_reminder_at, on_tick, reminder_due
from threadline_router.rules.results import on_result
from threadline_router.rules.shortcuts import on_shortcut
from threadline_router.rules.slash import on_slash_command
from threadline_router.rules.who import describe_who, may_use
from threadline_router.rules.zendesk import on_zendesk

__all__ = [
    "Command",
    "Context",
    "Decision",
    "FollowDecision",
    "cause_of",
    "command_type",
    "describe_who",
    "ignore",
    "may_use",
    "next_reminder_at",
    "reminder_due",
    "route",
    "route_follow_row",
]

# Commands that say something in the conversation's Slack thread.
THREAD_POSTS = (SlackPostMessage, SlackAddReaction, SlackPostEphemeral, OnCallNotify, SlackPostAnswers)


def route(event: Inbound, state: Conversation | None, ctx: Context) -> Decision:
    decision = _route(event, state, ctx)
    after = decision.state
    if after is not None and after.thread_gone_at is not None:
        # The thread is gone: what would be said there is not said (the ticket was told once).
        kept: list[Command] = [c for c in decision.commands if not isinstance(c, THREAD_POSTS)]
        if len(kept) != len(decision.commands):
            decision = replace(decision, commands=kept, reason=decision.reason or "the Slack thread is gone")
    if decision.commands:
        cause = cause_of(event)
        for command in decision.commands:
            command.issued_at, command.cause = ctx.now, cause
    return decision


def route_follow_row(event: Inbound, row: FollowRow | None, key: str, ctx: Context) -> FollowDecision:
    """What an event means for a row of the follows table (`ticket:<id>`, `person:<team>:<user>`).
    An event the row has nothing to say about (an App Home visit, a result of another command) is
    decided as an event of no conversation, and the row stays as it is."""
    decision = on_follow_row(event, row, key, ctx)
    if decision is None:
        plain = _route(event, None, ctx)
        decision = FollowDecision(None, plain.commands, plain.notes, plain.activity, plain.reason)
    if decision.commands:
        cause = cause_of(event)
        for command in decision.commands:
            command.issued_at, command.cause = ctx.now, cause
    return decision


def cause_of(event: Inbound) -> Cause:
    """The record that led to the event's commands: its (canonical) topic and event id."""
    if isinstance(event, SyncResult):
        return Cause(topic=Topics.RESULTS, event_id=event.command_id)
    if isinstance(event, ZendeskTicketEvent):
        return Cause(topic=Topics.ZENDESK_EVENTS, event_id=event.event_id)
    if isinstance(event, ReminderTick):
        return Cause(topic=Topics.ROUTER_INBOUND, event_id=f"reminder-tick:{event.at}")
    if isinstance(event, OperatorAction):
        return Cause(topic=Topics.ROUTER_INBOUND, event_id=f"{event.kind}:{event.action_id}")
    if isinstance(event, FollowNote):
        return Cause(topic=Topics.ROUTER_INBOUND, event_id=event.note_id)
    if isinstance(event, SlackMessage) and event.backfill:
        return Cause(topic=Topics.ROUTER_INBOUND, event_id=event.event_id)
    return Cause(topic=Topics.SLACK_EVENTS, event_id=event.event_id)


def _route(event: Inbound, state: Conversation | None, ctx: Context) -> Decision:
    match event:
        case SlackMessage():
            return on_message(event, state, ctx)
        case SlackEdit() | SlackDelete():
            return on_edit_or_delete(event, state, ctx)
        case SlackReaction():
            return on_reaction(event, state, ctx)
        case SlackJoin():
            return on_join(event, state, ctx)
        case ZendeskTicketEvent():
            return on_zendesk(event, state, ctx)
        case SyncResult():
            return on_result(event, state, ctx)
        case ReminderTick():
            return on_tick(event, state, ctx)
        case OperatorAction():
            return on_operator(event, state, ctx)
        case SlashCommand():
            return on_slash_command(event, state, ctx)
        case BlockAction():
            return on_block_action(event, state, ctx)
        case MessageShortcut():
            return on_shortcut(event, state, ctx)
        case ViewSubmission():
            return on_view_submission(event, state, ctx)
        case HomeOpened():
            return on_home_opened(event, state, ctx)
        case FollowNote():
            return ignore(state, "a follow note for a row that is not a follows row")
    raise TypeError(f"not an inbound event: {event!r}")

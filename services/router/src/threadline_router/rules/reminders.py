"""When a conversation waiting on support is due a reminder, and what the reminder is: the
on-call person (PagerDuty) or the rotation's fireman named in the thread, or a notice of how
long it has waited. The threshold counts business minutes in a channel with `business_hours`,
wall-clock minutes otherwise."""

from __future__ import annotations

import datetime as dt

from msgspec.structs import replace

from threadline_common.business_hours import due_after
from threadline_common.channels import ChannelRules
from threadline_common.tickets import WAITING_STATUSES
from threadline_common.times import parse_time
from threadline_router.conversation import Conversation
from threadline_router.inbound import ReminderTick
from threadline_router.rules.commands import notice, on_call
from threadline_router.rules.decision import Context, Decision, ignore
from threadline_router.rules.fireman import name_fireman
from threadline_router.table import ReminderFields


def next_reminder_at(state: Conversation | ReminderFields, rules: ChannelRules | None) -> dt.datetime | None:
    """When the conversation's next reminder falls due, or None if it will not get one as it is.
    The router's due-time index is keyed by this, so a reminder tick reads only what is due."""
    if rules is None or rules.reminders is None or state.waiting_since is None:
        return None
    if state.thread_ts is None or state.moved_to is not None or state.status not in WAITING_STATUSES:
        return None
    if state.thread_gone_at is not None:
        return None
    if state.reminders_sent >= rules.reminders.max_reminders:
        return None
    return due_after(rules, parse_time(state.waiting_since), rules.reminders.after_minutes * (state.reminders_sent + 1))


def reminder_due(state: Conversation, rules: ChannelRules | None, now: str) -> bool:
    """Whether the conversation has waited on the support side past its next reminder."""
    due = next_reminder_at(state, rules)
    return due is not None and parse_time(now) >= due


def on_tick(tick: ReminderTick, state: Conversation | None, ctx: Context) -> Decision:
    if state is None:
        return ignore(state, "no conversation")
    rules = ctx.channels.rules_for(state.channel_id)
    if rules is None or not reminder_due(state, rules, tick.at):
        return ignore(state, "no reminder due")
    assert state.waiting_since is not None
    sent = state.reminders_sent + 1
    waited = int((parse_time(tick.at) - parse_time(state.waiting_since)).total_seconds() // 60)
    # The same reminder has the same id however many ticks find it due.
    command_id = f"remind:{state.conversation_id}:{state.waiting_since}:{sent}"
    state = replace(state, reminders_sent=sent)
    if rules.on_call is not None:
        return Decision(state, [on_call(state, rules, command_id, "reminder", waited)])
    pinged = name_fireman(state, rules, ctx, command_id, "reminder", _duration(waited), tick.at)
    if pinged is not None:
        return Decision(state, [pinged])
    text = f":hourglass: This request has waited {_duration(waited)} for an answer from support."
    return Decision(state, [notice(state, command_id, text, "notice")])


def _duration(minutes: int) -> str:
    if minutes < 1:
        return "under a minute"
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d}"

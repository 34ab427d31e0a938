"""The rotating fireman (`rotation` in the channels YAML): who is in charge now, named in a new
request's thread, pinged by reminders, answered to `/support oncall`, and announced in the
channel at each hand-over. PagerDuty (`on_call`), when the channel has it, wins: then the
fireman is never named. The arithmetic is threadline_common.rotation's."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from zoneinfo import ZoneInfo

from msgspec import Struct

from threadline_common import to_slack
from threadline_common.channels import ChannelRules
from threadline_common.contracts import Topics
from threadline_common.models.generated.commands_v4 import Cause, SlackPostMessage
from threadline_common.rotation import fireman_at, last_handover, members, next_handover
from threadline_common.times import format_time, parse_time
from threadline_router.conversation import Conversation
from threadline_router.rules.commands import notice
from threadline_router.rules.decision import Context


def current_fireman(rules: ChannelRules, ctx: Context, at: str | None = None) -> str | None:
    """The fireman at `at` (default: now), or None (no rotation, PagerDuty configured, nobody)."""
    when = at or ctx.now
    if rules.rotation is None or rules.on_call is not None or not when:
        return None
    return fireman_at(rules.rotation, members(rules, ctx.groups), parse_time(when))


def name_fireman(
    state: Conversation,
    rules: ChannelRules,
    ctx: Context,
    command_id: str,
    reason: Literal["ticket_opened", "reminder"],
    waited: str | None = None,
    at: str | None = None,
) -> SlackPostMessage | None:
    """The thread's notice naming the fireman at `at` (default: now); None when there is none."""
    who = current_fireman(rules, ctx, at)
    if who is None or state.thread_ts is None:
        return None
    if reason == "reminder":
        waited = waited or "a while"
        text = f":hourglass: This request has waited {waited} for an answer. <@{who}>, could you take a look?"
    else:
        text = f":fire_engine: On duty now: <@{who}>."
    return notice(state, command_id, text)


def slack_date(instant: dt.datetime, timezone: str) -> str:
    """A date Slack shows in each reader's own timezone; the fallback in the rotation's."""
    local = instant.astimezone(ZoneInfo(timezone))
    fallback = f"{local:%a %d %b %H:%M} ({timezone})"
    return f"<!date^{int(instant.timestamp())}^{{date_short_pretty}} {{time}}|{to_slack.escape(fallback)}>"


class RotationRow(Struct, frozen=True, tag="rotation", tag_field="kind"):
    """A channel's row of hand-overs (key rotation:<channel>): the last one announced."""

    channel_id: str
    announced: str  # the hand-over's instant, ISO 8601 UTC


def handover_key(channel_id: str) -> str:
    return f"rotation:{channel_id}"


def on_handover_tick(
    channel_id: str, row: RotationRow | None, ctx: Context
) -> tuple[RotationRow | None, list[SlackPostMessage], str]:
    """At a hand-over not announced yet: one message in the channel, "@new is on duty until
    <next hand-over> (after @old)". Its command id is the channel's and the hand-over's instant,
    so a redelivered tick, a restart or a second worker's tick asks for the same post (and
    zendesk-sync looks for it before posting); the row remembers it, so later ticks ask nothing.
    Returns the row, the commands, and why nothing was said."""
    rules = ctx.channels.rules_for(channel_id)
    if rules is None or rules.rotation is None or not ctx.now:
        return row, [], "no rotation"
    if rules.on_call is not None:
        return row, [], "PagerDuty names who is on call"
    now = parse_time(ctx.now)
    handover = last_handover(rules.rotation, now)
    if handover is None:
        return row, [], "the rotation has not started"
    instant = format_time(handover, "seconds")
    if row is not None and parse_time(row.announced) >= handover:
        return row, [], "announced already"
    people = members(rules, ctx.groups)
    new = fireman_at(rules.rotation, people, handover)
    if new is None:  # no members yet (a user group not heard of): a later tick announces it
        return row, [], "nobody in charge"
    old = fireman_at(rules.rotation, people, handover - dt.timedelta(microseconds=1))
    row = RotationRow(channel_id, instant)
    if new == old:
        return row, [], "the same person stays in charge"
    until = slack_date(next_handover(rules.rotation, handover), rules.rotation.timezone)
    text = f":fire_engine: <@{new}> is on duty until {until}"
    text += f" (after <@{old}>)." if old else "."
    command = SlackPostMessage(
        schema_version=1,
        command_id=f"handover:{channel_id}:{instant}",
        conversation_id=handover_key(channel_id),
        issued_at=ctx.now,
        cause=Cause(topic=Topics.ROUTER_INBOUND, event_id=f"handover-tick:{channel_id}:{instant}"),
        channel_id=channel_id,
        thread_ts=None,
        text=text,
        purpose="notice",
    )
    return row, [command], ""

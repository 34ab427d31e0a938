"""The rules for `/support <subcommand>` (the command's name is the Slack app's; `/support` here).

Every subcommand is answered, ephemerally, through the command's response_url: by the router
(`slack.respond`) when it knows the answer, by zendesk-sync when Zendesk or PagerDuty does
(`zendesk.describe_ticket`, `zendesk.check_follower`, `oncall.answer`). An unknown subcommand or
a bad argument gets one line and the short help: never silence.

Which row decides each (`inbound.interactions`): `status`/`follow`/`unfollow` of a thread link,
that thread's conversation (here); of a ticket number, the ticket's follows row (`follows`);
`following`, the person's follows row (`follows`); anything else, the person in that channel
(here, with no row).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal, cast
from zoneinfo import ZoneInfo

from threadline_common import to_slack
from threadline_common.channels import ChannelRules
from threadline_common.rotation import next_handover
from threadline_common.times import parse_time
from threadline_router.conversation import Conversation
from threadline_router.inbound import FollowNote, SlashCommand, conversation_of
from threadline_router.rules.commands import (
    AnswerPurpose,
    answer,
    check_follower,
    describe_ticket,
    oncall_answer,
    report_answer,
)
from threadline_router.rules.decision import Context, Decision
from threadline_router.rules.fireman import current_fireman, slack_date
from threadline_router.rules.follows import FOLLOW_SYNTAX, parse_choices
from threadline_router.rules.forms import open_from_command
from threadline_router.rules.who import describe_who

COMMANDS_HELP = "\n".join(
    [
        "*Commands* (answered only to you)",
        "• `/support help`: this help.",
        "• `/support status <ticket number | thread link>`: the ticket's status, assignee, last public update"
        " and how long it has waited.",
        "• `/support open [text]`: open a request in this channel.",
        f"• {FOLLOW_SYNTAX}: a direct message on the ticket's updates (all of them in full unless you choose:"
        " `replies` agents' replies, `requester` the requester's comments, `status` status changes;"
        " `first 200` the first 200 characters, `summary` no text).",
        "• `/support unfollow <ticket number | thread link>`, `/support following`: stop following; what you follow.",
        "• `/support oncall`: who is on call (or the fireman on duty) for this channel now.",
        "• `/support report daily|weekly [#channel]`: yesterday's or the last seven days' figures of this"
        " channel (or another), for Zendesk agents and the people its reports go to.",
    ]
)
SHORT_HELP = (
    "Try `/support help`, `/support status 42`, `/support follow 42`, `/support following` or `/support oncall`."
)
# Slack does not allow slash commands in a thread: a thread is named by its link.
NAME_ONE = (
    "Slack does not allow slash commands in threads, so name the ticket: `/support {verb} 42`, or paste the"
    " thread's link (its menu ⋮ → Copy link): `/support {verb} https://….slack.com/archives/C…/p…`."
)


def on_slash_command(event: SlashCommand, state: Conversation | None, ctx: Context) -> Decision:
    key = conversation_of(event)
    match event.verb:
        case "" | "help":
            return _say(event, state, key, help_text(event, ctx), "help")
        case "status" | "follow" | "unfollow":
            return _about_a_thread(event, state, key, ctx)
        case "following":  # decided by the person's follows row; here only if its key was not made
            return _say(event, state, key, SHORT_HELP, "error")
        case "oncall":
            return _on_call(event, state, key, ctx)
        case "open":
            return open_from_command(event, state, ctx)
        case "report":
            return _report(event, state, key, ctx)
    verb = to_slack.escape(event.verb[:40])
    return _say(event, state, key, f"`{verb}` is not a /support command. {SHORT_HELP}", "error")


def _say(
    event: SlashCommand, state: Conversation | None, key: str, text: str, purpose: AnswerPurpose = "answer"
) -> Decision:
    command = answer(key, f"respond:{event.event_id}", event.user, event.response_url, text, purpose, event.channel_id)
    return Decision(state, [command])


def _about_a_thread(event: SlashCommand, state: Conversation | None, key: str, ctx: Context) -> Decision:
    """status / follow / unfollow naming a thread (decided by its row), or naming nothing usable."""
    if event.thread is None:
        named = [a for a in event.args if a.strip()]
        if named:
            text = f"`{to_slack.escape(named[0][:60])}` is not a ticket number or a thread link. {SHORT_HELP}"
        else:
            text = NAME_ONE.format(verb=event.verb)
        return _say(event, state, key, text, "error")
    if state is None or state.ticket_id is None:
        return _say(event, state, key, "That thread has no Zendesk ticket (yet).", "error")
    ticket_id = state.ticket_id
    if event.verb == "status":
        command = describe_ticket(
            key, f"status:{key}:{event.event_id}", event.user, event.response_url, ticket_id, "status",
            thread_channel_id=state.channel_id,
        )  # fmt: skip
        return Decision(state, [command])
    if event.verb == "unfollow":
        note = FollowNote(
            "unfollow", f"slash:{event.event_id}", event.team_id, event.user, ticket_id, ctx.now,
            event.response_url or None,
        )  # fmt: skip
        return Decision(state, notes=[note])
    choices = parse_choices(event.args)
    if isinstance(choices, str):
        return _say(event, state, key, choices, "error")
    check = check_follower(
        f"follow:{key}:{event.user}:{event.event_id}", event.team_id, event.user, event.response_url or None,
        ticket_id, choices, state.channel_id,
    )  # fmt: skip
    return Decision(state, [check])


def _on_call(event: SlashCommand, state: Conversation | None, key: str, ctx: Context) -> Decision:
    rules = ctx.channels.rules_for(event.channel_id)
    if rules is None:
        return _say(event, state, key, "Threadline does not serve this channel, so it has no on-call.", "refusal")
    if rules.on_call is None and rules.rotation is not None:
        return _say(event, state, key, _fireman_answer(event.channel_id, rules, ctx))
    if rules.on_call is None:
        return _say(event, state, key, "No on-call is configured for this channel.", "refusal")
    if not event.response_url:
        return Decision(state, reason="a slash command without a response_url")
    command = oncall_answer(key, f"oncall-answer:{event.event_id}", event.user, event.response_url,
                            event.channel_id, rules)  # fmt: skip
    return Decision(state, [command])


def _fireman_answer(channel_id: str, rules: ChannelRules, ctx: Context) -> str:
    assert rules.rotation is not None
    who = current_fireman(rules, ctx)
    if who is None:
        return f":fire_engine: Nobody is on duty for <#{channel_id}> right now."
    until = slack_date(next_handover(rules.rotation, parse_time(ctx.now)), rules.rotation.timezone)
    return f":fire_engine: On duty for <#{channel_id}>: <@{who}>, until {until}."


REPORT_SYNTAX = "`/support report daily|weekly [#channel]`"
# How Slack writes a channel in a command's text: <#C123|name> (with escaping on), or as typed.
_CHANNEL_REF = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")


def channel_ref(word: str, ctx: Context) -> str | None:
    """The channel a word names: `<#C123|name>`, a channel id, or `#name` of a served channel."""
    found = _CHANNEL_REF.match(word)
    if found:
        return found.group(1)
    if re.fullmatch(r"[CG][A-Z0-9]{2,}", word):
        return word
    name = word.removeprefix("#").lower()
    return next((cid for cid, rules in ctx.channels.channels.items() if rules.name.lower() == name), None)


def _report(event: SlashCommand, state: Conversation | None, key: str, ctx: Context) -> Decision:
    """`report daily|weekly [#channel]`: the latest full period's figures, in the channel's time zone."""
    kind = event.args[0].lower() if event.args else ""
    if kind not in ("daily", "weekly") or len(event.args) > 2:
        return _say(event, state, key, f"Use {REPORT_SYNTAX}: `daily` is yesterday, `weekly` the last seven days.",
                    "error")  # fmt: skip
    channel = channel_ref(event.args[1], ctx) if len(event.args) > 1 else event.channel_id
    if channel is None:
        shown = to_slack.escape(event.args[1][:60])
        return _say(event, state, key, f"`{shown}` is not a channel Threadline serves. Use {REPORT_SYNTAX}.", "error")
    rules = ctx.channels.rules_for(channel)
    if rules is None:
        return _say(event, state, key, f"Threadline does not serve <#{channel}>, so it has no reports.", "refusal")
    if not event.response_url:
        return Decision(state, reason="a slash command without a response_url")
    today = parse_time(ctx.now).astimezone(ZoneInfo(rules.timezone)).date() if ctx.now else dt.date.today()
    day = today - dt.timedelta(days=1 if kind == "daily" else 7)
    command = report_answer(
        key, f"report-answer:{event.event_id}", event.user, event.response_url, cast(Literal["daily", "weekly"], kind),
        channel, day.isoformat(), rules.report_channel or channel,
    )  # fmt: skip
    return Decision(state, [command])


# --- help, from the channel's configuration --------------------------------------------------------


def help_text(event: SlashCommand, ctx: Context) -> str:
    rules = ctx.channels.rules_for(event.channel_id)
    if rules is None:
        head = (
            "*Threadline does not serve this channel*: messages here do not become tickets."
            " The commands below work in any channel."
        )
        return head + "\n\n" + COMMANDS_HELP
    return "\n".join([*channel_lines(rules), "", COMMANDS_HELP])


def _emoji(names: tuple[str, ...]) -> str:
    shown = [f":{n}:" for n in names]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def channel_lines(rules: ChannelRules) -> list[str]:
    """What Threadline does in a channel, one line per thing it understands there."""
    where = f"#{to_slack.escape(rules.name)}" if rules.name else "this channel"
    lines = [f"*What Threadline understands in {where}*"]
    opener = rules.open_emoji
    if rules.opens_on_message:
        lines.append(
            "• Every new message (not a reply in a thread) opens a Zendesk ticket; replies in its thread are added"
            " to it, and the agents' answers come back in the thread."
        )
    elif opener is not None:
        lines.append(
            f"• A message opens a Zendesk ticket when {describe_who(opener.who, 'its author')} marks it with"
            f" {_emoji(opener.names)}; then replies in its thread go to the ticket and the agents' answers come back."
        )
    if rules.emoji.urgent is not None:
        urgent = rules.emoji.urgent
        lines.append(
            f"• {_emoji(urgent.names)} on the opening message makes the ticket urgent ({describe_who(urgent.who)})."
        )
    resolve = rules.resolve_emoji
    words = ", ".join(f"`{to_slack.escape(w)}`" for w in rules.resolve_words[:5])
    lines.append(
        f"• {_emoji(resolve.names)} on the opening message solves the ticket ({describe_who(resolve.who)});"
        f" so does a reply of just {words} ({describe_who(rules.resolvers)})."
    )
    if rules.on_closed_reply == "followup":
        lines.append("• A reply after the ticket is closed opens a follow-up ticket.")
    else:
        lines.append("• A reply after the ticket is closed is not sent to Zendesk: start a new message instead.")
    hours = rules.business_hours
    days = ", ".join(d.capitalize() for d in hours.days)
    line = f"• Business hours: {days}, {hours.start:%H:%M} to {hours.end:%H:%M} ({to_slack.escape(rules.timezone)})."
    if rules.out_of_hours is not None:
        line += " A request made outside them hears when the team is back."
    lines.append(line)
    if rules.reminders is not None:
        reminded = (
            "who is on call is reminded" if rules.on_call is not None
            else "the fireman is reminded" if rules.rotation is not None
            else "the thread is reminded"
        )  # fmt: skip
        lines.append(
            f"• A request waiting on support for {rules.reminders.after_minutes:g} min: {reminded}"
            f" (at most {rules.reminders.max_reminders} times)."
        )
    if rules.on_call is not None:
        lines.append("• Who is on call comes from PagerDuty and is named in each new ticket's thread.")
    elif rules.rotation is not None:
        lines.append(
            f"• A {rules.rotation.period} rotating fireman is named in each new ticket's thread"
            " and announced here at each hand-over (`/support oncall`: who it is now)."
        )
    if rules.team and rules.team_posts == "ignore":
        lines.append("• The team's own top-level posts do not open tickets.")
    return lines

"""What a Slack message means: a new request opens a ticket, a reply becomes a comment (or
solves, reopens, follows up, shows the help), and an edit or a deletion is noted on the ticket.

Backfilled messages (history read from Slack by threadline-ops) go through the same rules with
the same ids as live ones (the conversation id, `msg:<ts>` seen keys, `create:` / `comment:`
command ids), so a thread backfilled twice, or partly seen live, gets each ticket and comment
once. What differs is only what history must not do: no out-of-hours notice, help text or denial
posted into an old thread, no reminder clock started by an old question, no reopening or
follow-up ticket from an old reply.
"""

from __future__ import annotations

import re

from msgspec.structs import replace

from threadline_common import from_slack
from threadline_common.channels import ChannelRules, is_direct_message
from threadline_common.models import Activity
from threadline_common.models.generated.commands_v4 import ZendeskAddComment, ZendeskCreateFollowup
from threadline_common.tickets import DONE_STATUSES
from threadline_common.times import slack_ts_time
from threadline_router.conversation import Conversation, external_id
from threadline_router.inbound import SlackDelete, SlackEdit, SlackMessage, conversation_of
from threadline_router.rules import answers, status_origin
from threadline_router.rules.activity import activity
from threadline_router.rules.commands import (
    NO_CAUSE,
    UNSTAMPED,
    file_ref,
    notice,
    person,
    solve,
    ticket_fields,
    ticket_note,
)
from threadline_router.rules.decision import Context, Decision, add_responder, ignore, mark_seen, role
from threadline_router.rules.opening import open_ticket, out_of_hours
from threadline_router.rules.team import post_opens_ticket
from threadline_router.rules.who import may_use

HELP_TEXT = (
    "I keep this thread and its Zendesk ticket in step:\n"
    "• every reply here becomes a comment on the ticket, and agents' public answers appear here;\n"
    "• `{resolve}` (or a :{reaction}: reaction on the first message) solves the ticket;\n"
    "{urgent}"
    "• a reply after the ticket is solved reopens it; after it is closed, {closed};\n"
    "• `help` shows this message."
)


def _normalise_word(text: str) -> str:
    return re.sub(r"[^\w\s-]", "", text).strip().lower()


def on_message(msg: SlackMessage, state: Conversation | None, ctx: Context) -> Decision:
    rules = ctx.channels.rules_for(msg.channel_id)
    if rules is None:
        return ignore(state, "channel not monitored")
    if msg.bot_id and (msg.bot_id == ctx.bot_id or msg.bot_id not in ctx.allowed_bot_ids):
        return ignore(state, "bot message")
    if msg.user is not None and msg.user == ctx.bot_user_id:
        return ignore(state, "our own message")
    if is_direct_message(msg.channel_id) and (msg.bot_id or not msg.user):
        # A private request is one person's: in their DM with the app only they speak for it.
        return ignore(state, "a bot's message in a direct message")
    seen_key = f"msg:{msg.ts}"
    if state is not None and seen_key in state.seen:
        return ignore(state, "already applied")
    author = msg.user or msg.bot_id
    cid = conversation_of(msg)
    if not msg.is_reply:
        if state is not None:
            return ignore(state, "conversation exists")
        if msg.backfill:
            return _backfill_open(msg, cid, author, rules, ctx)
        if not rules.opens_on_message:
            return ignore(state, "this channel opens tickets only on an emoji")
        # A direct message is always a request, a team member's too (nobody else is there).
        if not is_direct_message(msg.channel_id) and not post_opens_ticket(rules, msg.user, ctx.groups):
            return ignore(state, "a team member's post is not a request (team_posts: ignore)")
        decision = open_ticket(cid, msg.team_id, msg.channel_id, msg.ts, author, msg.text, msg.files, rules, ctx)
        decision = out_of_hours(decision, rules, slack_ts_time(msg.ts), f"ooh:{msg.channel_id}:{msg.ts}")
        return _with_answers(decision, rules, msg, author, ctx)

    if state is None:
        return ignore(state, "reply in a thread that has no ticket")
    if msg.backfill and state.status == "closed":
        return ignore(state, "the ticket is closed: history is not added to it")
    state = mark_seen(state, seen_key, ctx.now)
    if state.thread_gone_at is not None and not msg.backfill:
        state = replace(state, thread_gone_at=None)  # someone replied in it: the thread is there
    reply = activity(
        "reply",
        f"slack:{msg.channel_id}:{msg.ts}",
        state,
        occurred_at=slack_ts_time(msg.ts),
        channel_id=msg.channel_id,
        thread_ts=msg.root_ts,
        actor_id=author,
        role="bot" if msg.bot_id else role(state, author),
        source="slack",
        text=msg.text,
    )
    if msg.backfill:
        # Every reply of the history is a comment, in order; words like `help` or `resolve` are text.
        state = add_responder(state, author, bool(msg.bot_id))
        return Decision(state, [comment(state, msg, author, reopen=False)], [reply])
    word = _normalise_word(msg.text)
    if word == "help":
        return Decision(state, [notice(state, f"help:{msg.channel_id}:{msg.ts}", help_text(rules), "help")], [reply])

    if word in rules.resolve_words and state.status not in DONE_STATUSES:
        if not may_use(rules.resolvers, author, state.requester_slack_id, state.responders):
            text = f"<@{author}>, only the requester or the responders can solve this ticket."
            return Decision(state, [notice(state, f"deny:{msg.channel_id}:{msg.ts}", text)], [reply])
        state = status_origin.asked(state, "solved", "slack_command", author, ctx.now)
        return Decision(state, [solve(state, f"solve:{msg.channel_id}:{msg.ts}", author)], [reply])

    # Only a real reply makes someone a responder (a bare "resolve" does not).
    state = add_responder(state, author, bool(msg.bot_id))
    if author == state.requester_slack_id and state.waiting_since is None:
        state = replace(state, waiting_since=slack_ts_time(msg.ts), reminders_sent=0)

    if state.status == "closed":
        if rules.on_closed_reply == "notice":
            text = f"Ticket #{state.ticket_id} is closed. Please start a new thread for a new request."
            return Decision(state, [notice(state, f"closed:{msg.channel_id}:{msg.ts}", text)], [reply])
        return _follow_up(state, msg, author, rules, reply)

    # A requester's reply reopens a solved ticket, as an email reply would.
    reopening = comment(state, msg, author, reopen=state.status == "solved")
    if state.status == "solved":
        state = status_origin.asked(replace(state, status="open"), "open", "slack_reply", author, ctx.now)
    return _with_answers(Decision(state, [reopening], [reply]), rules, msg, author, ctx)


def _with_answers(
    decision: Decision, rules: ChannelRules, msg: SlackMessage, author: str | None, ctx: Context
) -> Decision:
    """The automatic answers the requester's message gets in its thread (rules.answers)."""
    if decision.state is None or rules.answers is None:
        return decision
    decision.state, offered = answers.offer(decision.state, rules, msg.text, msg.ts, author, ctx)
    decision.commands += offered
    return decision


def help_text(rules: ChannelRules) -> str:
    closed = "a reply opens a follow-up ticket" if rules.on_closed_reply == "followup" else "start a new thread"
    urgent = rules.emoji.urgent
    return HELP_TEXT.format(
        resolve=rules.resolve_words[0] if rules.resolve_words else "resolve",
        reaction=rules.resolve_emoji.names[0],
        urgent=f"• a :{urgent.names[0]}: reaction on the first message marks the ticket urgent;\n" if urgent else "",
        closed=closed,
    )


def comment(state: Conversation, msg: SlackMessage, author: str | None, reopen: bool) -> ZendeskAddComment:
    """A Slack reply as a public ticket comment; its id is the message's, whoever sent it."""
    return ZendeskAddComment(
        schema_version=1,
        command_id=f"comment:{msg.channel_id}:{msg.ts}",
        conversation_id=state.conversation_id,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        external_id=external_id(state),
        ticket_id=state.ticket_id,
        body=msg.text,
        public=True,
        author=person(author),
        slack_channel_id=msg.channel_id,
        slack_ts=msg.ts,
        files=[file_ref(f) for f in msg.files],
        reopen=reopen,
    )


def opened_by_emoji(rules: ChannelRules, msg: SlackMessage) -> bool:
    """Whether someone allowed to put the channel's open emoji on a backfilled message did."""
    action = rules.open_emoji
    if action is None:
        return False
    author = msg.user or msg.bot_id
    return any(
        r.get("name") in action.names and any(may_use(action.who, str(u), author) for u in r.get("users") or ())
        for r in msg.reactions
    )


def _backfill_open(msg: SlackMessage, cid: str, author: str | None, rules: ChannelRules, ctx: Context) -> Decision:
    by_itself = rules.opens_on_message and post_opens_ticket(rules, msg.user, ctx.groups)
    if not (by_itself or msg.explicit or opened_by_emoji(rules, msg)):
        return ignore(None, "this channel opens tickets only on an emoji, and nobody allowed put it on this message")
    decision = open_ticket(cid, msg.team_id, msg.channel_id, msg.ts, author, msg.text, msg.files, rules, ctx)
    assert decision.state is not None
    decision.state = replace(decision.state, waiting_since=None)
    return decision


def _follow_up(
    state: Conversation, msg: SlackMessage, author: str | None, rules: ChannelRules, reply: Activity
) -> Decision:
    previous = state.ticket_id
    assert previous is not None, "a closed conversation has its ticket"
    state = replace(
        state,
        generation=state.generation + 1,
        status="creating",
        previous_ticket_ids=[*state.previous_ticket_ids, previous],
        ticket_id=None,
        ticket_url=None,
    )
    assert state.thread_ts is not None, "a reply is in a thread"
    create = ZendeskCreateFollowup(
        schema_version=1,
        command_id=f"followup:{msg.channel_id}:{msg.ts}",
        conversation_id=state.conversation_id,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        external_id=external_id(state),
        subject=from_slack.subject(msg.text, None),
        body=msg.text,
        requester=person(author),
        slack_channel_id=msg.channel_id,
        slack_thread_ts=state.thread_ts,
        files=[file_ref(f) for f in msg.files],
        via_followup_source_id=previous,
        **ticket_fields(rules),
    )
    if is_direct_message(msg.channel_id):
        create.private = True
        create.schema_version = 3  # `private` is a v3 field: no longer the command as v1 wrote it
    return Decision(state, [create], [reply])


def on_edit_or_delete(event: SlackEdit | SlackDelete, state: Conversation | None, ctx: Context) -> Decision:
    """An edited or deleted message of a ticket's thread is noted on the ticket, once."""
    if state is None or ctx.channels.rules_for(event.channel_id) is None:
        return ignore(state, "not a ticket thread")
    if isinstance(event, SlackEdit):
        key, note = f"edit:{event.ts}:{event.edited_ts}", f"Edited in Slack by {event.user}:\n\n{event.text}"
        event_id = f"slack-edit:{event.channel_id}:{event.ts}:{event.edited_ts}"
        text: str | None = event.text
    else:
        key, note = f"delete:{event.ts}", f"A Slack message by {event.user} was deleted from the thread."
        event_id, text = f"slack-delete:{event.channel_id}:{event.ts}", None
    if key in state.seen or state.status == "closed":
        return ignore(state, "already applied, or the ticket is closed")
    state = mark_seen(state, key, ctx.now)
    command = ticket_note(state, state.ticket_id, f"{key}:{event.channel_id}", note, (event.channel_id, event.ts))
    noted = activity(
        "edit" if isinstance(event, SlackEdit) else "delete",
        event_id,
        state,
        occurred_at=ctx.now,
        channel_id=event.channel_id,
        actor_id=event.user,
        role=role(state, event.user),
        source="slack",
        text=text,
        public=False,
    )
    return Decision(state, [command], [noted])

"""What an event means for a conversation: the router's rules, as pure functions.

`route(event, state, ctx) -> Decision` holds every decision: which ticket to open, which reply
becomes which comment, when to solve, reopen or follow up, what the thread is told. The
agents around it only decode, call it, store `Decision.state` and send `Decision.commands`.

Every command carries an id derived from the event that caused it (the Slack message ts, the
Zendesk comment id, ...), so a redelivered event yields the same command and zendesk-sync,
which checks ids before it acts, performs each effect once.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from threadline_common import from_slack, to_slack
from threadline_common.business_hours import describe_opening, is_open
from threadline_common.channels import ChannelRules, ChannelsConfig, Who
from threadline_common.times import parse_time
from threadline_router.inbound import (
    Inbound,
    OperatorAction,
    ReminderTick,
    SlackDelete,
    SlackEdit,
    SlackJoin,
    SlackMessage,
    SlackReaction,
    SyncResult,
    ZendeskTicketEvent,
    conversation_of,
)

SEEN_LIMIT = 500
OPEN_STATUSES = ("new", "open", "pending", "hold")
DONE_STATUSES = ("solved", "closed")

HELP_TEXT = (
    "I keep this thread and its Zendesk ticket in step:\n"
    "• every reply here becomes a comment on the ticket, and agents' public answers appear here;\n"
    "• `{resolve}` (or a :{reaction}: reaction on the first message) solves the ticket;\n"
    "{urgent}"
    "• a reply after the ticket is solved reopens it; after it is closed, {closed};\n"
    "• `help` shows this message."
)
# Statuses in which the conversation waits on the support side (pending waits on the requester).
WAITING_STATUSES = ("new", "open", "hold")


@dataclass(frozen=True)
class Context:
    """Facts about the deployment the rules need; no I/O behind them."""

    channels: ChannelsConfig
    bot_user_id: str | None = None
    bot_id: str | None = None
    allowed_bot_ids: frozenset[str] = frozenset()
    zendesk_api_user_id: int | None = None
    now: str = ""


@dataclass
class Conversation:
    """One Slack thread and its ticket: the value of the links table (threadline.links v3)."""

    conversation_id: str
    team_id: str
    channel_id: str
    thread_ts: str | None
    origin: str  # slack | email
    status: str  # creating | new | open | pending | hold | solved | closed | failed
    created_at: str
    updated_at: str
    requester_slack_id: str | None = None
    ticket_id: int | None = None
    ticket_url: str | None = None
    generation: int = 1
    previous_ticket_ids: list[int] = field(default_factory=list)
    responders: list[str] = field(default_factory=list)
    moved_to: str | None = None
    # Agent comments that arrived before the Slack thread existed (email tickets).
    pending_comments: list[dict[str, Any]] = field(default_factory=list)
    # Ids of events already applied, newest last: redeliveries are recognised and skipped.
    seen: list[str] = field(default_factory=list)
    # Since when it waits on the support side, and the reminders posted since (links v2).
    waiting_since: str | None = None
    reminders_sent: int = 0
    # When Slack answered that the thread (or its channel) is gone (links v3): nothing is posted there.
    thread_gone_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"schema_version": 3, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Conversation:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def external_id(self) -> str:
        return self.conversation_id if self.generation == 1 else f"{self.conversation_id}#{self.generation}"


@dataclass(frozen=True)
class Command:
    """An effect for zendesk-sync (threadline.commands v1)."""

    type: str
    command_id: str
    conversation_id: str
    payload: dict[str, Any]
    # The commands contract version of the variant: v1 readers still get v1 records.
    version: int = 1

    def to_json(self, issued_at: str, cause: dict[str, str]) -> dict[str, Any]:
        """`cause`: the topic and event id of the record that led to this command."""
        return {
            "schema_version": self.version,
            "type": self.type,
            "command_id": self.command_id,
            "conversation_id": self.conversation_id,
            "issued_at": issued_at,
            "cause": cause,
            **self.payload,
        }


@dataclass(frozen=True)
class Activity:
    """A normalised activity record for the reporter (threadline.activity v1)."""

    event_id: str
    type: str
    conversation_id: str
    occurred_at: str
    channel_id: str
    thread_ts: str | None
    ticket_id: int | None
    actor_id: str | None
    actor_role: str
    source: str
    text: str | None = None
    public: bool = True
    status: str | None = None
    previous_status: str | None = None
    reaction: str | None = None


@dataclass
class Decision:
    state: Conversation | None
    commands: list[Command] = field(default_factory=list)
    activity: list[Activity] = field(default_factory=list)
    reason: str = ""  # why nothing happened, for debug logs
    # The conversation's row is deleted (a tombstone in the changelog): an operator unlinked it.
    unlink: bool = False


def ignore(state: Conversation | None, reason: str) -> Decision:
    return Decision(state=state, reason=reason)


def _mark_seen(state: Conversation, key: str, now: str) -> Conversation:
    seen = [*state.seen, key][-SEEN_LIMIT:]
    return replace(state, seen=seen, updated_at=now or state.updated_at)


def _slack_time(ts: str) -> str:
    """Slack ts (epoch seconds) -> RFC 3339, so that activity times do not depend on the clock."""
    from datetime import UTC, datetime

    try:
        return datetime.fromtimestamp(float(ts), tz=UTC).isoformat().replace("+00:00", "Z")
    except ValueError:
        return ts


def _normalise_word(text: str) -> str:
    return re.sub(r"[^\w\s-]", "", text).strip().lower()


def may_use(who: Who, user: str | None, requester: str | None, responders: list[str] | tuple[str, ...] = ()) -> bool:
    """Whether `user` is among `who` (a channel's setting) for a message by `requester`."""
    if user is None:
        return False
    if who == "anyone":
        return True
    if who == "requester":
        return user == requester
    if who == "requester_and_responders":
        return user == requester or user in responders
    return user in who


def _may_resolve(rules: ChannelRules, state: Conversation, user: str | None) -> bool:
    return may_use(rules.resolvers, user, state.requester_slack_id, state.responders)


def _role(state: Conversation | None, user: str | None) -> str:
    if state is not None and user is not None and user == state.requester_slack_id:
        return "requester"
    return "responder"


def _notice(state: Conversation, command_id: str, text: str, purpose: str = "notice") -> Command:
    return Command(
        type="slack.post_message",
        command_id=command_id,
        conversation_id=state.conversation_id,
        payload={
            "channel_id": state.channel_id,
            "thread_ts": state.thread_ts,
            "text": text,
            "purpose": purpose,
        },
    )


def _ticket_fields(rules: ChannelRules) -> dict[str, Any]:
    z = rules.zendesk
    return {
        "group_id": z.group_id,
        "brand_id": z.brand_id,
        "ticket_form_id": z.ticket_form_id,
        "tags": list(z.tags),
        "priority": z.priority,
        "custom_fields": [{"id": k, "value": v} for k, v in z.custom_fields.items()],
    }


# Commands that say something in the conversation's Slack thread.
THREAD_POSTS = frozenset({"slack.post_message", "slack.add_reaction", "slack.post_ephemeral", "oncall.notify"})
# Commands whose failure the thread is not told about: a notice about a failed notice would
# fail the same way (the loop that once filled a broker's disk), and a lost reaction says nothing.
UNTOLD_FAILURES = frozenset({"slack.post_message", "slack.add_reaction", "slack.post_ephemeral"})


def route(event: Inbound, state: Conversation | None, ctx: Context) -> Decision:
    decision = _route(event, state, ctx)
    after = decision.state
    if after is not None and after.thread_gone_at is not None:
        # The thread is gone: what would be said there is not said (the ticket was told once).
        kept = [c for c in decision.commands if c.type not in THREAD_POSTS]
        if len(kept) != len(decision.commands):
            decision = replace(decision, commands=kept, reason=decision.reason or "the Slack thread is gone")
    return decision


def _route(event: Inbound, state: Conversation | None, ctx: Context) -> Decision:
    match event:
        case SlackMessage():
            return _on_message(event, state, ctx)
        case SlackEdit() | SlackDelete():
            return _on_edit_or_delete(event, state, ctx)
        case SlackReaction():
            return _on_reaction(event, state, ctx)
        case SlackJoin():
            return _on_join(event, state, ctx)
        case ZendeskTicketEvent():
            return _on_zendesk(event, state, ctx)
        case SyncResult():
            return _on_result(event, state, ctx)
        case ReminderTick():
            return _on_tick(event, state, ctx)
        case OperatorAction():
            return _on_operator(event, state, ctx)
    raise TypeError(f"not an inbound event: {event!r}")


# --- Slack -> Zendesk ---------------------------------------------------------------------------


def _on_message(msg: SlackMessage, state: Conversation | None, ctx: Context) -> Decision:
    rules = ctx.channels.rules_for(msg.channel_id)
    if rules is None:
        return ignore(state, "channel not monitored")
    if msg.bot_id and (msg.bot_id == ctx.bot_id or msg.bot_id not in ctx.allowed_bot_ids):
        return ignore(state, "bot message")
    if msg.user is not None and msg.user == ctx.bot_user_id:
        return ignore(state, "our own message")
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
        decision = _open_ticket(cid, msg.team_id, msg.channel_id, msg.ts, author, msg.text, msg.files, rules, ctx)
        return _out_of_hours(decision, rules, _slack_time(msg.ts), f"ooh:{msg.channel_id}:{msg.ts}")

    if state is None:
        return ignore(state, "reply in a thread that has no ticket")
    if msg.backfill and state.status == "closed":
        return ignore(state, "the ticket is closed: history is not added to it")
    state = _mark_seen(state, seen_key, ctx.now)
    if state.thread_gone_at is not None and not msg.backfill:
        state = replace(state, thread_gone_at=None)  # someone replied in it: the thread is there
    activity = Activity(
        event_id=f"slack:{msg.channel_id}:{msg.ts}",
        type="reply",
        conversation_id=cid,
        occurred_at=_slack_time(msg.ts),
        channel_id=msg.channel_id,
        thread_ts=msg.root_ts,
        ticket_id=state.ticket_id,
        actor_id=author,
        actor_role="bot" if msg.bot_id else _role(state, author),
        source="slack",
        text=msg.text,
    )
    if msg.backfill:
        return _backfill_reply(msg, state, author, activity)
    word = _normalise_word(msg.text)
    if word == "help":
        followup = rules.on_closed_reply == "followup"
        closed = "a reply opens a follow-up ticket" if followup else "start a new thread"
        urgent = rules.emoji.urgent
        text = HELP_TEXT.format(
            resolve=rules.resolve_words[0] if rules.resolve_words else "resolve",
            reaction=rules.resolve_emoji.names[0],
            urgent=f"• a :{urgent.names[0]}: reaction on the first message marks the ticket urgent;\n"
            if urgent
            else "",
            closed=closed,
        )
        return Decision(state, [_notice(state, f"help:{msg.channel_id}:{msg.ts}", text, "help")], [activity])

    if word in rules.resolve_words and state.status not in DONE_STATUSES:
        if not _may_resolve(rules, state, author):
            text = f"<@{author}>, only the requester or the responders can solve this ticket."
            return Decision(state, [_notice(state, f"deny:{msg.channel_id}:{msg.ts}", text)], [activity])
        return Decision(state, [_solve(state, f"solve:{msg.channel_id}:{msg.ts}", author)], [activity])

    # Only a real reply makes someone a responder (a bare "resolve" does not).
    if author and author != state.requester_slack_id and author not in state.responders and not msg.bot_id:
        state = replace(state, responders=[*state.responders, author])

    if author == state.requester_slack_id and state.waiting_since is None:
        state = replace(state, waiting_since=_slack_time(msg.ts), reminders_sent=0)

    if state.status == "closed":
        if rules.on_closed_reply == "notice":
            text = f"Ticket #{state.ticket_id} is closed. Please start a new thread for a new request."
            return Decision(state, [_notice(state, f"closed:{msg.channel_id}:{msg.ts}", text)], [activity])
        return _follow_up(state, msg, author, rules, ctx, activity)

    # A requester's reply reopens a solved ticket, as an email reply would.
    comment = _comment(state, msg, author, reopen=state.status == "solved")
    if state.status == "solved":
        state = replace(state, status="open")
    return Decision(state, [comment], [activity])


def _comment(state: Conversation, msg: SlackMessage, author: str | None, reopen: bool) -> Command:
    """A Slack reply as a public ticket comment; its id is the message's, whoever sent it."""
    return Command(
        type="zendesk.add_comment",
        command_id=f"comment:{msg.channel_id}:{msg.ts}",
        conversation_id=state.conversation_id,
        payload={
            "external_id": state.external_id,
            "ticket_id": state.ticket_id,
            "body": msg.text,
            "public": True,
            "author": {"slack_user_id": author},
            "slack_channel_id": msg.channel_id,
            "slack_ts": msg.ts,
            "files": [_file_ref(f) for f in msg.files],
            "reopen": reopen,
        },
    )


# --- backfill: a thread's history read from Slack by threadline-ops ------------------------------
#
# Backfilled messages go through the rules above with the same ids as live ones (the conversation
# id, `msg:<ts>` seen keys, `create:` / `comment:` command ids), so a thread backfilled twice, or
# partly seen live, gets each ticket and comment once. What differs is only what history must not
# do: no out-of-hours notice, help text or denial posted into an old thread, no reminder clock
# started by an old question, no reopening or follow-up ticket from an old reply.


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
    if not (rules.opens_on_message or msg.explicit or opened_by_emoji(rules, msg)):
        return ignore(None, "this channel opens tickets only on an emoji, and nobody allowed put it on this message")
    decision = _open_ticket(cid, msg.team_id, msg.channel_id, msg.ts, author, msg.text, msg.files, rules, ctx)
    assert decision.state is not None
    decision.state = replace(decision.state, waiting_since=None)
    return decision


def _backfill_reply(msg: SlackMessage, state: Conversation, author: str | None, activity: Activity) -> Decision:
    """Every reply of the history is a comment, in order; words like `help` or `resolve` are text."""
    if author and author != state.requester_slack_id and author not in state.responders and not msg.bot_id:
        state = replace(state, responders=[*state.responders, author])
    return Decision(state, [_comment(state, msg, author, reopen=False)], [activity])


def _file_ref(f: dict[str, Any]) -> dict[str, Any]:
    return {k: f.get(k) for k in ("id", "name", "mimetype", "size", "url_private") if f.get(k) is not None}


def _open_ticket(
    cid: str,
    team_id: str,
    channel_id: str,
    ts: str,
    author: str | None,
    text: str,
    files: tuple[dict[str, Any], ...],
    rules: ChannelRules,
    ctx: Context,
) -> Decision:
    state = Conversation(
        conversation_id=cid,
        team_id=team_id,
        channel_id=channel_id,
        thread_ts=ts,
        origin="slack",
        status="creating",
        created_at=_slack_time(ts),
        updated_at=ctx.now or _slack_time(ts),
        requester_slack_id=author,
        seen=[f"msg:{ts}"],
        waiting_since=_slack_time(ts) if author else ctx.now or _slack_time(ts),
    )
    create = Command(
        type="zendesk.create_ticket",
        command_id=f"create:{cid}",
        conversation_id=cid,
        payload={
            "external_id": state.external_id,
            "subject": subject_from(text),
            "body": text,
            "requester": {"slack_user_id": author},
            "slack_channel_id": channel_id,
            "slack_thread_ts": ts,
            "files": [_file_ref(f) for f in files],
            **_ticket_fields(rules),
        },
    )
    activity = Activity(
        event_id=f"slack:{channel_id}:{ts}",
        type="message",
        conversation_id=cid,
        occurred_at=_slack_time(ts),
        channel_id=channel_id,
        thread_ts=ts,
        ticket_id=None,
        actor_id=author,
        actor_role="requester",
        source="slack",
        text=text,
    )
    return Decision(state, [create], [activity])


def _follow_up(
    state: Conversation,
    msg: SlackMessage,
    author: str | None,
    rules: ChannelRules,
    ctx: Context,
    activity: Activity,
) -> Decision:
    previous = state.ticket_id
    state = replace(
        state,
        generation=state.generation + 1,
        status="creating",
        previous_ticket_ids=[*state.previous_ticket_ids, *([previous] if previous else [])],
        ticket_id=None,
        ticket_url=None,
    )
    create = Command(
        type="zendesk.create_followup",
        command_id=f"followup:{msg.channel_id}:{msg.ts}",
        conversation_id=state.conversation_id,
        payload={
            "external_id": state.external_id,
            "subject": subject_from(msg.text),
            "body": msg.text,
            "requester": {"slack_user_id": author},
            "slack_channel_id": msg.channel_id,
            "slack_thread_ts": state.thread_ts,
            "files": [_file_ref(f) for f in msg.files],
            "via_followup_source_id": previous,
            **_ticket_fields(rules),
        },
    )
    return Decision(state, [create], [activity])


def _solve(state: Conversation, command_id: str, by: str | None) -> Command:
    return Command(
        type="zendesk.set_status",
        command_id=command_id,
        conversation_id=state.conversation_id,
        payload={
            "external_id": state.external_id,
            "ticket_id": state.ticket_id,
            "status": "solved",
            "comment": f"Solved from Slack by {by}." if by else "Solved from Slack.",
            "author": {"slack_user_id": by},
        },
    )


def _on_edit_or_delete(event: SlackEdit | SlackDelete, state: Conversation | None, ctx: Context) -> Decision:
    if state is None or ctx.channels.rules_for(event.channel_id) is None:
        return ignore(state, "not a ticket thread")
    if isinstance(event, SlackEdit):
        key, note = f"edit:{event.ts}:{event.edited_ts}", f"Edited in Slack by {event.user}:\n\n{event.text}"
        kind, text = "edit", event.text
    else:
        key, note = f"delete:{event.ts}", f"A Slack message by {event.user} was deleted from the thread."
        kind, text = "delete", None
    if key in state.seen or state.status == "closed":
        return ignore(state, "already applied, or the ticket is closed")
    state = _mark_seen(state, key, ctx.now)
    command = Command(
        type="zendesk.add_comment",
        command_id=f"{key}:{event.channel_id}",
        conversation_id=state.conversation_id,
        payload={
            "external_id": state.external_id,
            "ticket_id": state.ticket_id,
            "body": note,
            "public": False,
            "author": {"slack_user_id": None},
            "slack_channel_id": event.channel_id,
            "slack_ts": event.ts,
            "files": [],
            "reopen": False,
        },
    )
    activity = Activity(
        event_id=f"slack-{kind}:{event.channel_id}:{event.ts}"
        + (f":{event.edited_ts}" if isinstance(event, SlackEdit) else ""),
        type=kind,
        conversation_id=state.conversation_id,
        occurred_at=ctx.now,
        channel_id=event.channel_id,
        thread_ts=state.thread_ts,
        ticket_id=state.ticket_id,
        actor_id=event.user,
        actor_role=_role(state, event.user),
        source="slack",
        text=text,
        public=False,
    )
    return Decision(state, [command], [activity])


def _on_reaction(event: SlackReaction, state: Conversation | None, ctx: Context) -> Decision:
    rules = ctx.channels.rules_for(event.channel_id)
    if rules is None:
        return ignore(state, "channel not monitored")
    if event.user == ctx.bot_user_id:
        return ignore(state, "our own reaction")
    if state is None:
        return _open_on_reaction(event, rules, ctx)
    if event.item_ts != state.thread_ts:
        return ignore(state, "reaction outside an opening message")
    key = f"reaction:{event.reaction}:{event.user}:{event.added}:{event.event_id}"
    if key in state.seen:
        return ignore(state, "already applied")
    state = _mark_seen(state, key, ctx.now)
    activity = Activity(
        event_id=f"slack-reaction:{event.event_id or key}",
        type="reaction",
        conversation_id=state.conversation_id,
        occurred_at=ctx.now,
        channel_id=event.channel_id,
        thread_ts=state.thread_ts,
        ticket_id=state.ticket_id,
        actor_id=event.user,
        actor_role=_role(state, event.user),
        source="slack",
        reaction=event.reaction,
    )
    if not event.added or state.status in DONE_STATUSES:
        return Decision(state, [], [activity])
    urgent, resolve = rules.emoji.urgent, rules.resolve_emoji
    if urgent is not None and event.reaction in urgent.names:
        if not may_use(urgent.who, event.user, state.requester_slack_id, state.responders):
            deny = _deny_reaction(state.conversation_id, event, urgent.who, "mark this ticket urgent")
            return Decision(state, [deny], [activity], reason="not allowed to mark urgent")
        return Decision(state, [_urgent(state, event)], [activity])
    if event.reaction not in resolve.names:
        return Decision(state, [], [activity])
    if not may_use(resolve.who, event.user, state.requester_slack_id, state.responders):
        deny = _deny_reaction(state.conversation_id, event, resolve.who, "solve this ticket")
        return Decision(state, [deny], [activity], reason="not allowed to resolve")
    solve = _solve(state, f"solve-reaction:{event.channel_id}:{event.item_ts}", event.user)
    return Decision(state, [solve], [activity])


def _open_on_reaction(event: SlackReaction, rules: ChannelRules, ctx: Context) -> Decision:
    """The channel's open emoji on a message that is no ticket yet (auto_open: false channels)."""
    action = rules.open_emoji
    if not event.added or action is None or event.reaction not in action.names:
        return ignore(None, "reaction on a message that is no ticket")
    if not may_use(action.who, event.user, event.item_user):
        deny = _deny_reaction(conversation_of(event), event, action.who, "open a ticket", requester="message's author")
        return Decision(None, [deny], reason=f"{event.user} may not open tickets with :{event.reaction}:")
    # The reaction names a message; zendesk-sync reads its text and author from Slack.
    cid = conversation_of(event)
    decision = _open_ticket(cid, event.team_id, event.channel_id, event.item_ts, None, "", (), rules, ctx)
    for command in decision.commands:
        command.payload["fetch_message"] = True
        command.payload["opened_by"] = event.user
    if event.item_user and decision.state is not None:
        decision.state = replace(decision.state, requester_slack_id=event.item_user)
    return _out_of_hours(decision, rules, ctx.now, f"ooh:{event.channel_id}:{event.item_ts}")


def describe_who(who: Who, requester: str = "requester") -> str:
    """Who a channel's `who` setting lets act, as a sentence part. `requester`: what the asker
    is called (the message's author, when no ticket is open yet)."""
    if who == "anyone":
        return "anyone"
    if who == "requester":
        return f"only the {requester}"
    if who == "requester_and_responders":
        return f"only the {requester} or the people who replied"
    people = [to_slack.mention(u) if to_slack.is_user_id(u) else to_slack.escape(u) for u in who]
    if not people:
        return "nobody"
    listed = people[0] if len(people) == 1 else ", ".join(people[:-1]) + " or " + people[-1]
    return f"only {listed}"


def _deny_reaction(
    conversation_id: str, event: SlackReaction, who: Who, what: str, requester: str = "requester"
) -> Command:
    """Someone not allowed used an action emoji: only they hear, in the thread, who may.
    Mentions here are the channel setting's Slack ids, never outside text."""
    text = f"Your :{event.reaction}: did not {what}: in this channel {describe_who(who, requester)} can {what} with it."
    return Command(
        type="slack.post_ephemeral",
        command_id=f"deny-reaction:{event.channel_id}:{event.item_ts}:{event.reaction}:{event.user}:{event.event_id}",
        conversation_id=conversation_id,
        payload={
            "channel_id": event.channel_id,
            "user": event.user,
            "thread_ts": event.item_ts,
            "text": text,
            "purpose": "notice",
        },
        version=2,
    )


def _urgent(state: Conversation, event: SlackReaction) -> Command:
    return Command(
        type="zendesk.set_priority",
        command_id=f"urgent:{event.channel_id}:{event.item_ts}",
        conversation_id=state.conversation_id,
        payload={
            "external_id": state.external_id,
            "ticket_id": state.ticket_id,
            "priority": "urgent",
            "comment": f"Marked urgent from Slack by {event.user} (:{event.reaction}:).",
            "author": {"slack_user_id": event.user},
            "slack_channel_id": state.channel_id,
            "slack_thread_ts": state.thread_ts,
        },
        version=2,
    )


def _out_of_hours(decision: Decision, rules: ChannelRules, at: str, command_id: str) -> Decision:
    """A new request outside the channel's business hours hears when the team is back."""
    state = decision.state
    if rules.out_of_hours is None or state is None or not at:
        return decision
    when = parse_time(at)
    if is_open(rules, when):
        return decision
    text = rules.out_of_hours.message.format(opens=describe_opening(rules, when))
    decision.commands.append(_notice(state, command_id, text))
    return decision


def _on_join(event: SlackJoin, state: Conversation | None, ctx: Context) -> Decision:
    rules = ctx.channels.rules_for(event.channel_id)
    if rules is None or not rules.welcome_message:
        return ignore(state, "no welcome for this channel")
    if event.user == ctx.bot_user_id:
        return ignore(state, "we joined")
    text = rules.welcome_message.format(user=f"<@{event.user}>", channel=f"<#{event.channel_id}>")
    welcome = Command(
        type="slack.post_ephemeral",
        command_id=f"welcome:{event.channel_id}:{event.user}:{event.event_id}",
        conversation_id=conversation_of(event),
        payload={
            "channel_id": event.channel_id,
            "user": event.user,
            "thread_ts": None,
            "text": text,
            "purpose": "welcome",
        },
        version=2,
    )
    return Decision(state, [welcome])


# --- on call and reminders ----------------------------------------------------------------------


def _on_call(state: Conversation, rules: ChannelRules, command_id: str, reason: str, waited: int | None) -> Command:
    on_call = rules.on_call
    assert on_call is not None and state.thread_ts is not None
    return Command(
        type="oncall.notify",
        command_id=command_id,
        conversation_id=state.conversation_id,
        payload={
            "channel_id": state.channel_id,
            "thread_ts": state.thread_ts,
            "external_id": state.external_id,
            "ticket_id": state.ticket_id,
            "escalation_policy_id": on_call.escalation_policy_id,
            "schedule_id": on_call.schedule_id,
            "assign": on_call.assign and reason == "ticket_opened",
            "reason": reason,
            "waited_minutes": waited,
        },
        version=2,
    )


def reminder_due(state: Conversation, rules: ChannelRules | None, now: str) -> bool:
    """Whether the conversation has waited on the support side past its next reminder."""
    if rules is None or rules.reminders is None or state.waiting_since is None:
        return False
    if state.thread_ts is None or state.moved_to is not None or state.status not in WAITING_STATUSES:
        return False
    if state.thread_gone_at is not None:
        return False
    if state.reminders_sent >= rules.reminders.max_reminders:
        return False
    waited = (parse_time(now) - parse_time(state.waiting_since)).total_seconds() / 60
    return waited >= rules.reminders.after_minutes * (state.reminders_sent + 1)


def _on_tick(tick: ReminderTick, state: Conversation | None, ctx: Context) -> Decision:
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
        command = _on_call(state, rules, command_id, "reminder", waited)
    else:
        text = f":hourglass: This request has waited {_duration(waited)} for an answer from support."
        command = _notice(state, command_id, text, "notice")
    return Decision(state, [command])


def _duration(minutes: int) -> str:
    if minutes < 1:
        return "under a minute"
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d}"


# --- Zendesk -> Slack ---------------------------------------------------------------------------


def _on_zendesk(event: ZendeskTicketEvent, state: Conversation | None, ctx: Context) -> Decision:
    seen_key = f"zd:{event.event_id}" if event.event_id else None
    if state is not None and seen_key and seen_key in state.seen:
        return ignore(state, "already applied")
    if state is None:
        if event.kind == "created" and event.external_id is None:
            return _email_ticket(event, ctx)
        return ignore(state, "ticket not linked to a thread")
    if event.ticket_id != state.ticket_id and event.ticket_id in state.previous_ticket_ids:
        return ignore(state, "event of an earlier ticket of this thread")
    if state.ticket_id is None and event.external_id == state.external_id:
        state = replace(state, ticket_id=event.ticket_id)
    if seen_key:
        state = _mark_seen(state, seen_key, ctx.now)

    if event.kind == "created":
        if event.status and state.status == "creating":
            state = replace(state, status=event.status)
        return Decision(state)
    if event.kind == "status":
        return _on_status(event, state, ctx)
    return _on_comment(event, state, ctx)


def _on_status(event: ZendeskTicketEvent, state: Conversation, ctx: Context) -> Decision:
    current, previous = event.status or "", event.previous_status or state.status
    state = replace(state, status=current or state.status)
    if state.status not in WAITING_STATUSES:
        state = replace(state, waiting_since=None, reminders_sent=0)
    elif state.waiting_since is None and previous not in WAITING_STATUSES:
        state = replace(state, waiting_since=ctx.now or None, reminders_sent=0)  # back with support
    activity = Activity(
        event_id=f"zd-status:{event.ticket_id}:{event.event_id}",
        type="status_change",
        conversation_id=state.conversation_id,
        occurred_at=event.occurred_at or ctx.now,
        channel_id=state.channel_id,
        thread_ts=state.thread_ts,
        ticket_id=event.ticket_id,
        actor_id=None,
        actor_role="system",
        source="zendesk",
        status=current,
        previous_status=previous,
    )
    text = None
    if current == "solved" and previous != "solved":
        text = f":white_check_mark: Ticket #{event.ticket_id} is solved. Reply here if you still need help."
    elif current == "closed" and previous != "closed":
        text = f":lock: Ticket #{event.ticket_id} is closed. A reply here opens a follow-up ticket."
    elif current in OPEN_STATUSES and previous in DONE_STATUSES:
        text = f":arrows_counterclockwise: Ticket #{event.ticket_id} is open again."
    if text is None or state.thread_ts is None:
        return Decision(state, [], [activity])
    return Decision(state, [_notice(state, f"status:{event.ticket_id}:{event.event_id}", text)], [activity])


def _on_comment(event: ZendeskTicketEvent, state: Conversation, ctx: Context) -> Decision:
    public = event.comment_public
    activity = Activity(
        event_id=f"zd-comment:{event.comment_id}",
        type="comment" if public else "internal_note",
        conversation_id=state.conversation_id,
        occurred_at=event.occurred_at or ctx.now,
        channel_id=state.channel_id,
        thread_ts=state.thread_ts,
        ticket_id=event.ticket_id,
        actor_id=str(event.author_id) if event.author_id else None,
        actor_role="agent" if event.author_is_staff else "requester",
        source="zendesk",
        text=event.comment_body if public else None,
        public=public,
    )
    # Internal notes never reach Slack; nor do comments Threadline itself wrote.
    if not public:
        return Decision(state, [], [activity], reason="internal note")
    if ctx.zendesk_api_user_id is not None and event.author_id == ctx.zendesk_api_user_id:
        return Decision(state, [], [activity], reason="our own comment")
    if event.author_is_staff:
        state = replace(state, waiting_since=None, reminders_sent=0)  # support answered
    post = {
        "ticket_id": event.ticket_id,
        "comment_id": event.comment_id,
        "author": {"zendesk_user_id": event.author_id, "name": event.author_name},
        "body": event.comment_body,
        "html_body": event.comment_html,
    }
    if state.thread_ts is None:
        state = replace(state, pending_comments=[*state.pending_comments, post])
        return Decision(state, [], [activity], reason="thread not open yet")
    return Decision(state, [_agent_comment(state, post)], [activity])


def _agent_comment(state: Conversation, post: dict[str, Any]) -> Command:
    """An agent's public comment, posted in the thread under the agent's name. The metadata
    names the comment: zendesk-sync checks it is not one Threadline wrote, and finds the post
    again after a crash instead of posting twice. The comment's HTML (or Markdown) becomes
    Slack mrkdwn with every character of its text escaped (to_slack): it can ping nobody."""
    author = post["author"]
    name = to_slack.bold(author["name"] or "Support agent")
    text = to_slack.zendesk_to_mrkdwn(post.get("html_body"), post.get("body"))
    return Command(
        type="slack.post_message",
        command_id=f"zd-comment:{post['comment_id']}",
        conversation_id=state.conversation_id,
        payload={
            "channel_id": state.channel_id,
            "thread_ts": state.thread_ts,
            "text": f"{name} (Zendesk): {text}",
            "purpose": "agent_comment",
            "metadata": {
                "event_type": "threadline_agent_comment",
                "event_payload": {
                    "ticket_id": post["ticket_id"],
                    "comment_id": post["comment_id"],
                    "author_name": author["name"],
                    "author_zendesk_id": author["zendesk_user_id"],
                },
            },
        },
    )


# The REST API says "email"; event webhooks say "mail" for the same ticket.
EMAIL_VIA_CHANNELS = frozenset({"email", "mail"})


def _email_ticket(event: ZendeskTicketEvent, ctx: Context) -> Decision:
    if event.via_channel not in EMAIL_VIA_CHANNELS or event.group_id is None:
        return ignore(None, "ticket not from email")
    channel = ctx.channels.email_groups.get(event.group_id)
    if channel is None:
        return ignore(None, "email ticket in a group no channel watches")
    cid = f"zd:{event.ticket_id}"
    state = Conversation(
        conversation_id=cid,
        team_id="",
        channel_id=channel,
        thread_ts=None,
        origin="email",
        status=event.status or "new",
        created_at=ctx.now,
        updated_at=ctx.now,
        ticket_id=event.ticket_id,
        seen=[f"zd:{event.event_id}"],
    )
    command = Command(
        type="slack.open_thread",
        command_id=f"open-thread:{event.ticket_id}",
        conversation_id=cid,
        payload={
            "channel_id": channel,
            "ticket_id": event.ticket_id,
            "subject": event.subject,
            "body": event.description,
            "requester_zendesk_id": event.requester_id,
        },
    )
    activity = Activity(
        event_id=f"zd-created:{event.ticket_id}",
        type="ticket_created",
        conversation_id=cid,
        occurred_at=event.occurred_at or ctx.now,
        channel_id=channel,
        thread_ts=None,
        ticket_id=event.ticket_id,
        actor_id=str(event.requester_id) if event.requester_id else None,
        actor_role="requester",
        source="email",
        text=event.description,
        status=event.status,
    )
    return Decision(state, [command], [activity])


# --- zendesk-sync results -----------------------------------------------------------------------


def _on_result(result: SyncResult, state: Conversation | None, ctx: Context) -> Decision:
    if result.kind == "ticket_created":
        if state is None:
            return ignore(state, "result for an unknown conversation")
        state = replace(
            state,
            ticket_id=result.ticket_id,
            ticket_url=result.ticket_url,
            status="new" if state.status == "creating" else state.status,
            updated_at=ctx.now or state.updated_at,
        )
        activity = Activity(
            event_id=f"zd-created:{result.ticket_id}",
            type="ticket_created",
            conversation_id=state.conversation_id,
            occurred_at=ctx.now,
            channel_id=state.channel_id,
            thread_ts=state.thread_ts,
            ticket_id=result.ticket_id,
            actor_id=state.requester_slack_id,
            actor_role="requester",
            source="slack",
            status="new",
        )
        rules = ctx.channels.rules_for(state.channel_id)
        if rules is None or rules.on_call is None or state.thread_ts is None or result.ticket_id is None:
            return Decision(state, [], [activity])
        on_call = _on_call(state, rules, f"oncall:{result.ticket_id}", "ticket_opened", None)
        return Decision(state, [on_call], [activity])
    if result.kind == "thread_opened":
        if result.moved_from is None:
            # The email conversation now lives under its thread too: Slack replies find it.
            if state is not None:
                return ignore(state, "thread already linked")
            linked = Conversation(
                conversation_id=result.conversation_id,
                team_id=result.team_id or "",
                channel_id=result.channel_id or "",
                thread_ts=result.thread_ts,
                origin="email",
                status="new",
                created_at=ctx.now,
                updated_at=ctx.now,
                ticket_id=result.ticket_id,
                ticket_url=result.ticket_url,
                waiting_since=ctx.now or None,
            )
            rules = ctx.channels.rules_for(linked.channel_id)
            if rules is None or rules.on_call is None or linked.thread_ts is None or result.ticket_id is None:
                return Decision(linked)
            return Decision(linked, [_on_call(linked, rules, f"oncall:{result.ticket_id}", "ticket_opened", None)])
        if state is None:
            return ignore(state, "result for an unknown conversation")
        pending = state.pending_comments
        state = replace(
            state,
            thread_ts=result.thread_ts,
            team_id=result.team_id or state.team_id,
            moved_to=result.thread_conversation_id,
            pending_comments=[],
        )
        return Decision(state, [_agent_comment(state, post) for post in pending])
    if result.kind == "failed":
        return _on_failed(result, state, ctx)
    if result.kind == "thread_gone":
        return _on_thread_gone(result, state, ctx)
    return ignore(state, f"unknown result {result.kind}")


def _on_failed(result: SyncResult, state: Conversation | None, ctx: Context) -> Decision:
    """A command failed for good: the thread hears it once per command, and never about a notice."""
    if state is None or state.thread_ts is None:
        return ignore(state, "failure outside a thread")
    # v1 results do not name the command's type; a notice's own id starts with `failed:`.
    if result.command_type in UNTOLD_FAILURES or result.command_id.startswith("failed:"):
        return ignore(state, "a failed Slack post is not answered with another post")
    key = f"failed:{result.command_id}"
    if key in state.seen:
        return ignore(state, "the thread was told already")
    state = _mark_seen(state, key, ctx.now)
    if state.status == "creating" and result.command_type in ("zendesk.create_ticket", "zendesk.create_followup"):
        state = replace(state, status="failed")
    reason = to_slack.escape(result.reason or "no reason given")  # Zendesk's or Slack's words
    text = f":warning: Threadline could not update Zendesk for this thread: {reason}"
    return Decision(state, [_notice(state, key, text)])


def _on_thread_gone(result: SyncResult, state: Conversation | None, ctx: Context) -> Decision:
    """Slack says the thread (or its channel) no longer exists: the conversation records it and
    the ticket hears it once, in an internal note, instead of Threadline talking into the void."""
    if state is None:
        return ignore(state, "result for an unknown conversation")
    if state.thread_gone_at is not None:
        return ignore(state, "the thread is known to be gone")
    ticket_id = state.ticket_id or result.ticket_id
    state = replace(
        state,
        thread_gone_at=ctx.now or state.updated_at,
        ticket_id=ticket_id,
        ticket_url=state.ticket_url or result.ticket_url,
        # No ticket and no thread (a message gone before its ticket was made): nothing will come of it.
        status=("new" if ticket_id else "failed") if state.status == "creating" else state.status,
        waiting_since=None,
        updated_at=ctx.now or state.updated_at,
    )
    if ticket_id is None:
        return Decision(state, reason="the thread is gone and there is no ticket to tell")
    where = (
        f"thread {state.thread_ts} of channel {state.channel_id}" if state.thread_ts else f"channel {state.channel_id}"
    )
    note = (
        f"Threadline can no longer post in Slack for this ticket ({result.reason or 'the thread is gone'}): "
        f"the {where} was deleted or is out of reach. Answers here will not appear in Slack; "
        "reach the requester by email, or ask them to start a new Slack thread."
    )
    return Decision(state, [_ticket_note(state, ticket_id, f"thread-gone:{state.external_id}", note)])


def subject_from(text: str, limit: int = 120) -> str:
    """The shared subject rule (from_slack.subject): emoji as characters, links readable, no
    formatting marks; mentions stay for zendesk-sync to name (it knows the names)."""
    return from_slack.subject(text, None, limit)


# --- operator corrections (threadline-ops relink / unlink) ---------------------------------------


def _on_operator(action: OperatorAction, state: Conversation | None, ctx: Context) -> Decision:
    key = f"op:{action.action_id}"
    if state is not None and key in state.seen:
        return ignore(state, "already applied")
    if action.kind == "relink":
        return _relink(action, state, key, ctx)
    if action.kind == "unlink":
        return _unlink(action, state)
    return ignore(state, f"unknown operator action {action.kind}")


def _ticket_note(state: Conversation, ticket_id: int, command_id: str, text: str) -> Command:
    """An internal note on the ticket, so that agents see what an operator changed."""
    return Command(
        type="zendesk.add_comment",
        command_id=command_id,
        conversation_id=state.conversation_id,
        payload={
            "external_id": state.external_id,
            "ticket_id": ticket_id,
            "body": text,
            "public": False,
            "author": {"slack_user_id": None},
            "slack_channel_id": state.channel_id,
            "slack_ts": state.thread_ts or "",
            "files": [],
            "reopen": False,
        },
    )


def _ticket_ref(ticket_id: int, url: str | None) -> str:
    return to_slack.link(url, f"#{ticket_id}") if url else f"#{ticket_id}"


def _relink(action: OperatorAction, state: Conversation | None, key: str, ctx: Context) -> Decision:
    """Link the thread to another (existing) ticket. threadline-ops has already pointed the
    ticket's external_id at this conversation, so the ticket's events find the thread."""
    ticket_id = action.ticket_id
    if ticket_id is None:
        return ignore(state, "relink without a ticket")
    previous: int | None = None
    if state is None:
        if not action.channel_id or not action.thread_ts:
            return ignore(state, "no conversation to relink and no thread named")
        if ctx.channels.rules_for(action.channel_id) is None:
            return ignore(state, "channel not monitored")
        now = ctx.now or action.at
        state = Conversation(
            conversation_id=action.conversation_id,
            team_id=action.team_id,
            channel_id=action.channel_id,
            thread_ts=action.thread_ts,
            origin="slack",
            status=action.ticket_status or "open",
            created_at=now,
            updated_at=now,
            requester_slack_id=action.requester_slack_id,
            ticket_id=ticket_id,
            ticket_url=action.ticket_url,
            seen=[key],
        )
    elif state.ticket_id == ticket_id:
        return ignore(state, "already linked to this ticket")
    else:
        previous = state.ticket_id
        status = action.ticket_status or ("open" if state.status in ("creating", "failed") else state.status)
        state = replace(
            _mark_seen(state, key, ctx.now),
            ticket_id=ticket_id,
            ticket_url=action.ticket_url,
            status=status,
            # Events of the ticket it had are recognised and kept out of the thread.
            previous_ticket_ids=[*state.previous_ticket_ids, *([previous] if previous else [])],
        )
    if state.status not in WAITING_STATUSES:
        state = replace(state, waiting_since=None, reminders_sent=0)
    commands = []
    if state.thread_ts is not None:
        was = f" (it was linked to #{previous})" if previous else ""
        by = to_slack.escape(action.by)  # what the operator typed or their login: not Slack's text
        text = (
            f":link: {by} linked this thread to ticket {_ticket_ref(ticket_id, action.ticket_url)}{was}. "
            "Replies here now go to it."
        )
        commands.append(_notice(state, f"relink:{action.action_id}", text))
        if state.status != "closed":
            note = f"Linked to the Slack thread {state.channel_id} {state.thread_ts} by {action.by} (threadline-ops)."
            if previous:
                note += f" The thread was linked to #{previous} before."
            commands.append(_ticket_note(state, ticket_id, f"relink-note:{action.action_id}", note))
    return Decision(state, commands)


def _unlink(action: OperatorAction, state: Conversation | None) -> Decision:
    """Forget the link: the row is deleted, so neither side reaches the other any more."""
    if state is None:
        return ignore(state, "not linked")
    commands = []
    if state.thread_ts is not None:
        ticket = f"ticket {_ticket_ref(state.ticket_id, state.ticket_url)}" if state.ticket_id else "its ticket"
        by = to_slack.escape(action.by)
        text = f":scissors: {by} unlinked this thread from {ticket}. Replies here no longer go to Zendesk."
        commands.append(_notice(state, f"unlink:{action.action_id}", text))
        if state.ticket_id is not None and state.status != "closed":
            note = (
                f"Unlinked from the Slack thread {state.channel_id} {state.thread_ts} by {action.by} (threadline-ops)."
            )
            commands.append(_ticket_note(state, state.ticket_id, f"unlink-note:{action.action_id}", note))
    return Decision(None, commands, unlink=True)

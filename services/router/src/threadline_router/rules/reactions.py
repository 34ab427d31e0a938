"""What a reaction on a ticket's opening message means: the channel's action emoji open a
ticket, mark it urgent or solve it, for the people the channel allows; anyone else is told,
alone, who may."""

from __future__ import annotations

from msgspec.structs import replace

from threadline_common.channels import ChannelRules, Who
from threadline_common.models.generated.commands_v4 import SlackPostEphemeral, ZendeskCreateTicket
from threadline_common.tickets import DONE_STATUSES
from threadline_router.conversation import Conversation
from threadline_router.inbound import SlackReaction, conversation_of
from threadline_router.rules import ticket_actions
from threadline_router.rules.activity import activity
from threadline_router.rules.commands import NO_CAUSE, UNSTAMPED
from threadline_router.rules.decision import Context, Decision, ignore, mark_seen, role
from threadline_router.rules.opening import open_ticket, out_of_hours
from threadline_router.rules.who import describe_who, may_use


def on_reaction(event: SlackReaction, state: Conversation | None, ctx: Context) -> Decision:
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
    state = mark_seen(state, key, ctx.now)
    reacted = activity(
        "reaction",
        f"slack-reaction:{event.event_id or key}",
        state,
        occurred_at=ctx.now,
        channel_id=event.channel_id,
        actor_id=event.user,
        role=role(state, event.user),
        source="slack",
        reaction=event.reaction,
    )
    if not event.added or state.status in DONE_STATUSES:
        return Decision(state, [], [reacted])
    urgent, resolve = rules.emoji.urgent, rules.resolve_emoji
    if urgent is not None and event.reaction in urgent.names:
        if not ticket_actions.allowed(rules, "urgent", event.user, state):
            deny = deny_reaction(state.conversation_id, event, urgent.who, "mark this ticket urgent")
            return Decision(state, [deny], [reacted], reason="not allowed to mark urgent")
        state, command = ticket_actions.mark_urgent(state, event.user, ctx.now, f":{event.reaction}:")
        return Decision(state, [command], [reacted])
    if event.reaction not in resolve.names:
        return Decision(state, [], [reacted])
    if not ticket_actions.allowed(rules, "resolve", event.user, state):
        deny = deny_reaction(state.conversation_id, event, resolve.who, "solve this ticket")
        return Decision(state, [deny], [reacted], reason="not allowed to resolve")
    command_id = f"solve-reaction:{event.channel_id}:{event.item_ts}"
    state, solved = ticket_actions.solve_ticket(state, command_id, event.user, ctx.now, "slack_emoji")
    return Decision(state, [solved], [reacted])


def _open_on_reaction(event: SlackReaction, rules: ChannelRules, ctx: Context) -> Decision:
    """The channel's open emoji on a message that is no ticket yet (auto_open: false channels)."""
    action = rules.open_emoji
    if not event.added or action is None or event.reaction not in action.names:
        return ignore(None, "reaction on a message that is no ticket")
    if not may_use(action.who, event.user, event.item_user):
        deny = deny_reaction(conversation_of(event), event, action.who, "open a ticket", requester="message's author")
        return Decision(None, [deny], reason=f"{event.user} may not open tickets with :{event.reaction}:")
    # The reaction names a message; zendesk-sync reads its text and author from Slack.
    cid = conversation_of(event)
    decision = open_ticket(cid, event.team_id, event.channel_id, event.item_ts, None, "", (), rules, ctx)
    for command in decision.commands:
        if isinstance(command, ZendeskCreateTicket):
            command.fetch_message, command.opened_by = True, event.user
    if event.item_user and decision.state is not None:
        decision.state = replace(decision.state, requester_slack_id=event.item_user)
    return out_of_hours(decision, rules, ctx.now, f"ooh:{event.channel_id}:{event.item_ts}")


def deny_reaction(
    conversation_id: str, event: SlackReaction, who: Who, what: str, requester: str = "requester"
) -> SlackPostEphemeral:
    """Someone not allowed used an action emoji: only they hear, in the thread, who may.
    Mentions here are the channel setting's Slack ids, never outside text."""
    text = f"Your :{event.reaction}: did not {what}: in this channel {describe_who(who, requester)} can {what} with it."
    return SlackPostEphemeral(
        schema_version=2,
        command_id=f"deny-reaction:{event.channel_id}:{event.item_ts}:{event.reaction}:{event.user}:{event.event_id}",
        conversation_id=conversation_id,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        channel_id=event.channel_id,
        user=event.user,
        thread_ts=event.item_ts,
        text=text,
        purpose="notice",
    )

"""Someone joined a support channel: the channel's welcome, shown only to them."""

from __future__ import annotations

from threadline_common.models.generated.commands_v4 import SlackPostEphemeral
from threadline_router.conversation import Conversation
from threadline_router.inbound import SlackJoin, conversation_of
from threadline_router.rules.commands import NO_CAUSE, UNSTAMPED
from threadline_router.rules.decision import Context, Decision, ignore


def on_join(event: SlackJoin, state: Conversation | None, ctx: Context) -> Decision:
    rules = ctx.channels.rules_for(event.channel_id)
    if rules is None or not rules.welcome_message:
        return ignore(state, "no welcome for this channel")
    if event.user == ctx.bot_user_id:
        return ignore(state, "we joined")
    welcome = SlackPostEphemeral(
        schema_version=2,
        command_id=f"welcome:{event.channel_id}:{event.user}:{event.event_id}",
        conversation_id=conversation_of(event),
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        channel_id=event.channel_id,
        user=event.user,
        thread_ts=None,
        text=rules.welcome_message.format(user=f"<@{event.user}>", channel=f"<#{event.channel_id}>"),
        purpose="welcome",
    )
    return Decision(state, [welcome])

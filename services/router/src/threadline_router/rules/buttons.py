"""The rules for presses on Threadline's buttons, dispatched on the button's action_id.

Following (`threadline.follow` on the ticket confirmation in a thread; `threadline.unfollow` and
`threadline.latest_comment` in a follower's direct messages) is decided here when the button
names a thread's conversation; a button naming a ticket's follows row (`ticket:<id>`, the DMs')
is decided by `rules.follows`.
"""

from __future__ import annotations

from collections.abc import Callable

from threadline_router.conversation import Conversation
from threadline_router.inbound import BlockAction, FollowNote, conversation_of
from threadline_router.rules.commands import answer, check_follower, describe_ticket
from threadline_router.rules.decision import Context, Decision, ignore
from threadline_router.rules.follows import DEFAULT_CHOICES

Rule = Callable[[BlockAction, Conversation | None, Context], Decision]


def on_block_action(event: BlockAction, state: Conversation | None, ctx: Context) -> Decision:
    rule = FOLLOW_BUTTONS.get(event.action_id)
    if rule is not None:
        return rule(event, state, ctx)
    return ignore(state, "not served yet")


# --- following ---------------------------------------------------------------------------------------


def _no_ticket(event: BlockAction, state: Conversation | None) -> Decision:
    key = conversation_of(event)
    text = "This thread has no Zendesk ticket yet: try again once its link is posted."
    return Decision(state, [answer(key, f"respond:{event.event_id}", event.user, event.response_url, text, "error")])


def follow_pressed(event: BlockAction, state: Conversation | None, ctx: Context) -> Decision:
    """Follow on the ticket confirmation: zendesk-sync checks the person may see the ticket."""
    if state is None or state.ticket_id is None:
        return _no_ticket(event, state)
    key = conversation_of(event)
    command = check_follower(
        f"follow:{key}:{event.user}:{event.event_id}", event.team_id, event.user, event.response_url,
        state.ticket_id, DEFAULT_CHOICES, state.channel_id,
    )  # fmt: skip
    return Decision(state, [command])


def unfollow_pressed(event: BlockAction, state: Conversation | None, ctx: Context) -> Decision:
    """Unfollow naming a thread: the ticket's follows row undoes it (told by a note)."""
    if state is None or state.ticket_id is None:
        return _no_ticket(event, state)
    note = FollowNote(
        "unfollow", f"button:{event.event_id}", event.team_id, event.user, state.ticket_id, ctx.now, event.response_url
    )
    return Decision(state, notes=[note])


def latest_comment_pressed(event: BlockAction, state: Conversation | None, ctx: Context) -> Decision:
    if state is None or state.ticket_id is None:
        return _no_ticket(event, state)
    if not event.response_url:
        return ignore(state, "a latest-comment press without a response_url")
    key = conversation_of(event)
    command = describe_ticket(
        key, f"latest:{key}:{event.event_id}", event.user, event.response_url, state.ticket_id, "latest_comment",
        thread_channel_id=state.channel_id,
    )  # fmt: skip
    return Decision(state, [command])


FOLLOW_BUTTONS: dict[str, Rule] = {
    "threadline.follow": follow_pressed,
    "threadline.unfollow": unfollow_pressed,
    "threadline.latest_comment": latest_comment_pressed,
}

"""The rules for presses on Threadline's buttons.

On the ticket confirmation (threadline_common.confirmation), each button's value is the
conversation's key, so its row decides the press:

- Resolve and Urgent: the channel's `who` rules, exactly as for the action emoji
  (`ticket_actions`, shared with `reactions`); someone not allowed hears one ephemeral line naming
  who may. Allowed: the emoji's command, and the confirmation rewritten in place to show the new
  state (the press names the message: its channel and ts). A second press (a double click, a Slack
  retry) finds the state already changed and sends no second command; the rewrite shows the same.
- Assign to me: zendesk-sync finds the Zendesk agent with the presser's email and answers them.
- "This solved it" and "I still need help" on an automatic answer (`threadline_common.answers`):
  decided by `rules.answers` (only the requester may answer, once).
- Open the form again (`threadline.open_form`): the button zendesk-sync offers when a modal's
  trigger expired; it opens the modal with the fresh press's trigger.

Following (`FOLLOW_BUTTONS`): Follow on the confirmation (`threadline.follow`) asks zendesk-sync to
check the presser may see the ticket; `threadline.unfollow` and `threadline.latest_comment` (a
follower's direct messages) are decided here when the button names a thread's conversation, and
by `rules.follows` when it names a ticket's follows row (`ticket:<id>`, the DMs').
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from threadline_common import answers, confirmation
from threadline_common.channels import ChannelRules
from threadline_common.models import CommandV4
from threadline_common.models.generated.commands_v4 import ZendeskAssignToSlackUser
from threadline_router.conversation import Conversation, external_id
from threadline_router.inbound import BlockAction, FollowNote, conversation_of
from threadline_router.rules import ticket_actions
from threadline_router.rules.answers import on_feedback
from threadline_router.rules.commands import (
    NO_CAUSE,
    UNSTAMPED,
    answer,
    check_follower,
    describe_ticket,
    tell_person,
    update_message,
)
from threadline_router.rules.decision import Context, Decision, ignore, mark_seen
from threadline_router.rules.follows import DEFAULT_CHOICES

OPEN_FORM = "threadline.open_form"


def on_block_action(event: BlockAction, state: Conversation | None, ctx: Context) -> Decision:
    handler = HANDLERS.get(event.action_id) or FOLLOW_BUTTONS.get(event.action_id)
    if handler is None:
        return ignore(state, f"{event.action_id} is not a confirmation button")
    return handler(event, state, ctx)


def tell(
    event: BlockAction,
    conversation_id: str,
    text: str,
    purpose: Literal["answer", "refusal", "help", "error"] = "refusal",
) -> list[CommandV4]:
    """One line only the presser sees: through the press's response_url, else ephemeral in the
    channel of the message pressed (a press in a view without either has nowhere to answer)."""
    command_id = f"press-answer:{event.action_id}:{event.event_id}"
    told = tell_person(
        conversation_id, command_id, event.user, text, purpose, event.response_url, event.channel_id, event.thread_ts
    )
    return [told] if told is not None else []


def _served(
    event: BlockAction, state: Conversation | None, ctx: Context
) -> tuple[Conversation, ChannelRules] | Decision:
    """The conversation and its channel's rules, or the one line that says why not."""
    key = event.value.split("|", 1)[0]
    if state is None:
        return Decision(None, tell(event, key, "Threadline no longer knows this conversation.", "error"))
    rules = ctx.channels.rules_for(state.channel_id)
    if rules is None:
        return Decision(state, tell(event, key, "Threadline no longer serves this channel.", "error"))
    if state.ticket_id is None:
        text = "The ticket is still being created; try again in a moment."
        return Decision(state, tell(event, key, text, "error"))
    return state, rules


def refresh(event: BlockAction, state: Conversation) -> list[CommandV4]:
    """The confirmation the press was on, rewritten to show the conversation's state now."""
    shown = ticket_actions.confirmation_of(state)
    if shown is None or not (event.channel_id and event.message_ts) or event.container != "message":
        return []
    command_id = f"update:{event.channel_id}:{event.message_ts}:{event.action_id}:{event.event_id}"
    return [
        update_message(
            state.conversation_id,
            command_id,
            event.channel_id,
            event.message_ts,
            confirmation.text(shown),
            confirmation.blocks(shown),
        )
    ]


def _pressed(event: BlockAction, state: Conversation, ctx: Context) -> Conversation:
    return mark_seen(state, _press_key(event), ctx.now)


def _press_key(event: BlockAction) -> str:
    return f"press:{event.action_id}:{event.user}:{event.event_id}"


def _resolve_or_urgent(verb: ticket_actions.Verb) -> Callable[[BlockAction, Conversation | None, Context], Decision]:
    def decide(event: BlockAction, state: Conversation | None, ctx: Context) -> Decision:
        served = _served(event, state, ctx)
        if isinstance(served, Decision):
            return served
        state, rules = served
        if _press_key(event) in state.seen:
            return ignore(state, "already applied")  # Slack delivered the same press again
        if not ticket_actions.allowed(rules, verb, event.user, state):
            deny = tell(event, state.conversation_id, ticket_actions.refusal(rules, verb))
            return Decision(state, deny, reason=f"not allowed to {verb}")
        state = _pressed(event, state, ctx)
        commands: list[CommandV4] = []
        if verb == "resolve" and not ticket_actions.is_solved(state):
            command_id = f"solve-button:{state.conversation_id}:{ticket_actions.solve_key(state)}"
            state, solved = ticket_actions.solve_ticket(state, command_id, event.user, ctx.now, "slack_button")
            commands.append(solved)
        elif verb == "urgent" and ticket_actions.urgent_since(state) is None and not ticket_actions.is_solved(state):
            state, urgent = ticket_actions.mark_urgent(state, event.user, ctx.now, "the Urgent button")
            commands.append(urgent)
        reason = "" if commands else f"{verb}: nothing left to do"
        return Decision(state, [*commands, *refresh(event, state)], reason=reason)

    return decide


def _assign_me(event: BlockAction, state: Conversation | None, ctx: Context) -> Decision:
    served = _served(event, state, ctx)
    if isinstance(served, Decision):
        return served
    state, _ = served
    # The same person pressing again is the same assignment: zendesk-sync finds it done.
    command = ZendeskAssignToSlackUser(
        schema_version=3,
        command_id=f"assign-me:{state.conversation_id}:{state.ticket_id}:{event.user}",
        conversation_id=state.conversation_id,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        external_id=external_id(state),
        ticket_id=state.ticket_id,
        slack_user_id=event.user,
        response_url=event.response_url,
    )
    return Decision(state, [command])


def _open_form(event: BlockAction, state: Conversation | None, ctx: Context) -> Decision:
    from threadline_router.rules.forms import reopen_form  # forms imports this module's `tell`

    return reopen_form(event, state, ctx)


HANDLERS: dict[str, Callable[[BlockAction, Conversation | None, Context], Decision]] = {
    answers.SOLVED: on_feedback,
    answers.MORE: on_feedback,
    confirmation.RESOLVE: _resolve_or_urgent("resolve"),
    confirmation.URGENT: _resolve_or_urgent("urgent"),
    confirmation.ASSIGN_ME: _assign_me,
    OPEN_FORM: _open_form,
}


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


FOLLOW_BUTTONS: dict[str, Callable[[BlockAction, Conversation | None, Context], Decision]] = {
    "threadline.follow": follow_pressed,
    "threadline.unfollow": unfollow_pressed,
    "threadline.latest_comment": latest_comment_pressed,
}

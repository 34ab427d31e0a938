"""What marking a ticket urgent or solving it from Slack means, whichever way it is asked (an
action emoji on the opening message, or a button on the confirmation): who may, what they hear
when they may not, the command, and what the conversation remembers of it (who solved it, since
when it is urgent) so that the confirmation shows it and a second ask does nothing.

What is remembered lives in the row's `seen` keys (threadline.links v4 has no field for it):
`solved-by:<ticket>:<user>`, `solve:<ticket>:<status>:<waiting since>` (a solve asked while the
ticket was in that state) and `urgent-since:<ticket>:<time>`.
"""

from __future__ import annotations

from typing import Literal

from threadline_common import confirmation
from threadline_common.channels import ChannelRules, Who
from threadline_common.models.generated.commands_v4 import SlackPerson, ZendeskSetPriority, ZendeskSetStatus
from threadline_common.tickets import DONE_STATUSES
from threadline_router.conversation import Conversation, external_id
from threadline_router.rules import status_origin
from threadline_router.rules.activity import Via
from threadline_router.rules.commands import NO_CAUSE, UNSTAMPED, solve
from threadline_router.rules.decision import mark_seen
from threadline_router.rules.who import describe_who, may_use

Verb = Literal["urgent", "resolve"]
WHAT: dict[Verb, str] = {"urgent": "mark this ticket urgent", "resolve": "solve this ticket"}


def who_may(rules: ChannelRules, verb: Verb) -> Who:
    """The channel's `who` for the verb: the urgent emoji's (anyone when none is set), the
    resolve emoji's (resolvers by default)."""
    if verb == "urgent":
        return rules.emoji.urgent.who if rules.emoji.urgent is not None else "anyone"
    return rules.resolve_emoji.who


def allowed(rules: ChannelRules, verb: Verb, user: str | None, state: Conversation) -> bool:
    return may_use(who_may(rules, verb), user, state.requester_slack_id, state.responders)


def refusal(rules: ChannelRules, verb: Verb) -> str:
    """One line for someone who may not: who may, in this channel."""
    what = WHAT[verb]
    return f"You cannot {what}: in this channel {describe_who(who_may(rules, verb))} can {what}."


# --- what the conversation remembers ------------------------------------------------------------


def _latest(state: Conversation, prefix: str) -> str | None:
    return next((key[len(prefix) :] for key in reversed(state.seen) if key.startswith(prefix)), None)


def solve_key(state: Conversation) -> str:
    return f"solve:{state.ticket_id}:{state.status}:{state.waiting_since}"


def is_solved(state: Conversation) -> bool:
    """Solved in Zendesk, or a solve was already asked for in the state the ticket is in now."""
    return state.status in DONE_STATUSES or solve_key(state) in state.seen


def solved_by(state: Conversation) -> str | None:
    return _latest(state, f"solved-by:{state.ticket_id}:")


def urgent_since(state: Conversation) -> str | None:
    return _latest(state, f"urgent-since:{state.ticket_id}:")


def solve_ticket(
    state: Conversation, command_id: str, user: str, now: str, via: Via
) -> tuple[Conversation, ZendeskSetStatus]:
    command = solve(state, command_id, user)
    state = status_origin.asked(mark_seen(state, solve_key(state), now), "solved", via, user, now)
    return mark_seen(state, f"solved-by:{state.ticket_id}:{user}", now), command


def mark_urgent(state: Conversation, user: str, now: str, how: str) -> tuple[Conversation, ZendeskSetPriority]:
    """`how`: how it was asked, for the ticket's note (`:rotating_light:`, `the Urgent button`)."""
    command = ZendeskSetPriority(
        schema_version=2,
        command_id=f"urgent:{state.channel_id}:{state.thread_ts}",
        conversation_id=state.conversation_id,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        external_id=external_id(state),
        ticket_id=state.ticket_id,
        priority="urgent",
        comment=f"Marked urgent from Slack by {user} ({how}).",
        author=SlackPerson(slack_user_id=user),
        slack_channel_id=state.channel_id,
        slack_thread_ts=state.thread_ts,
    )
    if urgent_since(state) is None:
        state = mark_seen(state, f"urgent-since:{state.ticket_id}:{now}", now)
    return state, command


def confirmation_of(state: Conversation) -> confirmation.Confirmation | None:
    """What the conversation's confirmation shows now (None before its ticket exists)."""
    if state.ticket_id is None:
        return None
    followup_of = state.previous_ticket_ids[-1] if state.generation > 1 and state.previous_ticket_ids else None
    return confirmation.Confirmation(
        conversation=state.conversation_id,
        ticket_id=state.ticket_id,
        url=state.ticket_url or "",
        followup_of=followup_of,
        solved=is_solved(state),
        solved_by=solved_by(state),
        urgent_since=urgent_since(state),
    )

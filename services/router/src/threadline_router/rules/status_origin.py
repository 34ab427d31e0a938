"""Where a solve, close or reopen was done, for the activity of the status change it causes.

Every status change is counted once, from Zendesk's status webhook, whichever side made it: a
Slack emoji, button or typed word, a requester's reply, an automatic answer's "This solved it",
or an agent or automation in Zendesk. When the router itself asks for the change it remembers
where it came from (a `seen` key), and the webhook's activity carries that origin and person;
a change nobody in Slack asked for was done in Zendesk.
"""

from __future__ import annotations

from typing import get_args

from msgspec.structs import replace

from threadline_router.conversation import Conversation
from threadline_router.rules.activity import Via
from threadline_router.rules.decision import mark_seen

_PREFIX = "status-via:"
_VIAS = frozenset(get_args(Via))


def asked(state: Conversation, status: str, via: Via, user: str | None, now: str) -> Conversation:
    """The router asked Zendesk for `status` on behalf of `user`, from `via`."""
    return mark_seen(state, f"{_PREFIX}{state.ticket_id}:{status}:{via}:{user or ''}", now)


def origin(state: Conversation, ticket_id: int | None, status: str) -> tuple[Conversation, Via, str | None]:
    """(state without the claim, where, who) of a change of `ticket_id` to `status`: the latest
    claim the router made for it, else ("zendesk", None)."""
    prefix = f"{_PREFIX}{ticket_id}:{status}:"
    claim = next((key for key in reversed(state.seen) if key.startswith(prefix)), None)
    if claim is None:
        return state, "zendesk", None
    via, _, user = claim[len(prefix) :].partition(":")
    state = replace(state, seen=[key for key in state.seen if key != claim])
    if via not in _VIAS:
        return state, "zendesk", None
    return state, via, user or None  # type: ignore[return-value]  # checked against Via above

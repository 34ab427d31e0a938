"""What every rule shares: the context it decides in, the decision it returns, and the few
steps every rule takes on a conversation (recognising a redelivery, naming an actor's role)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from msgspec.structs import replace

from threadline_common.channels import ChannelsConfig
from threadline_common.models import Activity, CommandV4
from threadline_router.conversation import Conversation
from threadline_router.inbound.events import FollowNote
from threadline_router.rules.activity import Role

# Ids of events applied, kept per conversation (links `seen`, at most 500 by contract).
SEEN_LIMIT = 500


@dataclass(frozen=True)
class Context:
    """Facts about the deployment the rules need; no I/O behind them."""

    channels: ChannelsConfig
    bot_user_id: str | None = None
    bot_id: str | None = None
    allowed_bot_ids: frozenset[str] = frozenset()
    zendesk_api_user_id: int | None = None
    now: str = ""
    # The members of the Slack user groups channels name (team, rotation), usergroup id -> user
    # ids, as last heard from Slack; a group not heard of yet has nobody in it.
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class Decision:
    state: Conversation | None
    commands: list[CommandV4] = field(default_factory=list)
    activity: list[Activity] = field(default_factory=list)
    reason: str = ""  # why nothing happened, for debug logs
    # The conversation's row is deleted (a tombstone in the changelog): an operator unlinked it.
    unlink: bool = False
    # Notes for other rows of the router (a follow a thread's row asks a ticket's row to undo),
    # sent on threadline.router.inbound keyed by the row each names.
    notes: list[FollowNote] = field(default_factory=list)


def ignore(state: Conversation | None, reason: str) -> Decision:
    return Decision(state=state, reason=reason)


def mark_seen(state: Conversation, key: str, now: str) -> Conversation:
    """The event `key` is applied: a redelivery of it is recognised and skipped."""
    return replace(state, seen=[*state.seen, key][-SEEN_LIMIT:], updated_at=now or state.updated_at)


def role(state: Conversation | None, user: str | None) -> Role:
    if state is not None and user is not None and user == state.requester_slack_id:
        return "requester"
    return "responder"


def add_responder(state: Conversation, author: str | None, is_bot: bool) -> Conversation:
    """A real reply by someone other than the requester makes them a responder."""
    if author and author != state.requester_slack_id and author not in state.responders and not is_bot:
        return replace(state, responders=[*state.responders, author])
    return state

"""App Homes: what each person's Home tab lists, kept up to date as conversations change, and when
it is published (`slack.publish_home`).

The links table is keyed by conversation; a Home needs a person's conversations and a channel's
queue. So the router keeps an index keyed by them, the homes table (threadline.homes), fed by the
conversations themselves, through its own inbound topic so that each row is changed in order by
the worker that owns it:

1. a conversation whose status, ticket or waiting time changes (`told_by_conversation`) tells its
   requester's Home (`HomeUpdate`) and, unless it is a private request, its channel's queue
   (`QueueUpdate`, with who answered in it);
2. a queue whose longest-waiting conversations (or their count) change tells the Home of each
   person who answers in that channel (`QueueSnapshot`): its named responders (the channel's
   `resolvers` and emoji `who` lists) and everyone who has answered in one of its threads;
3. a Home that changed is published at once, unless it was published less than DEBOUNCE_SECONDS
   ago: then it is marked dirty and the router's timer (`home_due`, `HomeTick`) publishes it when
   the period is over. Opening the Home tab publishes it unless it is fresh.

Every record carries the conversation's `updated_at`: an older word never replaces a newer one,
so replays and records crossing each other change nothing. A publish's command id is the Home's
publish count: a replayed event publishes under the same id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

from msgspec.structs import replace

from threadline_common import to_slack
from threadline_common.channels import ChannelRules, is_direct_message
from threadline_common.contracts import Topics
from threadline_common.models import ChannelQueue, CommandV4, HomeItem, PersonHome
from threadline_common.models.generated.commands_v4 import Cause, SlackPublishHome
from threadline_common.models.generated.follows_v1 import FollowedTicket
from threadline_common.tickets import DONE_STATUSES
from threadline_common.times import parse_time
from threadline_router.conversation import Conversation
from threadline_router.inbound import HomeOpened, person_key
from threadline_router.inbound.homes import (
    FollowsChanged,
    HomeRecord,
    HomeTick,
    HomeUpdate,
    QueueSnapshot,
    QueueUpdate,
    queue_key,
)
from threadline_router.rules.commands import NO_CAUSE, UNSTAMPED
from threadline_router.rules.decision import Context, Decision, ignore
from threadline_router.rules.home_view import QUEUE_SHOWN, home_view

# A Home is published at most once per this many seconds (a burst of changes is one publish).
DEBOUNCE_SECONDS = 3.0
MAX_REQUESTS = 200  # the contract's bounds (threadline.homes v1)
MAX_WAITING = 1000
MAX_RESPONDERS = 500
# Statuses in which a conversation waits on the support side (with its waiting_since set).
QUEUED_STATUSES = frozenset({"creating", "new", "open", "hold"})

HomeState: TypeAlias = PersonHome | ChannelQueue
HomeEvent: TypeAlias = HomeRecord | HomeOpened


@dataclass
class HomeDecision:
    """What a home event changes: the row, the publish, and the records for other rows."""

    state: HomeState | None
    commands: list[CommandV4] = field(default_factory=list)
    records: list[HomeRecord] = field(default_factory=list)
    reason: str = ""


# --- what a conversation tells ------------------------------------------------------------------


def _shown(state: Conversation) -> tuple[object, ...]:
    """What of a conversation the Homes show: a change in any of it is told."""
    return (
        state.status,
        state.ticket_id,
        state.ticket_url,
        state.waiting_since,
        tuple(state.responders),
        state.channel_id,
        state.thread_ts,
    )


def home_item(state: Conversation, rules: ChannelRules | None) -> HomeItem:
    return HomeItem(
        conversation_id=state.conversation_id,
        channel_id=state.channel_id,
        channel_name=rules.name if rules is not None and rules.name else None,
        thread_ts=state.thread_ts,
        ticket_id=state.ticket_id,
        ticket_url=state.ticket_url,
        status=state.status,
        requester=state.requester_slack_id,
        private=is_direct_message(state.channel_id),
        opened_at=state.created_at,
        waiting_since=state.waiting_since,
        updated_at=state.updated_at,
    )


def named_responders(rules: ChannelRules) -> tuple[str, ...]:
    """The people a channel's settings name as answering there (resolvers, emoji `who` lists)."""
    named: list[str] = []
    for who in (rules.resolvers, *(a.who for a in (rules.emoji.open, rules.emoji.urgent, rules.emoji.resolve) if a)):
        if isinstance(who, tuple):
            named += [u for u in who if u not in named]
    return tuple(named)


def told_by_conversation(before: Conversation | None, after: Conversation | None, ctx: Context) -> list[HomeRecord]:
    """The Homes and the queue a conversation's change concerns, told what it now is. Unlinked
    (`after` None): told it is gone, as a closed one is."""
    if after is None and before is not None:
        after, before = (
            replace(before, status="closed", waiting_since=None, updated_at=ctx.now or before.updated_at),
            None,
        )
    if after is None or after.thread_ts is None or not after.team_id:
        return []  # an emailed ticket with no Slack thread (and no Slack person) yet
    if before is not None and _shown(before) == _shown(after):
        return []
    rules = ctx.channels.rules_for(after.channel_id)
    item = home_item(after, rules)
    told: list[HomeRecord] = []
    requester = after.requester_slack_id
    if requester and to_slack.is_user_id(requester):
        told.append(HomeUpdate(person_key(after.team_id, requester), after.team_id, requester, item))
    if rules is not None and not item.private:
        responders = tuple(dict.fromkeys([*after.responders, *named_responders(rules)]))
        told.append(
            QueueUpdate(queue_key(after.team_id, after.channel_id), after.team_id, after.channel_id, item, responders)
        )
    return told


# --- the rows -------------------------------------------------------------------------------------


def new_home(person: str, team_id: str, user: str, now: str) -> PersonHome:
    return PersonHome(
        schema_version=1,
        person=person,
        team_id=team_id,
        user=user,
        requests=[],
        queue=[],
        queue_sizes={},
        published=0,
        published_at=None,
        dirty=False,
        updated_at=now,
    )


def new_queue(queue: str, team_id: str, channel_id: str, now: str) -> ChannelQueue:
    return ChannelQueue(
        schema_version=1,
        queue=queue,
        team_id=team_id,
        channel_id=channel_id,
        waiting=[],
        responders=[],
        told="",
        updated_at=now,
    )


def _upsert(items: list[HomeItem], item: HomeItem) -> list[HomeItem] | None:
    """`items` with `item` in its conversation's place; None when nothing changes (the same word
    again, or an older one). A conversation that is done stays, as the newest word about it, so
    that an older word arriving late cannot bring it back (see `_bounded`)."""
    old = next((i for i in items if i.conversation_id == item.conversation_id), None)
    if old is not None and (old == item or old.updated_at > item.updated_at):
        return None
    return [*(i for i in items if i.conversation_id != item.conversation_id), item]


def _bounded(items: list[HomeItem], shown: Callable[[HomeItem], bool], limit: int) -> list[HomeItem]:
    """At most `limit` items: the oldest of those no longer shown go first."""
    gone = sorted((i for i in items if not shown(i)), key=lambda i: i.updated_at)
    drop = {i.conversation_id for i in gone[: max(0, len(items) - limit)]}
    kept = [i for i in items if i.conversation_id not in drop]
    return kept[-limit:]


def is_open_request(item: HomeItem) -> bool:
    return item.status not in DONE_STATUSES


def is_waiting(item: HomeItem) -> bool:
    """Waiting on the support side: what a channel's queue lists."""
    return item.status in QUEUED_STATUSES and item.waiting_since is not None


def _seconds_since(then: str | None, now: str) -> float | None:
    if not then or not now:
        return None
    try:
        return (parse_time(now) - parse_time(then)).total_seconds()
    except ValueError:
        return None


def fresh(home: PersonHome, now: str) -> bool:
    """Published less than DEBOUNCE_SECONDS ago."""
    since = _seconds_since(home.published_at, now)
    return since is not None and 0 <= since < DEBOUNCE_SECONDS


def home_due(home: PersonHome, now: str) -> bool:
    """Whether the timer should ask this Home to publish (dirty, and the period is over)."""
    return home.dirty and not fresh(home, now)


def publish(home: PersonHome, now: str, followed: Sequence[FollowedTicket] = ()) -> HomeDecision:
    """Publish the Home now. `followed`: the tickets the person follows (their follows row)."""
    number = home.published + 1
    view = home_view([r for r in home.requests if is_open_request(r)], followed, home.queue, home.queue_sizes)
    command = SlackPublishHome(
        schema_version=3,
        command_id=f"home:{home.person}:{number}",
        conversation_id=home.person,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        user=home.user,
        view=view,
    )
    state = replace(home, published=number, published_at=now, dirty=False, updated_at=now)
    return HomeDecision(state, [command])


def _changed(home: PersonHome, now: str, followed: Sequence[FollowedTicket]) -> HomeDecision:
    if fresh(home, now):
        return HomeDecision(replace(home, dirty=True, updated_at=now), reason="published moments ago: held back")
    return publish(home, now, followed)


def on_home_opened(event: HomeOpened, state: Conversation | None, ctx: Context) -> Decision:
    """`route()`'s answer: a Home visit is decided on the homes table (`on_home`), not on a
    conversation's row; the router's app sends it there."""
    return ignore(state, "a Home visit is decided on the homes table")


# --- deciding --------------------------------------------------------------------------------------


def on_home(
    event: HomeEvent, state: HomeState | None, ctx: Context, followed: Sequence[FollowedTicket] = ()
) -> HomeDecision:
    """A home event on its row (a person's Home, or a channel's queue). `followed`: the tickets
    the person follows, from their follows row (same key, same partition)."""
    now = ctx.now
    if isinstance(event, QueueUpdate):
        queue = (
            state if isinstance(state, ChannelQueue) else new_queue(event.queue, event.team_id, event.channel_id, now)
        )
        return on_queue_update(event, queue, now)
    if isinstance(state, ChannelQueue):
        return HomeDecision(state, reason="a person's event on a queue's row")
    match event:
        case HomeOpened():
            home = state or new_home(person_key(event.team_id, event.user), event.team_id, event.user, now)
            if home.published and fresh(home, now) and not home.dirty:
                return HomeDecision(home, reason="the Home is fresh")
            return publish(home, now, followed)
        case HomeTick():
            if state is None or not state.dirty:
                return HomeDecision(state, reason="nothing held back")
            return publish(state, now, followed) if not fresh(state, now) else HomeDecision(state, reason="not yet")
        case FollowsChanged():
            if state is None or not state.published:
                return HomeDecision(state, reason="no Home published yet: the first visit shows them")
            return _changed(state, now, followed)
        case HomeUpdate():
            home = state or new_home(event.person, event.team_id, event.user, now)
            requests = _upsert(home.requests, event.item)
            if requests is None:
                return HomeDecision(state, reason="already told")
            return _changed(replace(home, requests=_bounded(requests, is_open_request, MAX_REQUESTS)), now, followed)
        case QueueSnapshot():
            return on_queue_snapshot(event, state, now, followed)
    raise TypeError(f"not a home event: {event!r}")


def on_queue_snapshot(
    event: QueueSnapshot, state: PersonHome | None, now: str, followed: Sequence[FollowedTicket] = ()
) -> HomeDecision:
    home = state or new_home(event.person, event.team_id, event.user, now)
    others = [i for i in home.queue if i.channel_id != event.channel_id]
    mine = [i for i in home.queue if i.channel_id == event.channel_id]
    if mine == list(event.items) and home.queue_sizes.get(event.channel_id, 0) == event.waiting:
        return HomeDecision(state, reason="already told")
    sizes = {k: v for k, v in home.queue_sizes.items() if k != event.channel_id}
    if event.waiting:
        sizes[event.channel_id] = event.waiting
    return _changed(replace(home, queue=[*others, *event.items], queue_sizes=sizes), now, followed)


def waiting(queue: ChannelQueue) -> list[HomeItem]:
    """The channel's conversations that wait, the one waiting longest first."""
    return sorted(
        (i for i in queue.waiting if is_waiting(i)), key=lambda i: (i.waiting_since or i.updated_at, i.conversation_id)
    )


def _digest(queue: ChannelQueue) -> str:
    """What the responders are told, in short: the count and each shown conversation's word."""
    now_waiting = waiting(queue)
    shown = ",".join(f"{i.conversation_id}@{i.updated_at}" for i in now_waiting[:QUEUE_SHOWN])
    return f"{len(now_waiting)}:{shown}"


def on_queue_update(event: QueueUpdate, queue: ChannelQueue, now: str) -> HomeDecision:
    items = _upsert(queue.waiting, event.item)
    new_people = [u for u in event.responders if u not in queue.responders and to_slack.is_user_id(u)]
    if items is None and not new_people:
        return HomeDecision(queue, reason="already told")
    after = replace(
        queue,
        waiting=_bounded(queue.waiting if items is None else items, is_waiting, MAX_WAITING),
        responders=[*queue.responders, *new_people][-MAX_RESPONDERS:],
        updated_at=now,
    )
    digest = _digest(after)
    tell = after.responders if digest != queue.told else new_people
    after = replace(after, told=digest)
    now_waiting = waiting(after)
    shown = tuple(now_waiting[:QUEUE_SHOWN])
    snapshots: list[HomeRecord] = [
        QueueSnapshot(person_key(after.team_id, u), after.team_id, u, after.channel_id, shown, len(now_waiting), now)
        for u in tell
    ]
    return HomeDecision(after, records=snapshots)


def home_cause(event: HomeEvent) -> Cause:
    """The record that led to a home decision's commands."""
    match event:
        case HomeOpened():
            return Cause(topic=Topics.SLACK_EVENTS, event_id=event.event_id)
        case HomeUpdate() | QueueUpdate():
            return Cause(
                topic=Topics.ROUTER_INBOUND, event_id=f"home:{event.item.conversation_id}@{event.item.updated_at}"
            )
        case QueueSnapshot():
            return Cause(topic=Topics.ROUTER_INBOUND, event_id=f"queue:{event.team_id}:{event.channel_id}@{event.at}")
        case HomeTick():
            return Cause(topic=Topics.ROUTER_INBOUND, event_id=f"home-tick:{event.person}@{event.at}")
        case FollowsChanged():
            return Cause(topic=Topics.ROUTER_INBOUND, event_id=f"follows:{event.person}@{event.at}")
    raise TypeError(f"not a home event: {event!r}")


def decide_home(
    event: HomeEvent, state: HomeState | None, ctx: Context, followed: Sequence[FollowedTicket] = ()
) -> HomeDecision:
    """`on_home`, its commands stamped with the time and their cause (as `route` does)."""
    decision = on_home(event, state, ctx, followed)
    if decision.commands:
        cause = home_cause(event)
        for command in decision.commands:
            command.issued_at, command.cause = ctx.now, cause
    return decision

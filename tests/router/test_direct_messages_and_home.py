"""Private requests by direct message, and the App Home: the router's rules as pure functions.

A DM to the app opens a private ticket; the person's replies in its thread are comments; agents'
answers come back into it. Each person's Home lists their open requests and, for the people who
answer in a channel, its longest-waiting conversations; it is published when they change, at
most once per DEBOUNCE_SECONDS, and when the person opens the tab."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace as dc_replace

import msgspec
import pytest
from threadline_testing.records import message_body, slack_record, zendesk_record

from threadline_common.channels import ChannelConfigError, parse_channels
from threadline_common.models import ChannelQueue, HomeItem, PersonHome
from threadline_common.models.generated.follows_v1 import FollowedTicket
from threadline_common.schemas import validate
from threadline_router.inbound import HomeOpened, SyncResult, decode_slack
from threadline_router.inbound.homes import (
    FollowsChanged,
    HomeTick,
    HomeUpdate,
    QueueSnapshot,
    QueueUpdate,
    decode_home,
    home_record,
)
from threadline_router.rules import Context, command_type, route
from threadline_router.rules.home import DEBOUNCE_SECONDS, decide_home, home_due, told_by_conversation, waiting
from threadline_router.rules.home_view import home_view

pytestmark = pytest.mark.unit

T0 = dt.datetime(2026, 11, 23, 10, 0, 0, tzinfo=dt.UTC)
CHANNELS = {
    "defaults": {"zendesk": {"tags": ["slack"]}, "welcome_message": "Hi {user}"},
    "channels": {"C1": {"name": "support", "resolvers": ["U0CAROL"], "zendesk": {"group_id": 10}}},
    "direct_messages": {"enabled": True, "zendesk": {"group_id": 20, "priority": "high"}},
}


def at(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def dm_ctx() -> Context:
    return Context(channels=parse_channels(CHANNELS), bot_user_id="UBOT", bot_id="BBOT", now=at(0))


def slack(body):
    event = decode_slack(slack_record(body))
    assert event is not None
    return event


def valid(decision) -> None:
    for command in decision.commands:
        record = msgspec.to_builtins(command)
        record["issued_at"] = record["issued_at"] or at(0)
        validate("threadline.commands", record["schema_version"], record)
    if isinstance(decision.state, PersonHome | ChannelQueue):
        validate("threadline.homes", 1, msgspec.to_builtins(decision.state))


# --- configuration -----------------------------------------------------------------------------


def test_direct_messages_are_off_unless_enabled_and_take_the_defaults_but_what_a_dm_has_no_use_for():
    assert parse_channels({"channels": {"C1": {}}}).rules_for("D0ALICE") is None
    config = parse_channels(CHANNELS)
    dm = config.rules_for("D0ALICE")
    assert dm is not None and dm is config.direct_messages
    assert dm.zendesk.group_id == 20 and dm.zendesk.priority == "high"
    assert dm.zendesk.tags == ("slack", "slack-dm", "private")  # not the defaults' tags
    assert dm.welcome_message is None  # nobody joins a DM: the defaults' welcome is not taken
    assert config.rules_for("C1") is not None and config.rules_for("C9") is None
    assert dm in config.all_rules()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"welcome_message": "Hi"}, "direct_messages: Value error, welcome_message does not apply to direct messages"),
        ({"auto_open": False}, "direct_messages: Value error, auto_open does not apply to direct messages"),
        ({"emoji": {"open": {"names": ["ticket"]}}}, "emoji.open does not apply to direct messages"),
        ({"enabled": "sometimes"}, "direct_messages.enabled: Input should be a valid boolean"),
        ({"zendesk": {"priority": "critical"}}, "direct_messages.zendesk.priority"),
        ({"reminders": {"max_reminders": 2}}, "direct_messages.reminders.after_minutes: Field required"),
    ],
)
def test_a_wrong_direct_messages_section_is_one_clear_line(section, message):
    with pytest.raises(ChannelConfigError) as error:
        parse_channels({"direct_messages": {"enabled": True, **section}}, "channels.yaml")
    assert message in str(error.value) and "\n" not in str(error.value)


# --- a private request -------------------------------------------------------------------------


def test_a_dm_opens_a_private_ticket_with_the_dm_routing_and_no_welcome(dm_ctx):
    decision = route(slack(message_body("D0ALICE", "100.000100", "My payslip is wrong", "U0ALICE")), None, dm_ctx)
    valid(decision)
    [create] = decision.commands
    assert command_type(create) == "zendesk.create_ticket"
    assert create.private is True and create.group_id == 20 and create.priority == "high"
    assert create.tags == ["slack", "slack-dm", "private"]
    assert create.requester.slack_user_id == "U0ALICE" and create.slack_channel_id == "D0ALICE"
    assert decision.state.requester_slack_id == "U0ALICE"
    # A channel's ticket is not private.
    [channel_create] = route(slack(message_body("C1", "100.000200", "Printer", "U0BOB")), None, dm_ctx).commands
    assert channel_create.private is not True


def test_the_dm_thread_carries_the_conversation_both_ways(dm_ctx):
    state = route(slack(message_body("D0ALICE", "100.000100", "My payslip is wrong", "U0ALICE")), None, dm_ctx).state
    created = SyncResult(kind="ticket_created", conversation_id=state.conversation_id, command_id="c", ticket_id=42)
    state = route(created, state, dm_ctx).state
    # The person's reply in the DM thread is a comment.
    reply = route(
        slack(message_body("D0ALICE", "100.000300", "It is November's", "U0ALICE", "100.000100")), state, dm_ctx
    )
    [comment] = reply.commands
    assert command_type(comment) == "zendesk.add_comment" and comment.body == "It is November's" and comment.public
    # An agent's public answer goes back into the DM thread.
    answer = zendesk_record(
        "comment_added",
        42,
        state.conversation_id,
        {
            "comment": {
                "id": "9",
                "body": "Fixed",
                "is_public": True,
                "author": {"id": "7", "name": "Ann", "is_staff": True},
            }
        },
    )
    from threadline_router.inbound import decode_zendesk

    [post] = route(decode_zendesk(answer), reply.state, dm_ctx).commands
    assert post.channel_id == "D0ALICE" and post.thread_ts == "100.000100" and post.purpose == "agent_comment"
    # `resolve` in the thread solves it, as in a channel.
    [solve] = route(
        slack(message_body("D0ALICE", "100.000400", "resolve", "U0ALICE", "100.000100")), reply.state, dm_ctx
    ).commands
    assert command_type(solve) == "zendesk.set_status" and solve.status == "solved"


def test_the_apps_own_posts_and_other_bots_in_a_dm_are_not_requests(dm_ctx):
    own = message_body("D0ALICE", "100.000500", "Ticket #42 opened", "UBOT", bot_id="BBOT")
    other = message_body("D0ALICE", "100.000600", "beep", None, bot_id="B0OTHER", subtype="bot_message")
    other["event"].pop("user")
    ctx = dc_replace(dm_ctx, allowed_bot_ids=frozenset({"B0OTHER"}))  # allowed in channels, never in a DM
    for body in (own, other):
        assert not route(slack(body), None, ctx).commands


def test_dms_are_not_served_when_direct_messages_are_off(ctx):
    assert not route(slack(message_body("D0ALICE", "100.000100", "hello", "U0ALICE")), None, ctx).commands


# --- the Home: what a conversation tells -------------------------------------------------------


def opened_dm(ctx):
    state = route(slack(message_body("D0ALICE", "100.000100", "My payslip is wrong", "U0ALICE")), None, ctx).state
    created = SyncResult(
        kind="ticket_created",
        conversation_id=state.conversation_id,
        command_id="c",
        ticket_id=42,
        ticket_url="https://acme.zendesk.com/agent/tickets/42",
    )
    return state, route(created, state, ctx).state


def test_a_conversation_tells_its_requesters_home_when_it_opens_and_changes_and_only_then(dm_ctx):
    creating, new = opened_dm(dm_ctx)
    [opened] = told_by_conversation(None, creating, dm_ctx)
    assert isinstance(opened, HomeUpdate) and opened.person == "person:T1:U0ALICE"
    assert opened.item.status == "creating" and opened.item.private is True
    [linked] = told_by_conversation(creating, new, dm_ctx)
    assert linked.item.ticket_id == 42 and linked.item.status == "new"
    assert told_by_conversation(new, new, dm_ctx) == []  # nothing shown changed: nothing told
    [gone] = told_by_conversation(new, None, dc_replace(dm_ctx, now=at(50)))  # an operator unlinked it
    assert gone.item.status == "closed" and gone.item.updated_at == at(50)
    # A private request is no channel's queue; a channel's conversation is its channel's.
    channel = route(slack(message_body("C1", "100.000200", "Printer", "U0BOB")), None, dm_ctx).state
    home, queue = told_by_conversation(None, channel, dm_ctx)
    assert isinstance(home, HomeUpdate) and home.user == "U0BOB"
    assert isinstance(queue, QueueUpdate) and queue.queue == "queue:T1:C1" and queue.responders == ("U0CAROL",)
    # The records travel on the inbound topic and come back the same.
    for record in (home, queue):
        assert decode_home(home_record(record)) == record


def test_home_shows_the_open_request_and_solving_it_takes_it_off(dm_ctx):
    creating, new = opened_dm(dm_ctx)
    [first] = told_by_conversation(None, creating, dm_ctx)
    decision = decide_home(first, None, dm_ctx)
    valid(decision)
    [publish] = decision.commands
    assert command_type(publish) == "slack.publish_home" and publish.user == "U0ALICE"
    assert publish.command_id == "home:person:T1:U0ALICE:1" and publish.cause.event_id
    home = decision.state
    # Told again a few seconds later (the ticket exists): published again, with its link.
    [linked] = told_by_conversation(creating, new, dm_ctx)
    later = dc_replace(dm_ctx, now=at(DEBOUNCE_SECONDS + 1))
    decision = decide_home(linked, home, later)
    [publish] = decision.commands
    text = str(publish.view)
    assert "<https://acme.zendesk.com/agent/tickets/42|#42>" in text and "private request" in text
    # Solved: no longer an open request.
    solved = msgspec.structs.replace(new, status="solved", updated_at=at(20))
    [told] = told_by_conversation(new, solved, dm_ctx)
    decision = decide_home(told, decision.state, dc_replace(dm_ctx, now=at(20)))
    [publish] = decision.commands
    assert [r.status for r in decision.state.requests] == ["solved"]  # kept: a late older word cannot revive it
    assert "You have no open requests" in str(publish.view)
    # The same word again (a replay) publishes nothing; an older word changes nothing.
    assert not decide_home(told, decision.state, dc_replace(dm_ctx, now=at(40))).commands
    assert not decide_home(linked, decision.state, dc_replace(dm_ctx, now=at(40))).commands
    # Reopened by a reply: open again, on the Home again.
    reopened = msgspec.structs.replace(solved, status="open", updated_at=at(60))
    [told] = told_by_conversation(solved, reopened, dm_ctx)
    [publish] = decide_home(told, decision.state, dc_replace(dm_ctx, now=at(60))).commands
    assert "|#42> · open" in str(publish.view)


def test_a_burst_of_changes_is_published_once_then_once_more_when_the_period_is_over(dm_ctx):
    creating, new = opened_dm(dm_ctx)
    [first] = told_by_conversation(None, creating, dm_ctx)
    home = decide_home(first, None, dm_ctx).state
    [second] = told_by_conversation(creating, new, dm_ctx)
    held = decide_home(second, home, dc_replace(dm_ctx, now=at(1)))
    assert not held.commands and held.state.dirty and held.state.requests[0].ticket_id == 42
    assert not home_due(held.state, at(2)) and home_due(held.state, at(DEBOUNCE_SECONDS + 0.1))
    tick = HomeTick(home.person, "T1", "U0ALICE", at(4))
    assert not decide_home(tick, held.state, dc_replace(dm_ctx, now=at(2))).commands  # not yet
    decision = decide_home(tick, held.state, dc_replace(dm_ctx, now=at(4)))
    [publish] = decision.commands
    assert publish.command_id.endswith(":2") and not decision.state.dirty
    assert not decide_home(tick, decision.state, dc_replace(dm_ctx, now=at(9))).commands  # nothing held back


def test_opening_the_home_tab_publishes_it_unless_it_is_fresh(dm_ctx):
    opened = HomeOpened(event_id="Ev1", team_id="T1", user="U0DAN")
    decision = decide_home(opened, None, dm_ctx)
    valid(decision)
    [publish] = decision.commands
    assert publish.user == "U0DAN" and "You have no open requests" in str(publish.view)
    assert publish.cause.event_id == "Ev1"
    assert not decide_home(opened, decision.state, dc_replace(dm_ctx, now=at(1))).commands
    assert decide_home(opened, decision.state, dc_replace(dm_ctx, now=at(60))).commands


def test_a_follow_or_unfollow_republishes_a_home_once_it_was_seen(dm_ctx):
    followed = (FollowedTicket(ticket_id=42, since=at(0), ticket_url="https://acme.zendesk.com/agent/tickets/42"),)
    changed = FollowsChanged("person:T1:U0DAN", "T1", "U0DAN", at(0))
    # Never opened: nothing to republish (the first visit shows the follows).
    assert not decide_home(changed, None, dm_ctx, followed).commands
    seen = decide_home(HomeOpened(event_id="Ev1", team_id="T1", user="U0DAN"), None, dm_ctx).state
    later = dc_replace(dm_ctx, now=at(60))
    decision = decide_home(changed, seen, later, followed)
    valid(decision)
    [publish] = decision.commands
    assert "<https://acme.zendesk.com/agent/tickets/42|#42>" in str(publish.view)
    assert publish.cause.event_id == f"follows:person:T1:U0DAN@{at(0)}"
    # And the unfollow: the list is empty again (held back while fresh, then published by the tick).
    held = decide_home(changed, decision.state, dc_replace(later, now=at(61)), ())
    assert not held.commands and held.state.dirty
    [after] = decide_home(
        HomeTick("person:T1:U0DAN", "T1", "U0DAN", at(99)), held.state, dc_replace(later, now=at(99)), ()
    ).commands
    assert "You follow no tickets" in str(after.view)


def test_a_channel_queue_tells_its_responders_homes_what_waits_longest(dm_ctx):
    bob = route(slack(message_body("C1", "100.000200", "Printer", "U0BOB")), None, dm_ctx).state
    _, queue_update = told_by_conversation(None, bob, dm_ctx)
    decision = decide_home(queue_update, None, dm_ctx)
    valid(decision)
    [snapshot] = decision.records
    assert isinstance(snapshot, QueueSnapshot) and snapshot.person == "person:T1:U0CAROL"
    assert snapshot.waiting == 1 and snapshot.items[0].conversation_id == bob.conversation_id
    # Carol's Home shows it, under its channel.
    carol = decide_home(snapshot, None, dm_ctx)
    [publish] = carol.commands
    assert "Waiting longest in your channels" in str(publish.view) and "<#C1>" in str(publish.view)
    # Dave answers in the thread: he answers in this channel now, and hears of its queue too;
    # Carol is told again only because what waits changed (Bob's request was answered).
    answered = msgspec.structs.replace(bob, responders=["U0DAVE"], waiting_since=None, updated_at=at(30))
    _, update = told_by_conversation(bob, answered, dm_ctx)
    decision = decide_home(update, decision.state, dc_replace(dm_ctx, now=at(30)))
    assert {r.user for r in decision.records} == {"U0CAROL", "U0DAVE"}
    assert all(r.waiting == 0 and r.items == () for r in decision.records)
    assert waiting(decision.state) == [] and decision.state.responders == ["U0CAROL", "U0DAVE"]
    # Carol's Home: nothing waits there any more.
    [carol_told] = [r for r in decision.records if r.user == "U0CAROL"]
    after = decide_home(carol_told, carol.state, dc_replace(dm_ctx, now=at(30)))
    assert after.state.queue == [] and "Waiting longest" not in str(after.commands[0].view)


def test_the_home_view_is_block_kit_slack_accepts_however_much_there_is():
    view = home_view((), (), ())
    assert view["type"] == "home" and [b["type"] for b in view["blocks"]][:2] == ["header", "context"]

    def item(n: int, channel: str) -> HomeItem:
        return HomeItem(
            conversation_id=f"T1:{channel}:{n}.0",
            channel_id=channel,
            channel_name=None,
            thread_ts=f"{n}.0",
            ticket_id=n,
            ticket_url=f"https://acme.zendesk.com/agent/tickets/{n}",
            status="open",
            requester="U0BOB",
            private=False,
            opened_at=at(n),
            waiting_since=at(n),
            updated_at=at(n),
        )

    many = [item(n, f"C{n % 30}") for n in range(200)]
    followed = [FollowedTicket(ticket_id=n + 1, since=f"2026-11-{n % 28 + 1:02d}T10:00:00Z") for n in range(300)]
    view = home_view(many, followed, many, {f"C{c}": 7 for c in range(30)})
    assert len(view["blocks"]) <= 100
    text = str(view)
    assert "and 190 more" in text and "and 290 more" in text and "and 22 more channels" in text and "7 waiting" in text

    # The newest request first; in the queues, the channel whose oldest waits longest first, and
    # in each channel the oldest first.
    sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert "|#199>" in sections[0]
    queue = sections[sections.index("*<#C0>*: 7 waiting") :]
    assert "|#0>" in queue[1] and "|#30>" in queue[2]


def test_the_home_lists_the_tickets_followed_latest_first_with_their_links():
    followed = [
        FollowedTicket(
            ticket_id=7, since="2026-11-20T10:00:00Z", ticket_url="https://acme.zendesk.com/agent/tickets/7"
        ),
        FollowedTicket(ticket_id=9, since="2026-11-23T10:00:00Z"),  # followed before links were kept
    ]
    view = home_view((), followed, ())
    texts = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert texts[0].startswith("*#9* · since <!date^")
    assert texts[1].startswith("<https://acme.zendesk.com/agent/tickets/7|#7> · since <!date^")
    assert "You follow no tickets" not in str(view)


def test_home_records_of_another_shape_are_poison():
    from threadline_common.dlq import PoisonMessage

    for bad in (
        b"not json",
        b'{"kind": "home_update"}',
        b'{"kind": "home_tick", "person": "T1:C1:1.1", "team_id": "T1", "user": "U1", "at": "x"}',
    ):
        with pytest.raises(PoisonMessage):
            decode_home(bad)


def test_a_homes_row_that_does_not_decode_costs_only_itself():

    from threadline_common.schemas import examples
    from threadline_router.table import BadRow, decode_home_row

    for example in examples("threadline.homes", 1):
        row = decode_home_row(example.path.read_bytes())
        assert isinstance(row, PersonHome | ChannelQueue)
    for bad in (b"", b"[]", b'{"kind": "person"}', b'{"kind": "robot", "schema_version": 1}'):
        with pytest.raises(BadRow):
            decode_home_row(bad)

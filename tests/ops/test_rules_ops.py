"""The router's rules for what threadline-ops sends: backfilled history, relink and unlink."""

import json

import msgspec
import pytest

from threadline_common.dlq import PoisonMessage
from threadline_common.schemas import validate
from threadline_router.conversation import Conversation
from threadline_router.inbound import (
    OperatorAction,
    SlackMessage,
    SyncResult,
    action_record,
    backfill_record,
    conversation_of,
    decode_ops,
    decode_slack,
)
from threadline_router.rules import Decision, command_type, reminder_due, route

pytestmark = pytest.mark.unit

ROOT = "1795984450.000001"
CID = f"T1:C1:{ROOT}"


def valid(decision: Decision) -> Decision:
    """What the router emits for ops records matches the contracts zendesk-sync reads."""
    for command in decision.commands:
        record = msgspec.to_builtins(command)
        validate("threadline.commands", record["schema_version"], record)
    if decision.state is not None:
        validate("threadline.links", 4, msgspec.to_builtins(decision.state))
    return decision


def history(*messages: dict, channel: str = "C1", explicit: bool = True) -> list[SlackMessage]:
    root = messages[0]["ts"]
    decoded = [decode_ops(backfill_record("T1", channel, root, m, explicit)) for m in messages]
    assert all(isinstance(m, SlackMessage) for m in decoded)
    return decoded  # type: ignore[return-value]


THREAD = [
    {"ts": ROOT, "user": "U0ALICE", "text": "VPN drops every hour", "reply_count": 3},
    {"ts": "1795984460.000002", "thread_ts": ROOT, "user": "U0BOB", "text": "help"},
    {"ts": "1795984470.000003", "thread_ts": ROOT, "user": "UBOT", "bot_id": "BBOT", "text": "I opened ticket"},
    {"ts": "1795984480.000004", "thread_ts": ROOT, "user": "U0ALICE", "text": "resolve"},
]


def replay(events, ctx, state=None):
    decisions = []
    for event in events:
        decision = valid(route(event, state, ctx))
        decisions.append(decision)
        state = decision.state
    return state, decisions


def test_a_backfilled_thread_is_one_ticket_and_every_reply_a_comment_in_order(ctx):
    state, decisions = replay(history(*THREAD), ctx)
    commands = [c for d in decisions for c in d.commands]
    assert [command_type(c) for c in commands] == [
        "zendesk.create_ticket",
        "zendesk.add_comment",
        "zendesk.add_comment",
    ]
    create, *comments = commands
    # The same ids as if the thread had been seen live: a later live event or a second backfill is a duplicate.
    assert create.command_id == f"create:{CID}" and create.external_id == CID
    assert [c.command_id for c in comments] == ["comment:C1:1795984460.000002", "comment:C1:1795984480.000004"]
    # History is text: `help` posts no help, `resolve` solves nothing, nothing reopens.
    assert [c.body for c in comments] == ["help", "resolve"]
    assert not any(c.reopen for c in comments)
    assert state.responders == ["U0BOB"] and state.requester_slack_id == "U0ALICE"
    assert state.created_at == "2026-11-29T20:34:10.000001Z"  # when it was asked, not now


def test_history_posts_no_out_of_hours_notice_and_starts_no_reminder_clock(ctx):
    live = decode_slack(
        {
            "kind": "event_callback",
            "team_id": "T1",
            "body": {"event": {"type": "message", "channel": "C1", "user": "U0ALICE", "text": "hi", "ts": ROOT}},
        }
    )
    assert [getattr(c, "text", "")[:7] for c in route(live, None, ctx).commands][1:] == ["We are "]
    [root] = history(THREAD[0])
    decision = route(root, None, ctx)
    assert [command_type(c) for c in decision.commands] == ["zendesk.create_ticket"]
    assert decision.state.waiting_since is None
    assert not reminder_due(decision.state, ctx.channels.rules_for("C1"), "2027-01-01T00:00:00Z")


def test_backfilling_twice_or_after_live_events_changes_nothing(ctx):
    state, _ = replay(history(*THREAD), ctx)
    state = route(SyncResult("ticket_created", CID, f"create:{CID}", ticket_id=7), state, ctx).state
    again, decisions = replay(history(*THREAD), ctx, state)
    assert [d.commands for d in decisions] == [[], [], [], []]
    assert again == state


def test_a_closed_ticket_gets_no_history_and_no_follow_up(ctx):
    state, _ = replay(history(*THREAD[:1]), ctx)
    closed = msgspec.structs.replace(state, status="closed", ticket_id=7)
    decision = route(history(*THREAD)[1], closed, ctx)
    assert decision.commands == [] and "closed" in decision.reason


def test_channel_rules_still_decide_which_past_messages_open_tickets(ctx):
    plain = {"ts": ROOT, "user": "U0ALICE", "text": "deploys are slow"}
    [by_range] = history(plain, channel="C2", explicit=False)
    assert route(by_range, None, ctx).state is None  # an emoji-only channel: chatter stays chatter
    wrong_person = {**plain, "reactions": [{"name": "ticket", "users": ["U0ALICE"], "count": 1}]}
    assert route(history(wrong_person, channel="C2", explicit=False)[0], None, ctx).state is None
    allowed = {**plain, "reactions": [{"name": "ticket", "users": ["U0SRE"], "count": 1}]}
    assert command_type(route(history(allowed, channel="C2", explicit=False)[0], None, ctx).commands[0]) == (
        "zendesk.create_ticket"
    )
    # Naming the thread is the operator's decision to open it.
    [named] = history(plain, channel="C2", explicit=True)
    assert command_type(route(named, None, ctx).commands[0]) == "zendesk.create_ticket"
    [elsewhere] = history(plain, channel="C9")
    assert route(elsewhere, None, ctx).reason == "channel not monitored"


def action(kind: str, **fields) -> OperatorAction:
    decoded = decode_ops(
        action_record(
            OperatorAction(
                kind=kind, action_id=fields.pop("action_id", "a1"), conversation_id=CID, by="ops-ann", at="t", **fields
            )
        )
    )
    assert isinstance(decoded, OperatorAction) and conversation_of(decoded) == CID
    return decoded


def linked(ctx, ticket_id: int = 7) -> Conversation:
    state, _ = replay(history(*THREAD[:2]), ctx)
    return route(
        SyncResult("ticket_created", CID, "c", ticket_id=ticket_id, ticket_url="https://z/7"), state, ctx
    ).state


def test_relink_points_the_thread_at_the_other_ticket_and_says_so_on_both_sides(ctx):
    state = linked(ctx)
    relink = action("relink", ticket_id=9, ticket_url="https://z/9", ticket_status="open")
    decision = valid(route(relink, state, ctx))
    assert decision.state.ticket_id == 9 and decision.state.ticket_url == "https://z/9"
    assert decision.state.previous_ticket_ids == [7]  # the old ticket's events stay out of the thread
    notice, note = decision.commands
    assert command_type(notice) == "slack.post_message" and notice.thread_ts == ROOT
    assert "ops-ann linked this thread to ticket <https://z/9|#9>" in notice.text
    assert "was linked to #7" in notice.text
    assert command_type(note) == "zendesk.add_comment" and note.ticket_id == 9 and not note.public
    # A redelivered record and a second relink to the same ticket change nothing.
    assert route(relink, decision.state, ctx).commands == []
    assert route(action("relink", action_id="a2", ticket_id=9), decision.state, ctx).commands == []


def test_relink_of_a_thread_without_ticket_creates_its_conversation(ctx):
    relink = action(
        "relink",
        team_id="T1",
        channel_id="C1",
        thread_ts=ROOT,
        ticket_id=9,
        ticket_status="pending",
        requester_slack_id="U0ALICE",
    )
    decision = valid(route(relink, None, ctx))
    assert decision.state.conversation_id == CID and decision.state.status == "pending"
    assert decision.state.requester_slack_id == "U0ALICE" and decision.state.waiting_since is None
    # A closed ticket gets no note (Zendesk refuses it); the thread is still told.
    closed = valid(
        route(
            action("relink", team_id="T1", channel_id="C1", thread_ts=ROOT, ticket_id=9, ticket_status="closed"),
            None,
            ctx,
        )
    )
    assert [command_type(c) for c in closed.commands] == ["slack.post_message"]
    assert route(action("relink", ticket_id=9), None, ctx).state is None  # no thread named, no row


def test_unlink_deletes_the_row_and_tells_both_sides(ctx):
    state = linked(ctx)
    decision = valid(route(action("unlink"), state, ctx))
    assert decision.unlink and decision.state is None
    notice, note = decision.commands
    assert "unlinked this thread from ticket <https://z/7|#7>" in notice.text
    assert note.ticket_id == 7 and "Unlinked" in note.body
    again = route(action("unlink"), None, ctx)
    assert not again.unlink and again.commands == [] and again.reason == "not linked"
    # After unlinking, the thread is like any thread without a ticket: replies stay in Slack.
    assert route(history(*THREAD[:2])[1], None, ctx).commands == []


@pytest.mark.parametrize(
    "record",
    [
        b"not json",
        json.dumps({"kind": "backfill_message", "team_id": "T1", "channel_id": "C1", "root_ts": ROOT}).encode(),
        json.dumps({"kind": "relink", "action_id": "a", "conversation_id": CID}).encode(),
        json.dumps({"kind": "unlink", "conversation_id": CID}).encode(),
        json.dumps(
            {"kind": "relink", "action_id": "a", "conversation_id": CID, "ticket_id": 1, "ticket_status": "gone"}
        ).encode(),
        json.dumps({"kind": "delete_everything"}).encode(),
    ],
)
def test_malformed_ops_records_are_poison(record):
    with pytest.raises(PoisonMessage):
        decode_ops(record)

"""A failure never feeds itself: the router's answers to failed and thread_gone results, played
against zendesk-sync's own result builder as the two services would play them on Kafka."""

from __future__ import annotations

import json

import msgspec
import pytest
from threadline_testing.records import message_body, slack_record, zendesk_record

from threadline_common.causality import MAX_CAUSAL_DEPTH, depth_header, depth_of, is_loop
from threadline_common.channels import parse_channels
from threadline_router.conversation import Conversation
from threadline_router.inbound import SyncResult, decode_result, decode_slack, decode_zendesk
from threadline_router.rules import Command, Context, command_type, reminder_due, route
from threadline_zendesk_sync.app import decode_command
from threadline_zendesk_sync.plan import outcomes

from .test_rules import assert_valid_output, created, opened

pytestmark = pytest.mark.unit


def record(command: Command) -> dict:
    return msgspec.to_builtins(command)


def failing(kind: str, command: Command, **fields) -> SyncResult:
    """What zendesk-sync reports when `command` fails as `kind`, decoded as the router reads it."""
    performed = decode_command(json.dumps(record(command)).encode())  # as zendesk-sync reads it
    return decode_result(msgspec.json.encode(outcomes.result(kind, performed, **fields)))


def play(first: list[Command], state: Conversation, ctx: Context, kind: str, rounds: int = 20):
    """zendesk-sync fails every command it is given as `kind`; the router answers each result.
    Returns the commands of each round and the largest record of each round."""
    rounds_out: list[list[Command]] = []
    sizes: list[int] = []
    pending = first
    for _ in range(rounds):
        if not pending:
            break
        rounds_out.append(pending)
        sizes.append(max(len(json.dumps(record(c))) for c in pending))
        answered: list[Command] = []
        for command in pending:
            decision = route(failing(kind, command, reason="Slack answered message_not_found"), state, ctx)
            assert_valid_output(decision)
            state = decision.state or state
            answered += decision.commands
        pending = answered
    return rounds_out, sizes, state


@pytest.mark.parametrize("kind", ["failed", "thread_gone"])
def test_a_chain_of_failures_ends_within_the_depth_limit_and_no_record_grows(ctx, kind):
    state, decisions = opened(ctx)
    [create] = decisions[0].commands
    rounds, sizes, _ = play([create], state, ctx, kind)
    assert len(rounds) <= MAX_CAUSAL_DEPTH, [c.command_id for r in rounds for c in r]
    assert max(sizes) <= sizes[0] + 64, sizes  # no record carries its ancestors
    assert all(not c.command_id.startswith("failed:failed:") for r in rounds for c in r)


def test_a_failed_ticket_is_told_once_and_the_failed_notice_is_not_answered(ctx):
    state, decisions = opened(ctx)
    [create] = decisions[0].commands
    failed = failing("failed", create, reason="Zendesk answered 422: requester is suspended")
    first = route(failed, state, ctx)
    [notice] = first.commands
    assert command_type(notice) == "slack.post_message" and notice.command_id == f"failed:{create.command_id}"
    assert "requester is suspended" in notice.text
    assert first.state is not None and first.state.status == "failed"
    # The same result again (a redelivery) says nothing more; the notice failing says nothing at all.
    assert route(failed, first.state, ctx).commands == []
    assert route(failing("failed", notice, reason="Slack answered thread_not_found"), first.state, ctx).commands == []


def test_a_v1_failed_result_about_a_notice_is_not_answered_either(ctx):
    state = created(opened(ctx)[0], ctx)
    v1 = SyncResult(kind="failed", conversation_id=state.conversation_id, command_id="failed:comment:C1:1.2")
    assert route(v1, state, ctx).commands == []


def test_a_thread_gone_is_recorded_and_told_to_the_ticket_once(ctx):
    state = created(opened(ctx)[0], ctx)
    gone = SyncResult(
        kind="thread_gone",
        conversation_id=state.conversation_id,
        command_id="oncall:42",
        command_type="oncall.notify",
        reason="Slack answered thread_not_found",
    )
    decision = route(gone, state, ctx)
    [note] = decision.commands
    assert command_type(note) == "zendesk.add_comment" and note.public is False
    assert note.ticket_id == 42 and "thread_not_found" in note.body
    assert decision.state is not None and decision.state.thread_gone_at is not None
    assert route(gone, decision.state, ctx).commands == []  # once


def test_nothing_is_said_into_a_gone_thread_until_someone_replies_in_it(ctx):
    state = created(opened(ctx)[0], ctx)
    gone = SyncResult(kind="thread_gone", conversation_id=state.conversation_id, command_id="c")
    state = route(gone, state, ctx).state
    assert state is not None

    def agent(comment_id: str):
        comment = {"id": comment_id, "body": "Try this", "is_public": True, "author": {"id": "7", "is_staff": True}}
        return decode_zendesk(zendesk_record("comment_added", 42, "T1:C1:100.000100", {"comment": comment}))

    answer = route(agent("501"), state, ctx)
    assert answer.commands == [] and [a.type for a in answer.activity] == ["comment"]  # counted, not posted
    # A reply shows the thread is there after all: answers reach it again.
    reply = decode_slack(slack_record(message_body("C1", "100.000300", "still broken", "U1", "100.000100")))
    assert reply is not None
    after = route(reply, answer.state or state, ctx)
    assert after.state is not None and after.state.thread_gone_at is None
    [post] = route(agent("502"), after.state, ctx).commands
    assert command_type(post) == "slack.post_message" and post.purpose == "agent_comment"


def test_no_reminder_is_due_in_a_gone_thread(ctx):
    channels = parse_channels({"channels": {"C1": {"name": "support", "reminders": {"after_minutes": 1}}}})
    state = created(opened(ctx)[0], ctx)
    rules = channels.rules_for("C1")
    late = "2099-01-01T00:00:00Z"
    assert reminder_due(state, rules, late)
    assert not reminder_due(msgspec.structs.replace(state, thread_gone_at="2026-11-30T09:00:00Z"), rules, late)


def test_causal_depth_headers():
    assert depth_of(None) == 0 and depth_of([]) == 0
    assert depth_of([depth_header(3)]) == 3
    assert depth_of({"threadline-causal-depth": b"2"}) == 2
    assert is_loop(depth_of([("threadline-causal-depth", b"garbage")]))  # cannot prove it is not a loop
    assert not is_loop(MAX_CAUSAL_DEPTH) and is_loop(MAX_CAUSAL_DEPTH + 1)

"""What crosses the bridge is counted once and where it happened: the comment webhook for
Threadline's own copy of a Slack reply is not a second message (whichever arrives first, the
webhook or zendesk-sync's result), and a status change carries the side and person that made it."""

import pytest
from router.test_rules import created, opened, run
from threadline_testing.records import message_body, slack_record, zendesk_record

from threadline_router.inbound import SyncResult
from threadline_router.rules import route

pytestmark = pytest.mark.unit

CID = "T1:C1:100.000100"


def _reply_copied(ctx):
    """The requester's reply in Slack, and the comment zendesk-sync wrote for it (id 700)."""
    state = created(opened(ctx)[0], ctx)
    reply = slack_record(message_body("C1", "100.000300", "it smokes now", "U2", "100.000100"))
    state, decisions = run([reply], ctx, state)
    [copy] = [c for d in decisions for c in d.commands]
    added = SyncResult(
        kind="comment_added", conversation_id=CID, command_id=copy.command_id, ticket_id=42, comment_id=700,
        schema_version=4,
    )  # fmt: skip
    webhook = zendesk_record(
        "comment_added",
        42,
        CID,
        {"comment": {"id": "700", "body": "it smokes now", "is_public": True,
                     "author": {"id": "7", "name": "Sam SRE", "is_staff": True}}},
    )  # fmt: skip
    return state, decisions, added, webhook


def test_the_copy_s_webhook_after_its_result_is_neither_counted_nor_posted(ctx):
    state, decisions, added, webhook = _reply_copied(ctx)
    assert [a.type for a in decisions[0].activity] == ["reply"]  # counted once, in Slack
    state = route(added, state, ctx).state
    _, [late] = run([webhook], ctx, state)
    assert late.activity == [] and late.commands == []


def test_the_copy_s_webhook_before_its_result_is_recounted_as_a_copy_in_the_same_document(ctx):
    state, _, added, webhook = _reply_copied(ctx)
    state, [early] = run([webhook], ctx, state)
    [counted] = early.activity
    assert counted.type == "comment" and counted.event_id == "zd-comment:700"
    recount = route(added, state, ctx)
    [copy] = recount.activity
    # Same event id and time: the reporter overwrites the comment's document with the copy.
    assert (copy.type, copy.event_id, copy.occurred_at) == ("copy", "zd-comment:700", counted.occurred_at)
    # A redelivered result changes nothing more.
    assert route(added, recount.state, ctx).activity == []


def test_an_agent_s_own_zendesk_comment_is_still_counted_and_posted(ctx):
    state, _, added, _ = _reply_copied(ctx)
    state = route(added, state, ctx).state
    other = zendesk_record(
        "comment_added", 42, CID,
        {"comment": {"id": "701", "body": "Unplug it", "is_public": True,
                     "author": {"id": "7", "name": "Sam SRE", "is_staff": True}}},
    )  # fmt: skip
    _, [decision] = run([other], ctx, state)
    assert [a.type for a in decision.activity] == ["comment"] and len(decision.commands) == 1


def _status(ticket_id, current, previous, event_id):
    record = zendesk_record("status_changed", ticket_id, CID, {"current": current, "previous": previous})
    record["body"]["id"] = record["event_id"] = event_id  # each change its own event
    return record


def test_a_solve_by_emoji_is_counted_as_slack_s_and_the_person_s(ctx):
    state = created(opened(ctx)[0], ctx)
    reaction = {
        "team_id": "T1",
        "event_id": "EvR1",
        "event": {
            "type": "reaction_added",
            "user": "U1",
            "reaction": "white_check_mark",
            "item": {"type": "message", "channel": "C1", "ts": "100.000100"},
        },
    }
    state, _ = run([slack_record(reaction)], ctx, state)
    state, [solved] = run([_status(42, "SOLVED", "OPEN", "ev-s1")], ctx, state)
    [change] = solved.activity
    assert (change.via, change.source, change.actor.id, change.actor.role) == (
        "slack_emoji",
        "slack",
        "U1",
        "requester",
    )
    # The requester's reply reopens it: counted as the reply's reopening.
    state, _ = run([slack_record(message_body("C1", "100.000600", "still broken", "U1", "100.000100"))], ctx, state)
    state, [reopened] = run([_status(42, "OPEN", "SOLVED", "ev-s2")], ctx, state)
    assert (reopened.activity[0].via, reopened.activity[0].actor.id) == ("slack_reply", "U1")
    # A solve nobody in Slack asked for was done in Zendesk.
    _, [in_zendesk] = run([_status(42, "SOLVED", "OPEN", "ev-s3")], ctx, state)
    change = in_zendesk.activity[0]
    assert (change.via, change.source, change.actor.id) == ("zendesk", "zendesk", None)


def test_a_typed_resolve_word_is_counted_as_a_slack_command(ctx):
    state = created(opened(ctx)[0], ctx)
    state, _ = run([slack_record(message_body("C1", "100.000500", "resolved", "U1", "100.000100"))], ctx, state)
    _, [solved] = run([_status(42, "SOLVED", "OPEN", "ev-s4")], ctx, state)
    assert solved.activity[0].via == "slack_command"

import json

import msgspec
import pytest
from threadline_testing.records import PAYLOADS, message_body, slack_record, zendesk_record

from threadline_common import from_slack
from threadline_common.dlq import PoisonMessage
from threadline_common.models.generated.commands_v4 import SlackPerson
from threadline_common.schemas import validate
from threadline_router.conversation import Conversation
from threadline_router.inbound import SyncResult, conversation_of, decode_result, decode_slack, decode_zendesk
from threadline_router.rules import Decision, command_type, route

pytestmark = pytest.mark.unit


def run(events, ctx, state=None) -> tuple[Conversation | None, list[Decision]]:
    decisions = []
    for raw in events:
        event = raw if isinstance(raw, SyncResult) else decode_slack(raw) if "team_id" in raw else decode_zendesk(raw)
        assert event is not None
        decision = route(event, state, ctx)
        assert_valid_output(decision)
        decisions.append(decision)
        state = decision.state
    return state, decisions


def assert_valid_output(decision: Decision) -> None:
    """Everything the router emits matches the contracts zendesk-sync and the reporter read."""
    for command in decision.commands:
        record = msgspec.to_builtins(command)
        record["issued_at"] = record["issued_at"] or "2026-11-23T10:00:00Z"  # a context without a clock
        validate("threadline.commands", record["schema_version"], record)
    for activity in (msgspec.to_builtins(a) for a in decision.activity):
        validate("threadline.activity", activity["schema_version"], activity)
    if decision.state is not None:
        validate("threadline.links", 4, msgspec.to_builtins(decision.state))


def commands(decisions):
    return [c for d in decisions for c in d.commands]


def opened(ctx, text="My printer is on fire\nsecond line"):
    state, decisions = run([slack_record(message_body("C1", "100.000100", text))], ctx)
    return state, decisions


def created(state, ctx, ticket_id=42):
    result = SyncResult(
        kind="ticket_created", conversation_id=state.conversation_id, command_id="c", ticket_id=ticket_id
    )
    return route(result, state, ctx).state


def test_top_level_message_opens_one_ticket_with_channel_routing(ctx):
    state, decisions = opened(ctx)
    [create] = commands(decisions)
    assert command_type(create) == "zendesk.create_ticket"
    assert create.conversation_id == "T1:C1:100.000100"
    assert create.external_id == "T1:C1:100.000100"
    assert create.subject == "My printer is on fire"
    assert create.body.startswith("My printer is on fire")
    assert create.group_id == 10 and create.priority == "normal"
    assert create.tags == ["slack"]
    assert create.requester == SlackPerson(slack_user_id="U1")
    assert state.status == "creating" and state.requester_slack_id == "U1"
    assert [a.type for a in decisions[0].activity] == ["message"]


def test_redelivered_top_level_message_opens_nothing_more(ctx):
    record = slack_record(message_body("C1", "100.000100", "help me"))
    _state, decisions = run([record, record, slack_record(message_body("C1", "100.000100", "help me"), "EvOther")], ctx)
    assert len(commands(decisions)) == 1


def test_replies_while_ticket_is_created_become_ordered_comments(ctx):
    state, _ = opened(ctx)
    replies = [slack_record(message_body("C1", f"100.00020{i}", f"reply {i}", "U2", "100.000100")) for i in range(3)]
    state, decisions = run(replies, ctx, state)
    cmds = commands(decisions)
    assert [command_type(c) for c in cmds] == ["zendesk.add_comment"] * 3
    assert [c.body for c in cmds] == ["reply 0", "reply 1", "reply 2"]
    # The ticket id is not known yet: zendesk-sync finds the ticket by external id.
    assert all(c.external_id == "T1:C1:100.000100" for c in cmds)
    assert len({c.command_id for c in cmds}) == 3
    assert state.responders == ["U2"]


def test_same_reply_twice_is_one_comment(ctx):
    state, _ = opened(ctx)
    reply = slack_record(message_body("C1", "100.000200", "more info", "U1", "100.000100"))
    _, decisions = run([reply, reply], ctx, state)
    assert len(commands(decisions)) == 1


def test_reply_in_unknown_thread_and_unmonitored_channel_do_nothing(ctx):
    state, decisions = run([slack_record(message_body("C1", "5.1", "hi", "U1", "4.1"))], ctx)
    assert state is None and not commands(decisions)
    state, decisions = run([slack_record(message_body("C9", "5.1", "hi"))], ctx)
    assert state is None and not commands(decisions)


def test_bot_messages_are_ignored_unless_allowed(ctx):
    own = message_body("C1", "7.1", "Ticket #42 opened", user="UBOT", bot_id="BBOT")
    other = message_body("C1", "7.2", "alert!", user=None, bot_id="BOTHER")
    _state, decisions = run([slack_record(own), slack_record(other)], ctx)
    assert not commands(decisions)
    allowed = type(ctx)(**{**ctx.__dict__, "allowed_bot_ids": frozenset({"BOTHER"})})
    _, decisions = run([slack_record(other)], allowed)
    assert [command_type(c) for c in commands(decisions)] == ["zendesk.create_ticket"]


def test_own_bot_reply_in_thread_is_not_a_comment(ctx):
    state, _ = opened(ctx)
    bot_reply = message_body("C1", "100.000300", "Ticket #42", user="UBOT", thread_ts="100.000100", bot_id="BBOT")
    _, decisions = run([slack_record(bot_reply)], ctx, state)
    assert not commands(decisions)


@pytest.mark.parametrize("word", ["resolve", "Resolved!", "  solved ", "done."])
def test_resolve_words_solve_the_ticket(ctx, word):
    state = created(opened(ctx)[0], ctx)
    _, decisions = run([slack_record(message_body("C1", "100.000400", word, "U1", "100.000100"))], ctx, state)
    [solve] = commands(decisions)
    assert command_type(solve) == "zendesk.set_status" and solve.status == "solved"
    assert solve.ticket_id == 42


def test_resolve_is_refused_for_people_not_allowed(ctx):
    state, _ = run([slack_record(message_body("C2", "1.1", "disk full", "U1"))], ctx)
    _, decisions = run([slack_record(message_body("C2", "1.2", "resolve", "U7", "1.1"))], ctx, state)
    [notice] = commands(decisions)
    assert command_type(notice) == "slack.post_message" and "only the requester" in notice.text


def test_check_mark_on_opening_message_solves(ctx):
    state = created(opened(ctx)[0], ctx)
    reaction = {
        "team_id": "T1",
        "event_id": "EvR1",
        "event": {
            "type": "reaction_added",
            "user": "U3",
            "reaction": "white_check_mark",
            "item": {"type": "message", "channel": "C1", "ts": "100.000100"},
        },
    }
    _, decisions = run([slack_record(reaction)], ctx, state)
    assert [getattr(c, "status", None) for c in commands(decisions)] == ["solved"]
    heart = json.loads(json.dumps(reaction))
    heart["event"]["reaction"] = "heart"
    heart["event_id"] = "EvR2"
    _, decisions = run([slack_record(heart)], ctx, state)
    assert not commands(decisions) and decisions[0].activity[0].reaction == "heart"


def test_help_lists_commands_without_making_a_comment(ctx):
    state, _ = opened(ctx)
    _, decisions = run([slack_record(message_body("C1", "100.000500", "help", "U1", "100.000100"))], ctx, state)
    [post] = commands(decisions)
    assert command_type(post) == "slack.post_message" and post.purpose == "help"
    assert "resolve" in post.text


def test_agent_public_comment_goes_to_thread_internal_note_never(ctx):
    state = created(opened(ctx)[0], ctx)
    public = zendesk_record(
        "comment_added",
        42,
        "T1:C1:100.000100",
        {
            "comment": {
                "id": "501",
                "body": "Try turning it off",
                "is_public": True,
                "author": {"id": "7", "name": "Agent Ann", "is_staff": True},
            }
        },
    )
    note = zendesk_record(
        "comment_added",
        42,
        "T1:C1:100.000100",
        {
            "comment": {
                "id": "502",
                "body": "customer is VIP",
                "is_public": False,
                "author": {"id": "7", "name": "Agent Ann", "is_staff": True},
            }
        },
    )
    _, decisions = run([public, note, public], ctx, state)
    cmds = commands(decisions)
    assert [c.purpose for c in cmds] == ["agent_comment"]
    assert cmds[0].text == "*Agent Ann* (Zendesk): Try turning it off"
    assert cmds[0].thread_ts == "100.000100"
    assert cmds[0].metadata.event_payload["comment_id"] == 501
    assert [a.type for a in decisions[1].activity] == ["internal_note"]
    assert decisions[1].activity[0].text is None


def test_comments_by_the_integration_user_do_not_loop(ctx):
    state = created(opened(ctx)[0], ctx)
    own = zendesk_record(
        "comment_added",
        42,
        "T1:C1:100.000100",
        {
            "comment": {
                "id": "503",
                "body": "reply 0",
                "is_public": True,
                "author": {"id": "999", "name": "Threadline", "is_staff": True},
            }
        },
    )
    _, decisions = run([own], ctx, state)
    assert not commands(decisions)


def test_solved_in_zendesk_notifies_then_reply_reopens_then_closed_reply_follows_up(ctx):
    state = created(opened(ctx)[0], ctx)
    solved = zendesk_record("status_changed", 42, "T1:C1:100.000100", {"current": "SOLVED", "previous": "OPEN"})
    state, decisions = run([solved], ctx, state)
    [notice] = commands(decisions)
    assert "solved" in notice.text and state.status == "solved"

    state, decisions = run(
        [slack_record(message_body("C1", "100.000600", "still broken", "U1", "100.000100"))], ctx, state
    )
    [comment] = commands(decisions)
    assert comment.reopen is True and state.status == "open"

    closed = zendesk_record("status_changed", 42, "T1:C1:100.000100", {"current": "CLOSED", "previous": "SOLVED"})
    state, _ = run([closed], ctx, state)
    state, decisions = run([slack_record(message_body("C1", "100.000700", "again!", "U1", "100.000100"))], ctx, state)
    [followup] = commands(decisions)
    assert command_type(followup) == "zendesk.create_followup"
    assert followup.via_followup_source_id == 42
    assert followup.external_id == "T1:C1:100.000100#2"
    assert state.previous_ticket_ids == [42] and state.status == "creating"
    # Events of the follow-up ticket find the same conversation; the old ticket's are ignored.
    followup_created = zendesk_record("created", 43, "T1:C1:100.000100#2", {})
    assert conversation_of(decode_zendesk(followup_created)) == "T1:C1:100.000100"
    state, _ = run([followup_created], ctx, state)
    assert state.ticket_id == 43
    late = zendesk_record("status_changed", 42, "T1:C1:100.000100", {"current": "CLOSED", "previous": "CLOSED"})
    _, decisions = run([late], ctx, state)
    assert not commands(decisions)


def test_closed_reply_in_notice_channel_only_says_so(ctx):
    state, _ = run([slack_record(message_body("C2", "1.1", "disk full", "U1"))], ctx)
    state = created(state, ctx, 50)
    closed = zendesk_record("status_changed", 50, "T1:C2:1.1", {"current": "CLOSED", "previous": "SOLVED"})
    state, _ = run([closed], ctx, state)
    _, decisions = run([slack_record(message_body("C2", "1.2", "hello?", "U1", "1.1"))], ctx, state)
    [notice] = commands(decisions)
    assert command_type(notice) == "slack.post_message" and "closed" in notice.text


# Event webhooks name the email channel "mail"; the REST API and legacy triggers say "email".
@pytest.mark.parametrize("via_channel", ["mail", "email"])
def test_email_ticket_opens_a_thread_and_comments_wait_for_it(ctx, via_channel):
    created_evt = zendesk_record(
        "created",
        77,
        None,
        {},
        via={"channel": via_channel},
        group_id="10",
        subject="VPN down",
        description="Since 9am",
    )
    state, decisions = run([created_evt], ctx)
    # Zendesk's own time, not the router's: a reply in the new thread never seems to precede the email.
    assert [a.occurred_at for a in decisions[0].activity] == ["2026-11-23T10:00:00Z"]
    [open_thread] = commands(decisions)
    assert command_type(open_thread) == "slack.open_thread" and open_thread.channel_id == "C1"
    assert state.conversation_id == "zd:77" and state.thread_ts is None
    early = zendesk_record(
        "comment_added",
        77,
        None,
        {
            "comment": {
                "id": "900",
                "body": "Looking",
                "is_public": True,
                "author": {"id": "7", "name": "Ann", "is_staff": True},
            }
        },
    )
    state, decisions = run([early], ctx, state)
    assert not commands(decisions) and len(state.pending_comments) == 1
    opened_result = SyncResult(
        kind="thread_opened",
        conversation_id="T1:C1:200.1",
        command_id="open-thread:77",
        ticket_id=77,
        team_id="T1",
        channel_id="C1",
        thread_ts="200.1",
        moved_from="zd:77",
    )
    moved = msgspec.structs.replace(opened_result, conversation_id="zd:77")
    state, decisions = run([moved], ctx, state)
    [flushed] = commands(decisions)
    assert flushed.purpose == "agent_comment" and flushed.thread_ts == "200.1"
    linked = route(msgspec.structs.replace(opened_result, moved_from=None), None, ctx).state
    assert linked.ticket_id == 77 and linked.thread_ts == "200.1"
    _, decisions = run([slack_record(message_body("C1", "200.2", "thanks", "U5", "200.1"))], ctx, linked)
    assert [c.ticket_id for c in commands(decisions)] == [77]


def test_email_ticket_in_unwatched_group_is_left_to_zendesk(ctx):
    evt = zendesk_record("created", 78, None, {}, via={"channel": "email"}, group_id="99")
    state, decisions = run([evt], ctx)
    assert state is None and not commands(decisions)


def test_edits_and_deletes_leave_private_notes(ctx):
    state = created(opened(ctx)[0], ctx)
    edit = {
        "team_id": "T1",
        "event_id": "EvE1",
        "event": {
            "type": "message",
            "subtype": "message_changed",
            "channel": "C1",
            "message": {
                "type": "message",
                "user": "U1",
                "text": "new text",
                "ts": "100.000100",
                "edited": {"user": "U1", "ts": "101.0"},
            },
            "previous_message": {"type": "message", "user": "U1", "text": "old text", "ts": "100.000100"},
        },
    }
    state, decisions = run([slack_record(edit), slack_record(edit)], ctx, state)
    [note] = commands(decisions)
    assert note.public is False and "new text" in note.body


def test_real_slack_payloads_decode(ctx):
    for path in sorted((PAYLOADS / "slack").glob("*.json")):
        body = json.loads(path.read_text())
        if body.get("type") != "event_callback":
            continue
        event = decode_slack(slack_record(body))
        if event is not None:
            route(event, None, ctx)  # never raises on real traffic


def test_garbage_is_a_poison_message():
    with pytest.raises(PoisonMessage):
        decode_slack(b"\xff\xfe not json")
    with pytest.raises(PoisonMessage):
        decode_slack({"kind": "event_callback", "body": {"no": "event"}})
    with pytest.raises(PoisonMessage):
        decode_zendesk(
            {
                "kind": "event_webhook",
                "body": {"type": "zen:event-type:ticket.created", "detail": {"id": "x"}},
            }
        )


def test_a_record_of_a_kind_no_contract_allows_is_poison_but_an_unhandled_zendesk_type_is_not():
    with pytest.raises(PoisonMessage, match="carrier_pigeon"):
        decode_slack({"schema_version": 1, "kind": "carrier_pigeon", "body": {}})
    with pytest.raises(PoisonMessage, match="teleported"):
        decode_result({"kind": "teleported", "conversation_id": "T1:C1:1.1", "command_id": "x"})
    with pytest.raises(PoisonMessage, match="fax"):
        decode_zendesk({"kind": "fax", "body": {}})
    with pytest.raises(PoisonMessage, match="slash_command without"):  # ingest stores whole forms
        decode_slack({"kind": "slash_command", "body": {"command": "/threadline"}})
    unhandled = {"kind": "event_webhook", "body": {"type": "zen:event-type:ticket.teleported", "detail": {"id": "1"}}}
    assert decode_zendesk(unhandled) is None  # Zendesk adds event types; one we do not handle is not an error


@pytest.mark.parametrize(
    ("text", "subject"),
    [
        ("Printer broken\nmore", "Printer broken"),
        ("<https://x.io|the site> is down", "the site is down"),
        ("", "Support request from Slack"),
        ("word " * 60, ("word " * 24).strip() + "…"),
    ],
)
def test_subject_from(text, subject):
    assert from_slack.subject(text, None) == subject

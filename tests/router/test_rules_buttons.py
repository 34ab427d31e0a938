"""Presses on the ticket confirmation's buttons, as pure rules: who may press follows the
channel's `who` rules exactly like the emoji, the confirmation is rewritten to show the new state,
and a double press or a Slack retry does one thing."""

from __future__ import annotations

import pytest
from threadline_testing.interactions import interaction_record, press
from threadline_testing.records import message_body, slack_record

from threadline_common import confirmation
from threadline_common.channels import parse_channels
from threadline_router.inbound import SyncResult, decode_slack
from threadline_router.rules import Context, command_type, route

from .test_rules import assert_valid_output

pytestmark = pytest.mark.unit

CID = "T1:C1:100.000100"
URL = "https://acme.zendesk.com/agent/tickets/42"


@pytest.fixture
def ctx() -> Context:
    channels = parse_channels(
        {
            "channels": {
                # Only the requester may solve; the requester and the people who replied may mark urgent.
                "C1": {
                    "name": "support",
                    "emoji": {
                        "resolve": {"names": ["white_check_mark"], "who": "requester"},
                        "urgent": {"names": ["rotating_light"], "who": "requester_and_responders"},
                    },
                },
            }
        }
    )
    return Context(channels=channels, bot_user_id="UBOT", bot_id="BBOT", now="2026-11-23T14:05:00Z")


def decide(record, state, ctx):
    event = decode_slack(record)
    assert event is not None
    decision = route(event, state, ctx)
    assert_valid_output(decision)
    return decision


@pytest.fixture
def ticket(ctx):
    """Alice's request in C1 with ticket #42; Bob replied in the thread."""
    state = decide(
        slack_record(message_body("C1", "100.000100", "My printer is on fire", user="UALICE")), None, ctx
    ).state
    result = SyncResult(kind="ticket_created", conversation_id=CID, command_id="c", ticket_id=42, ticket_url=URL)
    state = route(result, state, ctx).state
    reply = message_body("C1", "100.000300", "same here", user="UBOB", thread_ts="100.000100")
    return decide(slack_record(reply), state, ctx).state


def pressed(action, user, state, ctx, event_id):
    return decide(interaction_record(press(action, CID, user), event_id), state, ctx)


def types(decision):
    return [command_type(c) for c in decision.commands]


def test_resolve_by_the_requester_solves_and_the_confirmation_says_by_whom(ticket, ctx):
    decision = pressed(confirmation.RESOLVE, "UALICE", ticket, ctx, "Ev1")
    assert types(decision) == ["zendesk.set_status", "slack.update_message"]
    solve, update = decision.commands
    assert solve.status == "solved" and solve.ticket_id == 42 and solve.author.slack_user_id == "UALICE"
    assert (update.channel_id, update.ts) == ("C1", "100.000200")  # the message the button is on
    assert "Solved by <@UALICE>" in update.text
    [actions] = [b for b in update.blocks if b["type"] == "actions"]
    shown = [e.get("action_id") for e in actions["elements"]]
    assert confirmation.RESOLVE not in shown and confirmation.FOLLOW in shown


def test_a_press_by_someone_not_allowed_gets_one_ephemeral_line_and_nothing_changes(ticket, ctx):
    decision = pressed(confirmation.RESOLVE, "UCAROL", ticket, ctx, "Ev1")
    [answer] = decision.commands
    assert command_type(answer) == "slack.respond" and answer.user == "UCAROL"
    assert answer.response_type == "ephemeral" and answer.purpose == "refusal"
    assert answer.text == "You cannot solve this ticket: in this channel only the requester can solve this ticket."
    assert "\n" not in answer.text
    assert decision.state == ticket


def test_urgent_follows_the_urgent_emoji_who_rule(ticket, ctx):
    refused = pressed(confirmation.URGENT, "UCAROL", ticket, ctx, "Ev1")
    assert types(refused) == ["slack.respond"]
    assert "only the requester or the people who replied" in refused.commands[0].text
    decision = pressed(confirmation.URGENT, "UBOB", ticket, ctx, "Ev2")  # Bob replied: a responder
    assert types(decision) == ["zendesk.set_priority", "slack.update_message"]
    urgent, update = decision.commands
    assert urgent.priority == "urgent" and urgent.command_id == "urgent:C1:100.000100"  # the emoji's command
    assert "Urgent since <!date^" in update.text and "14:05 UTC" in update.text
    [actions] = [b for b in update.blocks if b["type"] == "actions"]
    assert confirmation.URGENT not in [e.get("action_id") for e in actions["elements"]]


def test_a_double_press_does_one_thing_and_a_slack_retry_nothing(ticket, ctx):
    first = pressed(confirmation.RESOLVE, "UALICE", ticket, ctx, "Ev1")
    retry = pressed(confirmation.RESOLVE, "UALICE", first.state, ctx, "Ev1")
    second = pressed(confirmation.RESOLVE, "UALICE", retry.state, ctx, "Ev2")
    assert retry.commands == []
    assert types(second) == ["slack.update_message"]  # no second solve; the same message again
    assert second.commands[0].text == first.commands[1].text
    again = pressed(confirmation.URGENT, "UBOB", second.state, ctx, "Ev3")
    assert "zendesk.set_priority" not in types(again)  # nothing left to mark on a solved ticket


def test_the_emoji_and_the_button_share_what_they_did(ticket, ctx):
    emoji = {
        "team_id": "T1",
        "type": "event_callback",
        "event_id": "EvEmoji",
        "event": {
            "type": "reaction_added",
            "user": "UALICE",
            "reaction": "rotating_light",
            "item_user": "UALICE",
            "item": {"type": "message", "channel": "C1", "ts": "100.000100"},
            "event_ts": "100.000400",
        },
    }
    state = decide(slack_record(emoji), ticket, ctx).state
    decision = pressed(confirmation.URGENT, "UALICE", state, ctx, "Ev1")
    assert types(decision) == ["slack.update_message"]
    assert "Urgent since" in decision.commands[0].text


def test_a_ticket_reopened_after_a_solve_can_be_solved_again(ticket, ctx):
    from msgspec.structs import replace

    state = pressed(confirmation.RESOLVE, "UALICE", ticket, ctx, "Ev1").state
    reopened = replace(state, status="open", waiting_since="2026-11-23T15:00:00Z")
    decision = pressed(confirmation.RESOLVE, "UALICE", reopened, ctx, "Ev2")
    assert types(decision) == ["zendesk.set_status", "slack.update_message"]


def test_assign_to_me_asks_zendesk_sync_with_the_presser_and_their_response_url(ticket, ctx):
    decision = pressed(confirmation.ASSIGN_ME, "UBOB", ticket, ctx, "Ev1")
    [assign] = decision.commands
    assert command_type(assign) == "zendesk.assign_to_slack_user"
    assert assign.slack_user_id == "UBOB" and assign.ticket_id == 42
    assert assign.response_url.startswith("https://hooks.slack.invalid/")
    again = pressed(confirmation.ASSIGN_ME, "UBOB", decision.state, ctx, "Ev2")
    assert again.commands[0].command_id == assign.command_id  # zendesk-sync finds it done


def test_presses_without_a_ticket_get_one_line(ctx):
    unknown = pressed(confirmation.RESOLVE, "UALICE", None, ctx, "Ev1")
    assert types(unknown) == ["slack.respond"] and "no longer knows" in unknown.commands[0].text
    creating = decide(slack_record(message_body("C1", "100.000100", "help")), None, ctx).state
    early = pressed(confirmation.RESOLVE, "UALICE", creating, ctx, "Ev2")
    assert types(early) == ["slack.respond"] and "still being created" in early.commands[0].text


def test_the_first_post_and_the_update_render_the_same_message(ticket, ctx):
    from threadline_router.rules import ticket_actions

    shown = ticket_actions.confirmation_of(ticket)
    first = confirmation.Confirmation(CID, 42, URL)
    assert shown == first
    assert confirmation.blocks(shown) == confirmation.blocks(first)
    assert {e.get("value") for b in confirmation.blocks(first) if b["type"] == "actions" for e in b["elements"]} == {
        CID,
        None,  # the link button
    }


def test_a_press_from_a_view_without_a_response_url_is_not_answered_with_a_broken_command(ctx):
    payload = press(confirmation.RESOLVE, CID, "UALICE")
    payload.pop("response_url")
    payload["container"] = {"type": "view", "view_id": "V1"}
    payload.pop("channel")
    payload.pop("message")
    decision = decide(interaction_record(payload, "Ev1"), None, ctx)
    assert decision.commands == []


def test_follow_is_left_to_the_following_rules(ticket, ctx):
    decision = pressed(confirmation.FOLLOW, "UBOB", ticket, ctx, "Ev1")
    assert decision.commands == [] and decision.state == ticket

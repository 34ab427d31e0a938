"""Message shortcuts and the ticket form modal, as pure rules: the shortcut opens the channel's
form (or answers with the thread's ticket), a submitted form opens the ticket with its fields,
`/support open` opens one on a thread zendesk-sync posts, and notes stay private."""

from __future__ import annotations

import json

import pytest
from threadline_testing.interactions import interaction_record, metadata, press, shortcut, submission
from threadline_testing.records import message_body, slack_record

from threadline_common import ticket_form
from threadline_common.channels import parse_channels
from threadline_common.models.generated.commands_v4 import CustomField
from threadline_router.inbound import SlashCommand, SyncResult, decode_slack
from threadline_router.rules import Context, command_type, route
from threadline_router.rules.forms import open_from_command

from .test_rules import assert_valid_output

pytestmark = pytest.mark.unit

CID = "T1:C1:100.000100"
URL = "https://acme.zendesk.com/agent/tickets/42"
FORM = [
    {"id": 360001, "label": "Region", "kind": "select", "options": ["emea", "amer"], "required": True},
    {"id": 360002, "label": "Seats", "kind": "number", "options": [], "required": False},
]


@pytest.fixture
def ctx() -> Context:
    channels = parse_channels(
        {
            "defaults": {"zendesk": {"tags": ["slack"]}},
            "channels": {
                "C1": {
                    "name": "support",
                    "auto_open": False,
                    "emoji": {"open": {"names": ["ticket"]}},
                    "zendesk": {"group_id": 10, "custom_fields": {360009: "slack"}, "form": FORM},
                },
            },
        }
    )
    return Context(channels=channels, bot_user_id="UBOT", bot_id="BBOT", now="2026-11-23T14:05:00Z")


def decide(record, state, ctx):
    event = decode_slack(record)
    assert event is not None
    decision = route(event, state, ctx)
    assert_valid_output(decision)
    return decision


def types(decision):
    return [command_type(c) for c in decision.commands]


def open_shortcut(ctx, user="UBOB", author="UALICE"):
    return decide(interaction_record(shortcut("threadline.open_ticket", user, author=author), "EvS1"), None, ctx)


def test_the_open_ticket_shortcut_shows_the_channels_form_prefilled_with_the_message(ctx):
    decision = open_shortcut(ctx)
    [opening] = decision.commands
    assert command_type(opening) == "slack.open_view" and opening.trigger_id == "trig-2"
    view = opening.view
    assert view["type"] == "modal" and view["callback_id"] == ticket_form.OPEN_TICKET
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert list(blocks) == ["subject", "description", "priority", "type", "field:360001", "field:360002"]
    assert blocks["subject"]["element"]["initial_value"] == "My printer is on fire"
    assert blocks["description"]["element"]["initial_value"] == "My printer is on fire"
    assert [o["value"] for o in blocks["field:360001"]["element"]["options"]] == ["emea", "amer"]
    assert blocks["field:360002"]["optional"] is True and blocks["field:360001"]["optional"] is False
    meta = metadata(view)
    assert meta["conversation"] == CID and meta["requester"] == "UALICE" and meta["ts"] == "100.000100"
    assert meta["form"] == FORM
    assert opening.retry_action["action_id"] == "threadline.open_form"
    assert opening.retry_action["value"].startswith(CID + "|")
    assert decision.state is None  # nothing exists until the form is submitted


def test_a_valid_form_opens_the_ticket_with_its_fields_for_the_messages_author(ctx):
    view = open_shortcut(ctx).commands[0].view
    filled = {"subject": "Printer on fire", "priority": "high", "type": "incident", "field:360001": "emea"}
    payload = submission(view, "UBOB", filled)
    assert ticket_form.problems(payload["view"]) == {}
    decision = decide(interaction_record(payload, "EvV1"), None, ctx)
    [create] = decision.commands
    assert command_type(create) == "zendesk.create_ticket"
    assert create.conversation_id == CID and create.slack_thread_ts == "100.000100"
    assert create.subject == "Printer on fire" and create.body == "My printer is on fire"
    assert (create.priority, create.ticket_type, create.group_id) == ("high", "incident", 10)
    assert create.custom_fields == [CustomField(id=360009, value="slack"), CustomField(id=360001, value="emea")]
    assert create.requester.slack_user_id == "UALICE" and create.opened_by == "UBOB"
    assert decision.state.status == "creating" and decision.state.requester_slack_id == "UALICE"
    # Submitted twice (or the thread got its ticket meanwhile): nothing more.
    again = decide(interaction_record(payload, "EvV2"), decision.state, ctx)
    assert again.commands == []


def test_the_shortcut_on_a_thread_with_a_ticket_answers_with_its_link(ctx):
    state = open_shortcut(ctx)
    view = state.commands[0].view
    created = decide(interaction_record(submission(view, "UALICE", {"field:360001": "amer"}), "EvV1"), None, ctx)
    result = SyncResult(kind="ticket_created", conversation_id=CID, command_id="c", ticket_id=42, ticket_url=URL)
    ticketed = route(result, created.state, ctx).state
    decision = decide(interaction_record(shortcut("threadline.open_ticket", "UBOB"), "EvS2"), ticketed, ctx)
    [answer] = decision.commands
    assert command_type(answer) == "slack.respond"
    assert answer.text == f"This thread already has ticket <{URL}|#42>." and answer.user == "UBOB"


def test_the_shortcut_in_a_channel_threadline_does_not_serve_says_so(ctx):
    decision = decide(interaction_record(shortcut("threadline.open_ticket", "UBOB", channel="C9"), "EvS1"), None, ctx)
    assert types(decision) == ["slack.respond"] and "does not serve this channel" in decision.commands[0].text


def ticket_row(ctx):
    """Alice's message in C1 opened as ticket #42 through the form."""
    view = open_shortcut(ctx, user="UALICE").commands[0].view
    state = decide(interaction_record(submission(view, "UALICE", {"field:360001": "amer"}), "EvV0"), None, ctx).state
    result = SyncResult(kind="ticket_created", conversation_id=CID, command_id="c", ticket_id=42, ticket_url=URL)
    return route(result, state, ctx).state


def test_add_as_internal_note_sends_a_private_comment_never_a_public_one(ctx):
    state = ticket_row(ctx)
    used = shortcut(
        "threadline.add_note", "UBOB", ts="100.000500", thread_ts="100.000100", author="UCAROL", text="db is down"
    )
    decision = decide(interaction_record(used, "EvN1"), state, ctx)
    note, answer = decision.commands
    assert command_type(note) == "zendesk.add_comment" and note.public is False
    assert note.ticket_id == 42 and note.slack_ts == "100.000500"
    assert note.body == "Added from Slack by UBOB (a message by UCAROL):\ndb is down"
    assert command_type(answer) == "slack.respond" and "internal note" in answer.text
    again = decide(interaction_record(used, "EvN2"), decision.state, ctx)
    assert types(again) == ["slack.respond"]  # already a note: said, not sent twice


def test_add_as_internal_note_without_a_ticket_is_one_line(ctx):
    used = shortcut("threadline.add_note", "UBOB", ts="300.000100")
    decision = decide(interaction_record(used, "EvN1"), None, ctx)
    assert types(decision) == ["slack.respond"] and decision.commands[0].text.startswith("This thread has no ticket")


def test_add_to_ticket_asks_which_ticket_then_copies_the_message_there(ctx):
    used = shortcut("threadline.add_to_ticket", "UBOB", channel="C7", ts="500.000100", author="UCAROL", text="same bug")
    [opening] = decide(interaction_record(used, "EvA1"), None, ctx).commands
    assert command_type(opening) == "slack.open_view" and opening.view["callback_id"] == ticket_form.ADD_TO_TICKET
    bad = submission(opening.view, "UBOB", {"ticket": "the printer one"})
    assert ticket_form.problems(bad["view"]) == {"ticket": "Give the ticket's number (e.g. 42) or its Zendesk link."}
    good = submission(opening.view, "UBOB", {"ticket": "#42"})
    [copy] = decide(interaction_record(good, "EvA2"), None, ctx).commands
    assert command_type(copy) == "zendesk.copy_message"
    assert (copy.ticket_id, copy.slack_channel_id, copy.slack_ts) == (42, "C7", "500.000100")
    assert copy.author.slack_user_id == "UCAROL" and copy.body == "same bug" and copy.user == "UBOB"


def slash(text: str) -> dict:
    return {
        "schema_version": 1,
        "kind": "slash_command",
        "event_id": "EvCmd1",
        "team_id": "T1",
        "body": {
            "team_id": "T1",
            "channel_id": "C1",
            "user_id": "UALICE",
            "user_name": "alice",
            "command": "/support",
            "text": text,
            "response_url": "https://hooks.slack.invalid/commands/T1/1",
            "trigger_id": "trig-cmd",
        },
    }


def test_support_open_shows_the_form_and_opens_the_ticket_on_the_thread_zendesk_sync_posts(ctx):
    event = decode_slack(slash("open VPN drops every hour"))
    assert isinstance(event, SlashCommand) and event.verb == "open"
    [opening] = open_from_command(event, None, ctx).commands
    assert command_type(opening) == "slack.open_view" and opening.response_url
    meta = metadata(opening.view)
    assert meta["conversation"] == "T1:C1:command:UALICE" and meta["origin"] == "command" and meta["ts"] is None
    filled = {"subject": "VPN drops every hour", "field:360001": "emea", "field:360002": "12"}
    decision = decide(interaction_record(submission(opening.view, "UALICE", filled), "EvV1"), None, ctx)
    [request] = decision.commands
    assert command_type(request) == "zendesk.open_request" and decision.state is None
    assert request.request_text == "<@UALICE> asks: *VPN drops every hour*"
    assert request.channel_id == "C1" and request.requester.slack_user_id == "UALICE"
    assert CustomField(id=360002, value="12") in request.custom_fields
    # zendesk-sync posted it at 700.000100 and created the ticket there.
    result = SyncResult(
        kind="ticket_created",
        conversation_id="T1:C1:700.000100",
        command_id=request.command_id,
        ticket_id=43,
        ticket_url=URL,
        team_id="T1",
        channel_id="C1",
        thread_ts="700.000100",
        moved_from="T1:C1:command:UALICE",
    )
    state = route(result, None, ctx).state
    assert state is not None
    assert (state.ticket_id, state.requester_slack_id, state.status) == (43, "UALICE", "new")
    reply = slack_record(message_body("C1", "700.000200", "more detail", user="UBOB", thread_ts="700.000100"))
    [comment] = decide(reply, state, ctx).commands
    assert command_type(comment) == "zendesk.add_comment" and comment.ticket_id == 43 and comment.public


def test_the_form_opens_again_from_the_button_offered_when_the_trigger_expired(ctx):
    [opening] = open_shortcut(ctx).commands
    retry = opening.retry_action
    pressed = press(retry["action_id"], retry["value"], "UBOB", trigger_id="trig-fresh")
    [again] = decide(interaction_record(pressed, "EvR1"), None, ctx).commands
    assert command_type(again) == "slack.open_view" and again.trigger_id == "trig-fresh"
    assert metadata(again.view) == metadata(opening.view)
    assert json.loads(retry["value"].split("|", 1)[1])["t"] == "My printer is on fire"

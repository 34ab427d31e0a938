"""What the router reads off Slack's interactive payloads, and which row decides each: a user's
command or click must reach the conversation it is about, and nothing else."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from threadline_common.dlq import PoisonMessage
from threadline_router.inbound import (
    BlockAction,
    HomeOpened,
    MessageShortcut,
    SlashCommand,
    ViewSubmission,
    conversation_of,
    decode_slack,
)
from threadline_router.inbound.interactions import thread_of, ticket_of

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures/real_payloads/slack/interactivity"
EXAMPLES = Path(__file__).resolve().parents[2] / "schemas/examples/threadline.slack.events/1"


def slash(text: str, **form: str) -> dict:
    body = dict(parse_qsl((PAYLOADS / "slash_command_form_body.txt").read_text().strip()))
    body.update(text=text, **form)
    return {"kind": "slash_command", "event_id": "ev-1", "team_id": body["team_id"], "body": body}


def interaction(payload: dict) -> dict:
    return {"kind": "interaction", "event_id": "ev-2", "team_id": "T111", "body": payload}


def block_actions(**action: str) -> dict:
    payload = json.loads((PAYLOADS / "block_actions_payload_decoded.json").read_text())
    payload["actions"][0].update(action)
    return payload


def test_a_real_slash_command_form_decodes_with_its_verb_and_reply_address():
    event = decode_slack(slash("Status #42"))
    assert isinstance(event, SlashCommand)
    assert (event.team_id, event.channel_id, event.user, event.command) == ("T111", "C111", "W111", "/hello-world")
    assert (event.verb, event.args, event.ticket_id) == ("status", ("#42",), 42)
    assert event.response_url == "https://hooks.slack.com/commands/T111/111/xxxxx"
    assert event.trigger_id == "111.111.xxx"
    assert conversation_of(event) == "ticket:42"


def test_each_command_goes_to_the_row_it_is_about():
    link = "<https://acme.slack.com/archives/C0SUPPORT/p1764583201000200?thread_ts=1764583200.000100&cid=C0SUPPORT>"
    assert conversation_of(decode_slack(slash(f"follow {link}"))) == "T111:C0SUPPORT:1764583200.000100"
    top_level = "https://acme.slack.com/archives/C0SUPPORT/p1764583200000100"
    assert conversation_of(decode_slack(slash(f"status {top_level}"))) == "T111:C0SUPPORT:1764583200.000100"
    assert conversation_of(decode_slack(slash("unfollow https://acme.zendesk.com/agent/tickets/77"))) == "ticket:77"
    assert conversation_of(decode_slack(slash("following"))) == "person:T111:W111"
    # Nothing to look up: the person's own key in that channel, never a thread's row.
    for text in ("", "help", "oncall", "open my laptop is on fire", "frobnicate 42"):
        assert conversation_of(decode_slack(slash(text))) == "T111:C111:command:W111", text
    # status without a ticket: no row to ask, answered from the command's own key.
    assert conversation_of(decode_slack(slash("status"))) == "T111:C111:command:W111"


@pytest.mark.parametrize(
    ("word", "ticket"),
    [
        ("42", 42),
        ("#42", 42),
        ("<https://acme.zendesk.com/agent/tickets/9|#9>", 9),
        ("https://acme.zendesk.com/hc/requests/31", 31),
        ("forty-two", None),
        ("4x2", None),
        ("", None),
    ],
)
def test_tickets_are_named_by_number_or_link(word, ticket):
    assert ticket_of(word) == ticket


def test_a_message_link_names_its_thread_root():
    assert thread_of("T1", "https://a.slack.com/archives/C1/p1700000000123456") == "T1:C1:1700000000.123456"
    assert thread_of("T1", "https://a.slack.com/archives/C1/p1700000001000000?thread_ts=1700000000.123456") == (
        "T1:C1:1700000000.123456"
    )
    assert thread_of("T1", "https://example.com/elsewhere") is None


def test_a_slash_command_without_a_person_is_poison():
    record = slash("help")
    del record["body"]["user_id"]
    with pytest.raises(PoisonMessage, match="user_id"):
        decode_slack(record)


def test_a_press_on_our_button_is_decided_by_the_row_its_value_names():
    event = decode_slack(interaction(block_actions(action_id="threadline.resolve", value="T111:C111:111.000")))
    assert isinstance(event, BlockAction)
    assert (event.action_id, event.user, event.channel_id, event.message_ts) == (
        "threadline.resolve",
        "W111",
        "C111",
        "111.222",
    )
    assert event.is_ephemeral and event.response_url and event.trigger_id == "111.222.valid"
    assert conversation_of(event) == "T111:C111:111.000"
    followed = decode_slack(interaction(block_actions(action_id="threadline.unfollow", value="ticket:42|U0CAROL")))
    assert conversation_of(followed) == "ticket:42"


def test_presses_that_are_not_ours_are_nothing_to_the_router():
    # A link button (Slack sends block_actions for those too) or another app's button.
    assert decode_slack(interaction(block_actions(action_id="a", value="click_me_123"))) is None
    assert decode_slack(json.loads((EXAMPLES / "interaction_block_actions.json").read_text())) is None


def test_our_button_without_a_value_is_poison():
    payload = block_actions(action_id="threadline.urgent")
    del payload["actions"][0]["value"]
    with pytest.raises(PoisonMessage, match="without a value"):
        decode_slack(interaction(payload))


def message_action(callback_id: str, thread_ts: str | None = None) -> dict:
    message = {"type": "message", "user": "U0ALICE", "ts": "1764583201.000200", "text": "the VPN is down"}
    if thread_ts:
        message["thread_ts"] = thread_ts
    return {
        "type": "message_action",
        "callback_id": callback_id,
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "response_url": "https://hooks.slack.com/app/T111/1/x",
        "team": {"id": "T111", "domain": "acme"},
        "channel": {"id": "C0SUPPORT", "name": "support"},
        "user": {"id": "U0BOB", "username": "bob", "team_id": "T111"},
        "message": message,
        "message_ts": message["ts"],
    }


def test_a_shortcut_belongs_to_the_thread_of_its_message():
    reply = decode_slack(interaction(message_action("threadline.add_note", thread_ts="1764583200.000100")))
    assert isinstance(reply, MessageShortcut)
    assert (reply.user, reply.message_user, reply.message_text) == ("U0BOB", "U0ALICE", "the VPN is down")
    assert conversation_of(reply) == "T111:C0SUPPORT:1764583200.000100"
    top = decode_slack(interaction(message_action("threadline.open_ticket")))
    assert conversation_of(top) == "T111:C0SUPPORT:1764583201.000200"
    assert decode_slack(interaction(message_action("someone_elses.shortcut"))) is None


def view_submission(metadata: str) -> dict:
    return {
        "type": "view_submission",
        "team": {"id": "T111"},
        "user": {"id": "U0BOB", "username": "bob"},
        "view": {
            "id": "V0001",
            "callback_id": "threadline.open_ticket",
            "private_metadata": metadata,
            "state": {
                "values": {
                    "subject": {"subject": {"type": "plain_text_input", "value": "VPN down"}},
                    "priority": {"priority": {"type": "static_select", "selected_option": {"value": "high"}}},
                    "tags": {"tags": {"type": "multi_static_select", "selected_options": [{"value": "vpn"}]}},
                    "empty": {"empty": {"type": "plain_text_input", "value": None}},
                }
            },
        },
    }


def test_a_submitted_modal_carries_its_values_and_goes_to_the_row_it_names():
    event = decode_slack(interaction(view_submission(json.dumps({"conversation": "T111:C0SUPPORT:1.2"}))))
    assert isinstance(event, ViewSubmission)
    assert event.values == {"subject": "VPN down", "priority": "high", "tags": ["vpn"], "empty": None}
    assert conversation_of(event) == "T111:C0SUPPORT:1.2"


@pytest.mark.parametrize("metadata", ["not json", "{}", '{"conversation": 7}', "[]"])
def test_a_modal_that_names_no_row_is_poison(metadata):
    with pytest.raises(PoisonMessage, match="private_metadata"):
        decode_slack(interaction(view_submission(metadata)))


def test_opening_the_home_tab_is_the_persons_row():
    record = {
        "kind": "event_callback",
        "event_id": "Ev1",
        "team_id": "T111",
        "body": {"team_id": "T111", "event": {"type": "app_home_opened", "user": "U0BOB", "tab": "home"}},
    }
    event = decode_slack(record)
    assert event == HomeOpened(event_id="Ev1", team_id="T111", user="U0BOB")
    assert conversation_of(event) == "person:T111:U0BOB"
    messages_tab = copy.deepcopy(record)
    messages_tab["body"]["event"]["tab"] = "messages"
    assert decode_slack(messages_tab) is None

import base64
import hashlib
import hmac
import json
import time

import pytest
from slack_sdk.signature import SignatureVerifier

from threadline_ingest.verify import (
    SignatureError,
    slack_channel_and_root,
    slack_teams,
    verify_legacy_token,
    verify_slack,
    verify_zendesk,
)

pytestmark = pytest.mark.unit
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def test_slack_signature_made_by_the_sdk_is_accepted_and_any_change_is_not(real_payloads):
    body = (real_payloads / "slack" / "interactivity" / "slash_command_form_body_signing_docs_example.txt").read_bytes()
    now = int(time.time())
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=str(now), body=body)
    verify_slack(SECRET, str(now), signature, body, now, 300)
    with pytest.raises(SignatureError, match="wrong"):
        verify_slack(SECRET, str(now), signature, body + b"&x=1", now, 300)
    with pytest.raises(SignatureError, match="wrong"):
        verify_slack("another-secret", str(now), signature, body, now, 300)
    with pytest.raises(SignatureError, match="stale"):
        verify_slack(SECRET, str(now), signature, body, now + 301, 300)
    with pytest.raises(SignatureError, match="missing"):
        verify_slack(SECRET, None, signature, body, now, 300)


def test_slack_docs_signing_example():
    # The example in Slack's "Verifying requests" documentation.
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    verify_slack(SECRET, "1531420618", signature, body, 1531420618, 300)


def test_zendesk_signature():
    body = b'{"type":"zen:event-type:ticket.created","id":"e1"}'
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    sig = base64.b64encode(hmac.new(b"zsecret", ts.encode() + body, hashlib.sha256).digest()).decode()
    now = time.time()
    verify_zendesk("zsecret", ts, sig, body, now, 300)
    with pytest.raises(SignatureError):
        verify_zendesk("zsecret", ts, sig, body.replace(b"e1", b"e2"), now, 300)
    with pytest.raises(SignatureError, match="stale"):
        verify_zendesk("zsecret", ts, sig, body, now + 600, 300)
    with pytest.raises(SignatureError):
        verify_zendesk("zsecret", "not a time", sig, body, now, 300)


def test_legacy_token(real_payloads):
    folder = real_payloads / "zendesk" / "trigger_webhooks"
    ok = json.loads((folder / "zenslackchat_comment_webhook_body_ok_path_test.json").read_text())
    verify_legacy_token(ok["token"], ok)
    for bad in ("zenslackchat_webhook_body_missing_token_test.json", "zenslackchat_webhook_body_wrong_token_test.json"):
        with pytest.raises(SignatureError):
            verify_legacy_token(ok["token"], json.loads((folder / bad).read_text()))


ROOTS = {
    "message_channel_top_level_with_blocks.json": lambda e: e["ts"],
    "message_thread_reply_in_channel.json": lambda e: e["thread_ts"],
    "reaction_added_channel_message_item.json": lambda e: e["item"]["ts"],
    # The fixture's edited message lacks its ts (real Slack sends it); the previous one has it.
    "message_changed.json": lambda e: e["previous_message"]["ts"],
    "message_deleted.json": lambda e: e["deleted_ts"],
}


@pytest.mark.parametrize("name", sorted(ROOTS))
def test_every_event_of_a_thread_gets_the_threads_key(real_payloads, name):
    body = json.loads((real_payloads / "slack" / name).read_text())
    event = body["event"]
    assert slack_channel_and_root(body) == (event.get("channel") or event["item"]["channel"], ROOTS[name](event))


def test_events_without_a_channel_have_no_thread_key(real_payloads):
    body = json.loads((real_payloads / "slack" / "app_uninstalled.json").read_text())
    assert slack_channel_and_root(body) == (None, None)


def test_slack_connect_event_speaks_for_the_installing_workspace_too(real_payloads):
    body = json.loads((real_payloads / "slack" / "message_slack_connect_external_shared_channel.json").read_text())
    teams = slack_teams(body)
    assert body["team_id"] in teams
    assert {a["team_id"] for a in body["authorizations"] if a.get("team_id")} <= teams

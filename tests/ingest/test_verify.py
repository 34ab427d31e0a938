"""Who may talk to ingest: Slack and Zendesk signatures, the legacy token, Authorization headers."""

import base64
import json
import time

import pytest
from slack_sdk.signature import SignatureVerifier

from threadline_ingest.verify import (
    SignatureError,
    verify_authorization,
    verify_legacy_token,
    verify_slack,
    verify_zendesk,
    zendesk_signature,
)

pytestmark = pytest.mark.unit
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def test_a_request_signed_by_the_slack_sdk_is_accepted_and_any_change_is_not(real_payloads):
    body = (real_payloads / "slack" / "interactivity" / "slash_command_form_body_signing_docs_example.txt").read_bytes()
    now = int(time.time())
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=str(now), body=body)
    verify_slack(SECRET, str(now), signature, body, now, 300)
    with pytest.raises(SignatureError, match="wrong"):
        verify_slack(SECRET, str(now), signature, body + b"&x=1", now, 300)
    with pytest.raises(SignatureError, match="wrong"):
        verify_slack("another-secret", str(now), signature, body, now, 300)
    with pytest.raises(SignatureError, match="wrong"):  # the timestamp is signed too
        verify_slack(SECRET, str(now - 1), signature, body, now, 300)
    with pytest.raises(SignatureError, match="wrong"):
        verify_slack(SECRET, str(now), signature.upper(), body, now, 300)


@pytest.mark.parametrize(
    ("timestamp", "signature", "message"),
    [
        (None, "v0=abc", "missing"),
        ("1531420618", None, "missing"),
        ("", "v0=abc", "missing"),
        ("12a", "v0=abc", "bad"),
        ("-5", "v0=abc", "bad"),
        ("١٥٣١٤٢٠٦١٨", "v0=abc", "bad"),  # Arabic-Indic digits: int() would take them
    ],
)
def test_slack_headers_that_cannot_be_right(timestamp, signature, message):
    with pytest.raises(SignatureError, match=message):
        verify_slack(SECRET, timestamp, signature, b"{}", 1531420618, 300)


def test_slack_requests_older_or_newer_than_five_minutes_are_stale():
    body = b'{"type":"event_callback"}'
    ts = 1_700_000_000
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=str(ts), body=body)
    verify_slack(SECRET, str(ts), signature, body, ts + 300, 300)
    with pytest.raises(SignatureError, match="stale"):
        verify_slack(SECRET, str(ts), signature, body, ts + 6 * 60, 300)
    with pytest.raises(SignatureError, match="stale"):
        verify_slack(SECRET, str(ts), signature, body, ts - 6 * 60, 300)


def test_slack_docs_signing_example():
    # The example of Slack's "Verifying requests from Slack" documentation.
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    verify_slack(SECRET, "1531420618", signature, body, 1531420618, 300)


def _zendesk_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def test_zendesk_signature_over_timestamp_and_body():
    body = b'{"type":"zen:event-type:ticket.created","id":"e1"}'
    ts = _zendesk_now()
    sig = zendesk_signature("zsecret", ts, body)
    now = time.time()
    verify_zendesk("zsecret", ts, sig, body, now, 300)
    with pytest.raises(SignatureError, match="wrong"):
        verify_zendesk("zsecret", ts, sig, body.replace(b"e1", b"e2"), now, 300)
    with pytest.raises(SignatureError, match="wrong"):
        verify_zendesk("other", ts, sig, body, now, 300)
    with pytest.raises(SignatureError, match="stale"):
        verify_zendesk("zsecret", ts, sig, body, now + 600, 300)
    with pytest.raises(SignatureError, match="missing"):
        verify_zendesk("zsecret", None, sig, body, now, 300)


@pytest.mark.parametrize("timestamp", ["not a time", "0001-01-01T00:00:00+01:00x", "2024-13-40T00:00:00Z"])
def test_zendesk_timestamps_that_are_not_rfc3339_are_refused(timestamp):
    with pytest.raises(SignatureError):
        verify_zendesk("zsecret", timestamp, "c2ln", b"{}", time.time(), 300)


def test_zendesk_signature_matches_the_documented_algorithm():
    # base64(HMACSHA256(TIMESTAMP + BODY)), as in Zendesk's "Verifying webhook authenticity".
    import hashlib
    import hmac

    ts, body = "2021-07-27T18:51:07Z", b'{"ticket_id":"1"}'
    expected = base64.b64encode(hmac.new(b"s3cr3t", ts.encode() + body, hashlib.sha256).digest()).decode()
    assert zendesk_signature("s3cr3t", ts, body) == expected


def test_legacy_token(real_payloads):
    folder = real_payloads / "zendesk" / "trigger_webhooks"
    ok = json.loads((folder / "zenslackchat_comment_webhook_body_ok_path_test.json").read_text())
    verify_legacy_token(ok["token"], ok)
    for bad in ("zenslackchat_webhook_body_missing_token_test.json", "zenslackchat_webhook_body_wrong_token_test.json"):
        with pytest.raises(SignatureError):
            verify_legacy_token(ok["token"], json.loads((folder / bad).read_text()))
    with pytest.raises(SignatureError):
        verify_legacy_token(ok["token"], {"token": 12345})


def test_authorization_header_basic_and_bearer():
    basic = ("zendesk", "pa:ss")
    good_basic = "Basic " + base64.b64encode(b"zendesk:pa:ss").decode()
    verify_authorization(good_basic, basic=basic)
    verify_authorization("Bearer tok-123", bearer="tok-123")
    verify_authorization("bearer  tok-123 ", bearer="tok-123")
    for header in (
        None,
        "",
        "Basic " + base64.b64encode(b"zendesk:wrong").decode(),
        "Basic not-base64!",
        "Bearer tok-124",
        "Digest tok-123",
    ):
        with pytest.raises(SignatureError):
            verify_authorization(header, basic=basic, bearer="tok-123")
    with pytest.raises(SignatureError):  # bearer not configured: a bearer header proves nothing
        verify_authorization("Bearer tok-123", basic=basic)

"""The bytes ingest publishes: the contract's structs encoded by msgspec carry the same JSON as the
json.dumps of the same record did, for every real payload and for the text json.dumps escapes."""

import json
from pathlib import Path

import msgspec
import pytest

from threadline_common.schemas import validate
from threadline_ingest.records import encode, received_at
from threadline_ingest.slack import Accept, slack_record
from threadline_ingest.zendesk import kind_of, zendesk_record

pytestmark = pytest.mark.unit

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "real_payloads"
ACCEPTED = Accept(team_id="T1", key="T1:C1:1.1", conversation_key="T1:C1:1.1")


def as_json_dumps_wrote_it(record) -> bytes:
    return json.dumps(msgspec.to_builtins(record), separators=(",", ":")).encode()


def slack(body: dict):
    return slack_record(kind="event_callback", body=body, event_id="Ev1", accepted=ACCEPTED, now=1.5, source="http")


@pytest.mark.parametrize("path", sorted(PAYLOADS.glob("slack/*.json")), ids=lambda p: p.name)
def test_every_real_slack_body_is_published_as_the_same_json(path):
    record = slack(json.loads(path.read_text()))
    wire = encode(record)
    assert json.loads(wire) == json.loads(as_json_dumps_wrote_it(record))
    if record.body.get("type") == "event_callback":
        validate("threadline.slack.events", 1, json.loads(wire))


@pytest.mark.parametrize("path", sorted(PAYLOADS.glob("zendesk/trigger_webhooks/*.json")), ids=lambda p: p.name)
def test_every_real_zendesk_body_is_published_as_the_same_json(path):
    raw = path.read_bytes()
    body = json.loads(raw)
    record = zendesk_record(kind=kind_of(body), body=body, raw=raw, webhook_id=None, now=1.5)
    wire = encode(record)
    assert json.loads(wire) == json.loads(as_json_dumps_wrote_it(record))
    validate("threadline.zendesk.events", 1, json.loads(wire))


def test_fields_keep_their_order_and_text_its_content():
    body = {"event": {"type": "message", "text": 'é 🔥 "q" \\ \n \u2028 \x00 \x7f'}, "n": 12345678901234567890123}
    record = slack(body)
    wire = encode(record)
    assert list(json.loads(wire)) == list(json.loads(as_json_dumps_wrote_it(record)))
    assert json.loads(wire) == json.loads(as_json_dumps_wrote_it(record))
    assert json.loads(wire)["body"] == body


def test_a_lone_surrogate_is_escaped_as_it_came():
    body = json.loads('{"event": {"type": "message", "text": "half \\ud83d of an emoji"}}')
    record = slack(body)
    assert encode(record) == as_json_dumps_wrote_it(record)
    assert json.loads(encode(record))["body"] == body


def test_received_at_is_rfc3339_utc_to_the_millisecond():
    assert received_at(1_700_000_000.123) == "2023-11-14T22:13:20.123Z"
    assert received_at(0) == "1970-01-01T00:00:00.000Z"

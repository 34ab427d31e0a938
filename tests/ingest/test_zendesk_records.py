"""Zendesk bodies into threadline.zendesk.events records; request bodies that are not what they claim."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from threadline_common.schemas import validate
from threadline_ingest.bodies import BadRequest, parse_form, parse_json
from threadline_ingest.records import encode
from threadline_ingest.zendesk import check_event_webhook, kind_of, record_key, ticket_of, zendesk_record

pytestmark = pytest.mark.unit


def on_the_wire(record) -> dict:
    return json.loads(encode(record))


TRIGGERS = Path(__file__).resolve().parents[1] / "fixtures" / "real_payloads" / "zendesk" / "trigger_webhooks"

COMMENT_ADDED = {
    "account_id": 22129848,
    "detail": {"id": "4017", "external_id": "T1:C1:1.1", "status": "OPEN", "via": {"channel": "web"}},
    "event": {"comment": {"id": "9", "body": "hi", "is_public": True, "author": {"id": "7", "is_staff": True}}},
    "id": "cbe4028c-7239-495d-b020-f22348516046",
    "subject": "zen:ticket:4017",
    "time": "2026-11-23T10:00:00.000000000Z",
    "type": "zen:event-type:ticket.comment_added",
    "zendesk_event_version": "2022-11-06",
}


def test_an_event_webhook_is_keyed_and_identified_by_its_ticket_and_event():
    raw = json.dumps(COMMENT_ADDED).encode()
    assert kind_of(COMMENT_ADDED) == "event_webhook"
    check_event_webhook(COMMENT_ADDED)
    record = on_the_wire(zendesk_record(kind="event_webhook", body=COMMENT_ADDED, raw=raw, webhook_id="01HW", now=0.5))
    validate("threadline.zendesk.events", 1, record)
    assert (record["ticket_id"], record["event_id"], record["webhook_id"]) == ("4017", COMMENT_ADDED["id"], "01HW")
    assert record_key("event_webhook", COMMENT_ADDED, record["ticket_id"]) == "4017"
    assert record["received_at"] == "1970-01-01T00:00:00.500Z"


def test_events_about_users_are_not_about_a_ticket_but_keep_their_order():
    user_event = {
        **COMMENT_ADDED,
        "detail": {"id": "42", "email": "a@example.com"},
        "subject": "zen:user:42",
        "type": "zen:event-type:user.email_changed",
    }
    check_event_webhook(user_event)
    assert ticket_of("event_webhook", user_event) is None
    assert record_key("event_webhook", user_event, None) == "zen:user:42"


@pytest.mark.parametrize("missing", ["account_id", "detail", "event", "id", "subject", "time", "zendesk_event_version"])
def test_an_event_webhook_without_its_fields_is_a_bad_request(missing):
    body = {k: v for k, v in COMMENT_ADDED.items() if k != missing}
    with pytest.raises(BadRequest, match=missing):
        check_event_webhook(body)


@pytest.mark.parametrize(
    ("name", "ticket"),
    [
        ("zenslackchat_comment_webhook_body_ok_path_test.json", "1430"),
        ("zenslackchat_email_webhook_body_ok_path_test.json", "32"),
        ("zenslackchat_comment_trigger_body_rendered_test.json", "1430"),
        # Unrendered templates: a placeholder is not a ticket id.
        ("zenslackchat_comment_trigger_body_template.json", None),
        ("zenslackchat_email_trigger_body_template.json", None),
    ],
)
def test_legacy_trigger_bodies_keep_everything_but_the_token(name, ticket):
    raw = (TRIGGERS / name).read_bytes()
    body = parse_json(raw)
    assert kind_of(body) == "legacy_trigger"
    record = on_the_wire(zendesk_record(kind="legacy_trigger", body=body, raw=raw, webhook_id=None, now=0))
    validate("threadline.zendesk.events", 1, record)
    assert record["ticket_id"] == ticket
    assert "token" not in record["body"]
    assert record["body"] == {k: v for k, v in body.items() if k != "token"}
    assert len(record["event_id"]) == 64  # sha256 of the raw body: a redelivery has the same id


def test_two_firings_of_a_trigger_are_two_events_even_when_their_bodies_are_the_same():
    raw = (TRIGGERS / "zenslackchat_email_trigger_body_template.json").read_bytes()
    body = parse_json(raw)

    def event_id(invocation: str | None) -> str:
        return zendesk_record(
            kind="legacy_trigger", body=body, raw=raw, webhook_id="W", now=0, invocation_id=invocation
        ).event_id

    assert event_id("8350205582") != event_id("8350205583")
    assert event_id("8350205582") == event_id("8350205582")  # Zendesk's retry of one firing
    assert event_id(None) == event_id("") == event_id(None)


def test_a_liquid_template_that_renders_a_comment_raw_is_not_json():
    template = (TRIGGERS / "zensync_trigger_body_template.liquid.txt").read_text()
    with pytest.raises(BadRequest):
        parse_json(template.encode())
    # Rendered with a comment that holds a quote and a newline, as Zendesk would insert it.
    rendered = (
        template.replace("{{ticket.latest_public_comment}}", 'He said "stop"\nthen left')
        .replace("{% for attachment in ticket.latest_public_comment.attachments %}", "")
        .replace("{% endfor %}", "")
    )
    with pytest.raises(BadRequest):
        parse_json(rendered.encode())


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"[1, 2]",
        b'"text"',
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b"[" * 100_000,
        b'{"a": "\xff"}',
        b'{"a": 1',
        b'{"a": 1e400}',
    ],
)
def test_anything_but_a_json_object_is_a_bad_request(raw):
    with pytest.raises(BadRequest):
        parse_json(raw)


def test_forms_keep_empty_fields_and_refuse_what_is_not_a_form():
    assert parse_form(b"command=%2Fsupport&text=&team_id=T1") == {"command": "/support", "text": "", "team_id": "T1"}
    assert parse_form(b"payload=%7B%22type%22%3A%22block_actions%22%7D")["payload"] == '{"type":"block_actions"}'
    for raw in (b"text=\xff", b"text=%ff%fe", b"&".join([b"a=1"] * 2000)):
        with pytest.raises(BadRequest):
            parse_form(raw)


values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.just("zen:ticket:12"), st.just("42")
)
bodies = st.fixed_dictionaries(
    {},
    optional={
        "type": st.one_of(values, st.sampled_from(["zen:event-type:ticket.created", "zen:event-type:user.created"])),
        "account_id": values,
        "detail": st.one_of(values, st.fixed_dictionaries({}, optional={"id": values})),
        "event": st.one_of(values, st.just({})),
        "id": values,
        "subject": st.one_of(values, st.sampled_from(["zen:ticket:7", "zen:user:8", "zen:ticket:x"])),
        "time": values,
        "zendesk_event_version": values,
        "ticket_id": values,
        "token": values,
    },
)


@given(body=bodies)
@settings(max_examples=300, deadline=None)
def test_any_authenticated_zendesk_body_is_refused_or_becomes_a_record_of_the_contract(body):
    kind = kind_of(body)
    if kind == "event_webhook":
        try:
            check_event_webhook(body)
        except BadRequest:
            return
    raw = json.dumps(body).encode()
    record = on_the_wire(zendesk_record(kind=kind, body=body, raw=raw, webhook_id=None, now=0))
    validate("threadline.zendesk.events", 1, record)
    key = record_key(kind, body, record["ticket_id"])
    assert key == record["ticket_id"] or record["ticket_id"] is None

"""validate(): invalid records are rejected with the path and the rule that failed."""

from __future__ import annotations

import copy
import json

import pytest
from threadline_testing.records import PAYLOADS

from threadline_common.contracts import ContractError
from threadline_common.schemas import SchemaViolation, examples, validate

pytestmark = pytest.mark.unit


def example(topic: str, name: str) -> dict:
    return copy.deepcopy(next(e.payload for e in examples(topic, 1) if e.path.name == name))


def violation(topic: str, payload: object) -> SchemaViolation:
    with pytest.raises(SchemaViolation) as caught:
        validate(topic, 1, payload)
    return caught.value


def test_a_violation_names_topic_version_path_and_rule():
    record = example("threadline.slack.events", "message_thread_reply_in_channel.json")
    del record["body"]["event"]["type"]

    error = violation("threadline.slack.events", record)
    assert (error.topic, error.version, error.path) == ("threadline.slack.events", 1, "body/event")
    assert str(error) == "threadline.slack.events v1: at body/event: 'type' is a required property"


def test_an_events_api_body_without_an_event_is_rejected():
    # Ingest accepts envelopes without token/event_time (SDK fixtures omit them) but never one
    # without the event itself.
    body = json.loads((PAYLOADS / "slack" / "message_slack_connect_external_shared_channel.json").read_text())
    del body["event"]
    record = {**example("threadline.slack.events", "message_slack_connect_external_shared_channel.json"), "body": body}

    error = violation("threadline.slack.events", record)
    assert error.path == "body" and "is a required property" in error.message


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("kind", "block_suggestion", "kind"),
        ("received_at", "2026-11-23 10:00:00", "received_at"),  # not RFC 3339: no T, no offset
        ("received_at", "2026-02-30T10:00:00Z", "received_at"),  # no such day
        ("conversation_key", "T111:C111:None", "conversation_key"),  # a thread key without a ts
        ("retry_num", -1, "retry_num"),
        ("surprise", True, "(root)"),  # ingest metadata is closed; only the body is open
    ],
)
def test_slack_record_fields_are_checked(field, value, path):
    record = {**example("threadline.slack.events", "message_changed.json"), field: value}
    assert violation("threadline.slack.events", record).path == path


def test_the_slack_body_stays_open_to_fields_slack_adds():
    record = example("threadline.slack.events", "message_changed.json")
    record["body"]["event"]["brand_new_field"] = {"x": 1}
    record["body"]["brand_new_envelope_field"] = True
    validate("threadline.slack.events", 1, record)


def test_a_zendesk_event_webhook_must_look_like_zendesks():
    record = example("threadline.zendesk.events", "comment_added_public_agent.json")
    record["body"]["type"] = "ticket.comment_added"
    assert violation("threadline.zendesk.events", record).path == "body/type"

    record = example("threadline.zendesk.events", "comment_added_public_agent.json")
    del record["body"]["zendesk_event_version"]
    assert violation("threadline.zendesk.events", record).path == "body"

    record = example("threadline.zendesk.events", "comment_added_public_agent.json")
    assert violation("threadline.zendesk.events", {**record, "ticket_id": 4017}).path == "ticket_id"


def test_a_legacy_trigger_body_is_free_form():
    record = example("threadline.zendesk.events", "legacy_trigger_comment.json")
    validate("threadline.zendesk.events", 1, {**record, "body": {"anything": ["a trigger", "sends"]}})


def test_a_command_error_is_reported_inside_the_variant_its_type_names():
    command = example("threadline.commands", "03_zendesk_add_comment_while_creating.json")

    error = violation("threadline.commands", {**command, "ticket_id": "4017"})
    assert str(error) == "threadline.commands v1: at ticket_id: '4017' is not of type 'integer', 'null'"

    error = violation("threadline.commands", {**command, "cause": {"topic": "threadline.slack.events"}})
    assert (error.path, error.message) == ("cause", "'event_id' is a required property")

    error = violation("threadline.commands", {**command, "files": [{"id": "F1", "size": -1}]})
    assert error.path == "files/0/size"


def test_an_unknown_or_missing_command_type_lists_the_known_ones():
    command = example("threadline.commands", "06_zendesk_set_status_solved.json")

    error = violation("threadline.commands", {**command, "type": "zendesk.delete_ticket"})
    assert error.path == "type" and "'zendesk.set_status'" in error.message and "'slack.post_message'" in error.message

    del command["type"]
    error = violation("threadline.commands", command)
    assert error.path == "(root)" and error.message.startswith("'type' is a required property")


def test_commands_are_closed_and_fields_of_another_variant_are_refused():
    command = example("threadline.commands", "12_slack_add_reaction.json")
    error = violation("threadline.commands", {**command, "text": "a post_message field"})
    assert error.path == "(root)" and "'text' was unexpected" in error.message


def test_set_status_accepts_only_statuses_slack_may_set():
    command = example("threadline.commands", "06_zendesk_set_status_solved.json")
    assert violation("threadline.commands", {**command, "status": "closed"}).path == "status"


def test_links_and_activity_records_are_checked():
    state = example("threadline.links", "conversation_open.json")
    assert violation("threadline.links", {**state, "status": "archived"}).path == "status"
    assert violation("threadline.links", {**state, "seen": ["x"] * 501}).path == "seen"

    record = example("threadline.activity", "09_reaction.json")
    assert violation("threadline.activity", {**record, "actor": {"id": "U1", "role": "boss"}}).path == "actor/role"
    assert violation("threadline.activity", {**record, "occurred_at": "yesterday"}).path == "occurred_at"


def test_unknown_topics_and_versions_are_contract_errors():
    with pytest.raises(ContractError, match="unknown topic"):
        validate("threadline.nope", 1, {})
    with pytest.raises(ContractError, match="no schema version 9"):
        validate("threadline.commands", 9, {})
    with pytest.raises(ContractError, match="no JSON schema"):
        validate("threadline.commands.dlq", 1, {})

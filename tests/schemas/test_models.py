"""The generated models: in step with the schemas, and they read and write valid records."""

from __future__ import annotations

import msgspec
import pytest

from threadline_common.models import (
    TOPIC_MODELS,
    Command,
    CommandV2,
    EventsApiEnvelope,
    OnCallNotify,
    SlackEventRecord,
    SlackPostMessage,
    ZendeskAddComment,
    ZendeskCreateFollowup,
)
from threadline_common.schemas import default, validate
from threadline_common.schemas.codegen import GENERATED, generate, module_name

pytestmark = pytest.mark.unit

CONTRACTS = default()


def test_generated_models_match_the_schemas(tmp_path):
    generate(tmp_path)
    for topic, version in CONTRACTS.json_versions():
        name = f"{module_name(topic, version)}.py"
        committed = GENERATED / name
        assert committed.is_file(), f"{name} is missing: run `make models`"
        assert (tmp_path / name).read_text() == committed.read_text(), f"{name} is stale: run `make models`"


def test_every_json_topic_version_has_a_model():
    assert set(TOPIC_MODELS) == set(CONTRACTS.json_versions())


@pytest.mark.parametrize(("topic", "version"), CONTRACTS.json_versions())
def test_every_example_reads_into_its_model_and_writes_back_a_valid_record(topic, version):
    model = TOPIC_MODELS[(topic, version)]
    for example in CONTRACTS.examples(topic, version):
        record = msgspec.convert(example.payload, type=model)
        validate(topic, version, msgspec.to_builtins(record))
        # Encoding writes back what was read: absent optional fields stay absent (UNSET).
        assert msgspec.json.decode(msgspec.json.encode(record)) == msgspec.to_builtins(record)


def test_a_command_reads_as_the_variant_its_type_names():
    variants = {
        example.payload["type"]: type(msgspec.convert(example.payload, type=Command))
        for example in CONTRACTS.examples("threadline.commands", 1)
    }
    assert variants["zendesk.add_comment"] is ZendeskAddComment
    assert variants["zendesk.create_followup"] is ZendeskCreateFollowup
    assert variants["slack.post_message"] is SlackPostMessage
    v2 = {
        example.payload["type"]: type(msgspec.convert(example.payload, type=CommandV2))
        for example in CONTRACTS.examples("threadline.commands", 2)
    }
    assert v2["oncall.notify"] is OnCallNotify


def test_models_refuse_what_the_schema_refuses():
    example = next(e.payload for e in CONTRACTS.examples("threadline.commands", 1) if e.path.name.startswith("03_"))
    with pytest.raises(msgspec.ValidationError, match="command_id"):
        msgspec.convert({k: v for k, v in example.items() if k != "command_id"}, type=Command)
    with pytest.raises(msgspec.ValidationError, match="command_id"):
        msgspec.convert({**example, "command_id": ""}, type=Command)  # minLength 1
    with pytest.raises(msgspec.ValidationError, match="type"):
        msgspec.convert({**example, "type": "zendesk.delete_everything"}, type=Command)
    with pytest.raises(msgspec.ValidationError, match="schema_version"):
        msgspec.convert({**example, "schema_version": 9}, type=Command)


def test_the_events_api_envelope_has_its_own_model():
    example = next(
        e.payload for e in CONTRACTS.examples("threadline.slack.events", 1) if e.path.name == "message_changed.json"
    )
    record = msgspec.convert(example, type=SlackEventRecord)
    envelope = msgspec.convert(record.body, type=EventsApiEnvelope)
    assert (envelope.event.type, envelope.event_id) == ("message", example["body"]["event_id"])

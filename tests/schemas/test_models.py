"""The generated models: in step with the schemas, and they read and write valid records."""

from __future__ import annotations

import pydantic
import pytest

from threadline_common.models import (
    TOPIC_MODELS,
    Command,
    EventsApiEnvelope,
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
        record = model.model_validate(example.payload)
        validate(topic, version, record.model_dump(mode="json", exclude_unset=True))


def test_a_command_reads_as_the_variant_its_type_names():
    variants = {
        example.payload["type"]: type(Command.model_validate(example.payload).root)
        for example in CONTRACTS.examples("threadline.commands", 1)
    }
    assert variants["zendesk.add_comment"] is ZendeskAddComment
    assert variants["zendesk.create_followup"] is ZendeskCreateFollowup
    assert variants["slack.post_message"] is SlackPostMessage


def test_models_refuse_what_the_schema_refuses():
    example = next(e.payload for e in CONTRACTS.examples("threadline.commands", 1) if e.path.name.startswith("03_"))
    with pytest.raises(pydantic.ValidationError):
        Command.model_validate({**example, "unexpected": 1})
    with pytest.raises(pydantic.ValidationError):
        Command.model_validate({**example, "issued_at": "2026-11-23T10:00:00"})  # no offset


def test_the_events_api_envelope_has_its_own_model():
    example = next(
        e.payload for e in CONTRACTS.examples("threadline.slack.events", 1) if e.path.name == "message_changed.json"
    )
    record = SlackEventRecord.model_validate(example)
    envelope = EventsApiEnvelope.model_validate(record.body)
    assert (envelope.event.type, envelope.event_id) == ("message", example["body"]["event_id"])

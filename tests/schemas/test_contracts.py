"""Contracts: every example validates, published versions never change, models match schemas,
and every processor handles every example."""

from __future__ import annotations

import importlib
import json

import pytest

from threadline_common.channels import parse_channels
from threadline_common.contracts import load_topics, schemas_dir
from threadline_common.schemas import SchemaViolation, examples, json_topics, validate
from threadline_common.schemas.codegen import GENERATED, current_hashes, generate, lock_path, module_name
from threadline_router.inbound import decode_result, decode_slack, decode_zendesk
from threadline_router.rules import Context, route

pytestmark = pytest.mark.unit

JSON_TOPICS = json_topics()


def test_every_topic_contract_points_at_files_that_exist():
    for spec in load_topics():
        assert spec.partitions >= 1 and spec.config.get("cleanup.policy") in ("delete", "compact"), spec.name
        for version in spec.schemas:
            if version.type != "json":
                continue
            assert (schemas_dir() / "json" / version.resource).is_file(), spec.name
            found = list(examples(spec.name, version.version))
            assert found, f"{spec.name} v{version.version} has no example"


def test_every_input_topic_has_a_dead_letter_topic():
    names = {spec.name for spec in load_topics()}
    for topic in (
        "threadline.slack.events",
        "threadline.zendesk.events",
        "threadline.commands",
        "threadline.activity",
    ):
        assert f"{topic}.dlq" in names


@pytest.mark.parametrize(("topic", "version"), JSON_TOPICS)
def test_examples_validate_against_their_version_and_every_later_one(topic, version):
    spec = next(s for s in load_topics() if s.name == topic)
    later = [v.version for v in spec.schemas if v.version >= version and v.compatibility_mode == "backward"]
    for path, payload in examples(topic, version):
        for target in later or [version]:
            validate(topic, target, payload)  # raises with the path of the first violation
        assert path.suffix == ".json"


def test_a_violation_names_the_path_and_the_rule():
    _, payload = next(examples("threadline.commands", 1))
    broken = {**payload, "command_id": ""}
    with pytest.raises(SchemaViolation, match=r"at command_id: .* (is too short|should be non-empty)"):
        validate("threadline.commands", 1, broken)
    with pytest.raises(SchemaViolation, match="at kind"):
        validate("threadline.slack.events", 1, {**next(examples("threadline.slack.events", 1))[1], "kind": "x"})


def test_published_schema_versions_are_immutable():
    locked = json.loads(lock_path().read_text())
    for name, digest in current_hashes().items():
        assert name in locked, f"{name} is not recorded: run `python -m threadline_common.schemas.codegen --lock`"
        assert locked[name] == digest, (
            f"{name} changed after it was published; published versions are immutable: "
            "add a new version file (and examples) instead"
        )


def test_generated_models_are_up_to_date(tmp_path):
    generate(tmp_path)
    for topic, version in JSON_TOPICS:
        name = f"{module_name(topic, version)}.py"
        assert (tmp_path / name).read_text() == (GENERATED / name).read_text(), f"{name} is stale: run `make models`"


@pytest.mark.parametrize(("topic", "version"), JSON_TOPICS)
def test_every_example_loads_into_its_generated_model(topic, version):
    module = importlib.import_module(f"threadline_common.models.generated.{module_name(topic, version)}")
    schema = json.loads((schemas_dir() / "json" / f"{topic}.v{version}.schema.json").read_text())
    model = getattr(module, schema["title"])
    for _, payload in examples(topic, version):
        model.model_validate(payload)


ROUTER_INPUTS = {
    "threadline.slack.events": decode_slack,
    "threadline.zendesk.events": decode_zendesk,
    "threadline.sync.results": decode_result,
}


@pytest.mark.parametrize("topic", sorted(ROUTER_INPUTS))
def test_the_router_handles_every_example_of_its_inputs(topic):
    ctx = Context(
        channels=parse_channels({"channels": {"C0SUPPORT": {}, "C111": {}, "C03E94MKS": {}}, "email_groups": {}}),
        now="2026-11-23T10:00:00Z",
    )
    for _, payload in examples(topic, 1):
        event = ROUTER_INPUTS[topic](json.dumps(payload).encode())
        if event is not None:
            route(event, None, ctx)

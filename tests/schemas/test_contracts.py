"""The contracts in this checkout: files exist, every example is valid for its version and every
later backward-compatible one, published versions are unchanged, the router reads every example."""

from __future__ import annotations

import json

import pytest

from threadline_common.channels import parse_channels
from threadline_common.contracts import load_topics, schemas_dir
from threadline_common.schemas import default, validate
from threadline_router.inbound import decode_result, decode_slack, decode_zendesk
from threadline_router.rules import Context, route

pytestmark = pytest.mark.unit

CONTRACTS = default()
EXAMPLES = [
    pytest.param(topic, version, example, id=f"{topic}/{version}/{example.path.name}")
    for topic, version, example in CONTRACTS.all_examples()
]


def test_every_topic_contract_points_at_files_that_exist():
    for spec in load_topics():
        assert spec.partitions >= 1 and spec.config.get("cleanup.policy") in ("delete", "compact"), spec.name
        for version in spec.schemas:
            if version.type != "json":
                continue
            assert CONTRACTS.schema_path(spec.name, version.version).is_file(), spec.name
            for folder in version.examples:
                assert (schemas_dir() / folder).is_dir(), f"{spec.name}: {folder} does not exist"
            assert list(CONTRACTS.examples(spec.name, version.version)), (
                f"{spec.name} v{version.version} has no example"
            )


def test_every_input_topic_has_a_dead_letter_topic():
    names = {spec.name for spec in load_topics()}
    for topic in (
        "threadline.slack.events",
        "threadline.zendesk.events",
        "threadline.sync.results",
        "threadline.router.inbound",
        "threadline.commands",
        "threadline.activity",
    ):
        assert f"{topic}.dlq" in names


@pytest.mark.parametrize(("topic", "version", "example"), EXAMPLES)
def test_example_is_valid_for_its_version_and_every_later_backward_one(topic, version, example):
    spec = next(s for s in load_topics() if s.name == topic)
    later = [v.version for v in spec.schemas if v.version > version and v.compatibility_mode == "backward"]
    for target in [version, *later]:
        validate(topic, target, example.payload)  # raises naming the path of the violation


def test_published_versions_are_unchanged():
    locked = CONTRACTS.locked()
    for name, digest in CONTRACTS.hashes().items():
        assert name in locked, f"{name} is not recorded: run `python -m threadline_devstack.codegen --lock`"
        assert locked[name] == digest, (
            f"{name} changed after it was published: published versions are immutable, "
            "add a new version file (and examples) instead"
        )


def test_the_checkout_has_no_contract_problem():
    assert CONTRACTS.problems() == []


def test_every_command_type_has_an_example():
    schema = CONTRACTS.load_schema("threadline.commands", 1)
    types = {example.payload["type"] for example in CONTRACTS.examples("threadline.commands", 1)}
    assert types == set(schema["discriminator"]["mapping"])


def test_slack_examples_cover_each_kind_and_the_messages_threadline_handles():
    kinds, events = set(), set()
    for example in CONTRACTS.examples("threadline.slack.events", 1):
        kinds.add(example.payload["kind"])
        event = example.payload["body"].get("event") or {}
        events.add(event.get("subtype") or event.get("type"))
    assert kinds == {"event_callback", "interaction", "slash_command"}
    assert {"message", "message_changed", "message_deleted", "file_share", "reaction_added"} <= events


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
    for example in CONTRACTS.examples(topic, 1):
        event = ROUTER_INPUTS[topic](json.dumps(example.payload).encode())
        if event is not None:
            route(event, None, ctx)

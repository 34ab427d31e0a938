"""A change that breaks a published version fails the suite: checked on a copy of schemas/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from threadline_common.contracts import schemas_dir
from threadline_common.schemas import ContractSet
from threadline_devstack.codegen import write_lock

pytestmark = pytest.mark.unit

TOPIC = "threadline.zendesk.events"  # a topic with only v1 published


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    # No ContractSet(base) here: load_topics() caches a directory's yaml files on first read.
    base = tmp_path / "schemas"
    shutil.copytree(schemas_dir(), base)
    return base


def add_version(base: Path, schema: dict, mode: str = "backward") -> None:
    """Publish v2 of TOPIC: its schema, one example (a v1 example), and its yaml entry."""
    (base / "json" / f"{TOPIC}.v2.schema.json").write_text(json.dumps(schema))
    (base / "examples" / TOPIC / "2").mkdir()
    shutil.copy(next((base / "examples" / TOPIC / "1").glob("*.json")), base / "examples" / TOPIC / "2")
    topic_file = base / "topics" / f"{TOPIC}.yaml"
    spec = yaml.safe_load(topic_file.read_text())
    spec["schemas"].append(
        {
            "version": 2,
            "type": "json",
            "compatibility_mode": mode,
            "resource": f"{TOPIC}.v2.schema.json",
            "examples": [f"examples/{TOPIC}/2/"],
        }
    )
    topic_file.write_text(yaml.safe_dump(spec))


def v1_schema(base: Path) -> dict:
    return json.loads((base / "json" / f"{TOPIC}.v1.schema.json").read_text())


def test_editing_a_published_version_is_refused(copy):
    path = copy / "json" / f"{TOPIC}.v1.schema.json"
    path.write_text(path.read_text().replace('"minLength": 1', '"minLength": 2', 1))

    assert write_lock(ContractSet(copy)) == []  # --lock never rewrites a recorded hash
    problems = ContractSet(copy).problems()
    assert problems == [
        f"{TOPIC}.v1.schema.json changed after it was published: published versions are immutable, "
        "add a new version file (and examples) instead"
    ]


def test_a_new_version_must_be_locked_and_lock_records_it(copy):
    schema = v1_schema(copy)
    schema["properties"]["note"] = {"type": "string"}
    add_version(copy, schema)

    assert ContractSet(copy).problems() == [
        f"{TOPIC}.v2.schema.json is not in compat.lock: run `python -m threadline_devstack.codegen --lock`"
    ]
    assert write_lock(ContractSet(copy)) == [f"{TOPIC}.v2.schema.json"]
    assert ContractSet(copy).problems() == []


def test_a_backward_version_that_rejects_old_records_is_reported(copy):
    schema = v1_schema(copy)
    schema["required"].append("note")  # v1 records have no note: v2 cannot read them
    schema["properties"]["note"] = {"type": "string"}
    add_version(copy, schema)
    write_lock(ContractSet(copy))

    problems = ContractSet(copy).problems()
    assert problems
    assert all(f"examples/{TOPIC}/" in p and "fails v2" in p and "'note' is a required property" in p for p in problems)
    assert any(f"examples/{TOPIC}/1/" in p for p in problems)


def test_a_version_that_does_not_promise_compatibility_is_only_checked_against_its_own_examples(copy):
    schema = v1_schema(copy)
    schema["required"].append("note")
    schema["properties"]["note"] = {"type": "string"}
    add_version(copy, schema, mode="none")
    write_lock(ContractSet(copy))
    for example in (copy / "examples" / TOPIC / "2").glob("*.json"):
        example.write_text(json.dumps({**json.loads(example.read_text()), "note": "v2 record"}))

    assert ContractSet(copy).problems() == []


def test_a_topic_that_points_at_missing_files_is_reported(copy):
    (copy / "json" / f"{TOPIC}.v1.schema.json").unlink()
    shutil.rmtree(copy / "examples" / "threadline.activity" / "1")

    problems = "\n".join(ContractSet(copy).problems())
    assert f"{TOPIC} v1: schema '{TOPIC}.v1.schema.json' is missing or invalid" in problems
    assert "threadline.activity v1: examples folder 'examples/threadline.activity/1/' does not exist" in problems
    assert "threadline.activity v1 has no example" in problems

"""`python -m threadline_common.topics`, what the chart's pre-install Job runs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource

from threadline_common.contracts import load_topics
from threadline_common.settings import KafkaSettings
from threadline_common.topics import ensure_topics, plan


@pytest.mark.unit
def test_plan_creates_only_missing_topics_with_the_contracts_settings() -> None:
    specs = load_topics()
    existing = {"p.threadline.links": 6, "p.threadline.commands": 3}
    todo = plan(specs, existing, prefix="p.", replication_factor=3, extra_config={"min.insync.replicas": "2"})
    assert sorted(todo.present) == ["p.threadline.commands", "p.threadline.links"]
    assert len(todo.create) == len(specs) - 2
    links_contract = next(s for s in specs if s.name == "threadline.commands")
    assert todo.partition_mismatch == {"p.threadline.commands": (3, links_contract.partitions)}
    inbound = next(t for t in todo.create if t.name == "p.threadline.router.inbound")
    assert inbound.partitions == 6 and inbound.replication_factor == 3
    assert inbound.config["min.insync.replicas"] == "2"
    assert inbound.config["cleanup.policy"] == "delete"  # the contract's own config wins


@pytest.mark.unit
def test_the_router_s_follows_table_is_compacted_and_co_partitioned_with_its_inbound_topic() -> None:
    todo = plan(load_topics(), {})
    by_name = {t.name: t for t in todo.create}
    follows, inbound = by_name["threadline.follows"], by_name["threadline.router.inbound"]
    assert follows.config["cleanup.policy"] == "compact"
    assert follows.partitions == inbound.partitions == by_name["threadline.links"].partitions


@pytest.mark.unit
def test_plan_with_a_partition_count_for_every_topic() -> None:
    specs = load_topics()
    todo = plan(specs, {"t.threadline.links": 2, "t.threadline.commands": 6}, prefix="t.", partitions=2)
    assert {t.partitions for t in todo.create} == {2}
    assert todo.partition_mismatch == {"t.threadline.commands": (6, 2)}
    assert sorted(todo.names) == sorted("t." + s.name for s in specs)
    assert todo.summary() == (
        f"topics: {len(specs) - 2} created, 2 already there, 1 with other partitions than their contract (left unchanged)"
    )


@pytest.mark.integration
def test_job_creates_every_contract_topic_once(kafka_bootstrap: str, topic_prefix: str) -> None:
    settings = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix)
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    try:
        first = ensure_topics(settings, wait_seconds=30)
        names = {topic_prefix + s.name for s in load_topics()}
        assert {t.name for t in first.create} == names
        metadata = admin.list_topics(timeout=10).topics
        assert names <= set(metadata)
        assert len(metadata[f"{topic_prefix}threadline.links"].partitions) == 6
        config = admin.describe_configs([ConfigResource("topic", f"{topic_prefix}threadline.links")])
        described = next(iter(config.values())).result()
        assert described["cleanup.policy"].value == "compact"
        # An upgrade runs the Job again: nothing to do, nothing changed.
        second = ensure_topics(settings, wait_seconds=30)
        assert second.create == [] and set(second.present) == names
    finally:
        for future in admin.delete_topics(list({topic_prefix + s.name for s in load_topics()})).values():
            future.exception()


@pytest.mark.integration
def test_job_fails_with_a_message_when_kafka_does_not_answer() -> None:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        "THREADLINE_LOG_FORMAT": "text",
    }
    result = subprocess.run(
        [sys.executable, "-m", "threadline_common.topics", "--wait-seconds", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    assert "error: Kafka at 127.0.0.1:1 did not answer within 1s" in result.stderr


@pytest.mark.unit
def test_job_rejects_bad_arguments_and_settings() -> None:
    bad_config = subprocess.run(
        [sys.executable, "-m", "threadline_common.topics", "--config", "retention.ms"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": "k:9092"},
    )
    assert bad_config.returncode == 2 and "expected key=value, got 'retention.ms'" in bad_config.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")}
    no_kafka = subprocess.run(
        [sys.executable, "-m", "threadline_common.topics"], capture_output=True, text=True, timeout=60, env=env
    )
    assert no_kafka.returncode == 2 and "KAFKA_BOOTSTRAP_SERVERS is required but not set" in no_kafka.stderr

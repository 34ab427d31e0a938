"""The local Kafka and Elasticsearch are real, and `infra up/down` behave as documented."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request

import pytest
from confluent_kafka import Consumer, Producer

from threadline_common.contracts import load_topics
from threadline_devstack import infra

pytestmark = pytest.mark.integration


def test_a_message_round_trips_on_every_contract_topic(kafka_bootstrap, kafka_topics, unique_group):
    specs = load_topics()
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "acks": "all", "enable.idempotence": True})
    names = [kafka_topics.name(spec.name) for spec in specs]
    for name in names:
        producer.produce(name, key=b"k", value=f"hello {name}".encode())
    assert producer.flush(30) == 0
    consumer = Consumer(
        {"bootstrap.servers": kafka_bootstrap, "group.id": unique_group, "auto.offset.reset": "earliest"}
    )
    consumer.subscribe(names)
    seen: dict[str, bytes] = {}
    try:
        for _ in range(120):
            msg = consumer.poll(1.0)
            if msg is not None and msg.error() is None:
                seen[msg.topic()] = msg.value()
            if len(seen) == len(names):
                break
    finally:
        consumer.close()
    assert seen == {name: f"hello {name}".encode() for name in names}


def test_topics_carry_their_contract_configs(kafka_bootstrap, kafka_topics):
    from confluent_kafka.admin import AdminClient, ConfigResource

    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    resource = ConfigResource(ConfigResource.Type.TOPIC, kafka_topics.links)
    configs = admin.describe_configs([resource])[resource].result()
    assert configs["cleanup.policy"].value == "compact"


def test_elasticsearch_is_a_real_8x_node(elasticsearch_url):
    assert infra.es_version(elasticsearch_url).startswith("8.")
    with urllib.request.urlopen(f"{elasticsearch_url}/_cluster/health", timeout=10) as r:
        assert json.load(r)["status"] in ("green", "yellow")


@pytest.mark.slow  # half a minute of its own nodes' starts and stops: with the drills, beside make test
def test_infra_cli_up_twice_then_down_leaves_nothing(tmp_path, kafka_node, elasticsearch_node):
    """A second, independent stack through the CLI, on ports of its own."""
    ports = {name: infra.free_port() for name in ("KAFKA", "KAFKA_CONTROLLER", "ES", "ES_TRANSPORT")}
    env = {
        **os.environ,
        "THREADLINE_RUN_DIR": str(tmp_path / "run"),
        **{f"THREADLINE_{name}_PORT": str(port) for name, port in ports.items()},
    }
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)

    def cli(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "threadline_devstack.infra", command],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    first = cli("up")
    assert first.returncode == 0, first.stderr
    stack = json.loads((tmp_path / "run" / "stack.json").read_text())
    assert stack == {
        "kafka_bootstrap": f"127.0.0.1:{ports['KAFKA']}",
        "elasticsearch_url": f"http://127.0.0.1:{ports['ES']}",
    }
    second = cli("up")
    assert second.returncode == 0, second.stderr
    assert cli("status").returncode == 0

    assert cli("down").returncode == 0
    for port in ports.values():
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still listening"
    assert cli("status").returncode == 1


def test_a_port_in_use_is_named(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        node = infra.KafkaNode("kafka-busy", tmp_path / "kafka", port=port, controller_port=infra.free_port())
        with pytest.raises(infra.InfraError, match=f"port {port}|broker port {port}"):
            node.start()

"""Fixtures of the reporter's integration tests: the real broker and node (tests/conftest.py),
the Slack sandbox in this process, and the reporter service built from its settings."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from elasticsearch import Elasticsearch

from threadline_common.settings import KafkaSettings
from threadline_devstack.waiting import wait_until  # noqa: F401 - tests import it from here
from threadline_reporter.service import Service
from threadline_reporter.settings import ReporterSettings
from threadline_sandbox.slack import SlackSandbox

# The reports API's bearer token in these tests (random enough to pass the length check).
API_TOKEN = "test-reports-api-token-5f1c9e27b04d"


def produce(bootstrap: str, topic: str, records: list[dict[str, Any] | bytes]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for record in records:
        if isinstance(record, bytes):
            producer.produce(topic, key=b"poison", value=record)
        else:
            producer.produce(topic, key=record["conversation_id"].encode(), value=json.dumps(record).encode())
    assert producer.flush(30) == 0


@pytest.fixture
def es(elasticsearch_url) -> Iterator[Elasticsearch]:
    client = Elasticsearch(elasticsearch_url, request_timeout=30)
    yield client
    client.close()


@pytest.fixture
def slack() -> Iterator[SlackSandbox]:
    sandbox = SlackSandbox("reporter-test-secret", []).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def channels_file(tmp_path: Path) -> Path:
    path = tmp_path / "channels.yaml"
    path.write_text(
        "defaults: {timezone: UTC, response_target_minutes: 60}\n"
        "channels:\n  C0SUPPORT: {name: support}\n  C0INFRA: {name: infra-help, report_channel: ''}\n"
    )
    return path


@pytest.fixture
def make_service(
    kafka_bootstrap, kafka_topics, elasticsearch_url, es_index_prefix, unique_group, channels_file, slack
) -> Iterator[Callable[..., Service]]:
    started: list[Service] = []

    def make(**overrides: Any) -> Service:
        values: dict[str, Any] = {
            "elasticsearch_url": elasticsearch_url,
            "index_prefix": es_index_prefix,
            "group_id": unique_group,
            "batch_size": 50,
            "batch_seconds": 0.2,
            "max_backoff_seconds": 0.5,
            "channels_file": channels_file,
            "slack_bot_token": slack.bot_token,
            "slack_api_url": slack.api_url,
            "reports_enabled": False,
            "api_token": API_TOKEN,
            "log_format": "text",
            **overrides,
        }
        service = Service(
            ReporterSettings(**values),
            KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=kafka_topics.prefix),
        )
        started.append(service)
        return service

    yield make
    for service in started:
        service.close()

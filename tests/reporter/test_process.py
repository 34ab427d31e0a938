"""The reporter as deployed: `python -m threadline_reporter` in its own process against the test
broker and node, stopped with SIGTERM like a pod in a rollout."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from threadline_devstack.infra import free_port

from .conftest import API_TOKEN, produce, wait_until
from .test_indexing import committed, examples, indexed

pytestmark = pytest.mark.integration


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except (urllib.error.URLError, ConnectionError):
        return 0, ""


def pending(base: str) -> float | None:
    status, text = get(f"{base}/metrics")
    found = re.search(r"^threadline_reporter_pending_records (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if status == 200 and found else None


def committed_total(bootstrap: str, group: str, topic: str) -> int:
    return sum(max(0, offset) for offset in committed(bootstrap, group, topic))  # -1001: nothing yet


def test_the_entry_point_indexes_and_a_sigterm_commits_what_it_holds(
    kafka_bootstrap, kafka_topics, elasticsearch_url, es, es_index_prefix, unique_group, channels_file
):
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "KAFKA_TOPIC_PREFIX": kafka_topics.prefix,
        "THREADLINE_REPORTER_ELASTICSEARCH_URL": elasticsearch_url,
        "THREADLINE_REPORTER_INDEX_PREFIX": es_index_prefix,
        "THREADLINE_REPORTER_GROUP_ID": unique_group,
        "THREADLINE_REPORTER_CHANNELS_FILE": str(channels_file),
        "THREADLINE_REPORTER_WEB_HOST": "127.0.0.1",
        "THREADLINE_REPORTER_WEB_PORT": str(port),
        # Five records make a flush; fewer wait (an hour) until the stop.
        "THREADLINE_REPORTER_BATCH_SIZE": "5",
        "THREADLINE_REPORTER_BATCH_SECONDS": "3600",
        "THREADLINE_REPORTER_REPORTS_ENABLED": "false",
        "THREADLINE_REPORTER_API_TOKEN": API_TOKEN,
        "THREADLINE_REPORTER_LOG_FORMAT": "text",
    }
    records = examples()
    held = len(records) % 5
    produce(kafka_bootstrap, kafka_topics.activity, records[:-held])
    process = subprocess.Popen(
        [sys.executable, "-m", "threadline_reporter"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until("ready", lambda: process.poll() is not None or get(f"{base}/readyz")[0] == 200)
        assert process.poll() is None, process.communicate()[1].decode()[-2000:]
        # Two full batches are in Elasticsearch and committed.
        wait_until("the two batches searchable", lambda: indexed(es, es_index_prefix, len(records) - held, 0))
        wait_until(
            "the two batches committed",
            lambda: committed_total(kafka_bootstrap, unique_group, kafka_topics.activity) == len(records) - held,
        )
        # Three more, after it has read to the end: no backlog's tail, they wait in the third batch.
        produce(kafka_bootstrap, kafka_topics.activity, records[-held:])
        wait_until("three records held", lambda: pending(base) == held)
        assert committed_total(kafka_bootstrap, unique_group, kafka_topics.activity) == len(records) - held
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=90)
    logs = stderr.decode()
    assert process.returncode == 0, logs[-3000:]
    assert "reporter stopped" in logs and "Traceback" not in logs
    # What it held at the signal was indexed and committed before it exited: nothing to read again.
    assert indexed(es, es_index_prefix, len(records), 2)
    assert committed_total(kafka_bootstrap, unique_group, kafka_topics.activity) == len(records)
    # The clients were closed: librdkafka reports nothing after the exit was logged.
    assert "%3|" not in logs.split("reporter stopped", 1)[1]


@pytest.mark.integration
def test_a_thread_that_dies_ends_the_process_with_a_non_zero_status(make_service, monkeypatch):
    """Before, a dead indexer thread left the HTTP server up (and under `make up`, with no liveness
    probe, nothing indexed again). Now it is a crash of the process: exit 70."""
    from threadline_common import crash

    exits: list[str] = []
    monkeypatch.setattr(crash, "exit_now", lambda what, error: exits.append(f"{what}: {error}"))
    service = make_service()

    def broken() -> None:
        raise RuntimeError("a bug in the indexer")

    monkeypatch.setattr(service, "_run_indexer", broken)
    service.start()
    wait_until("the crash", lambda: exits)
    assert exits == ["the reporter's indexer thread: a bug in the indexer"]

"""Fault drill: stop the Kafka broker while conversations flow, start it again. A broker of this
module's own (threadline_devstack.infra on free ports), never the session's. While it is down
ingest answers 503 and Slack retries; afterwards every thread Slack delivered has one ticket,
every reply one comment, every thread one confirmation: nothing lost, nothing doubled."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from threadline_devstack import infra

from .conftest import Ledger, Pipeline, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONVERSATIONS = 16
REPLIES = 1


@pytest.fixture(scope="module")
def drill_broker(tmp_path_factory):
    base = tmp_path_factory.mktemp("drill-kafka")
    node = infra.KafkaNode("kafka-drill", base / "kafka", port=infra.free_port(), controller_port=infra.free_port())
    node.start()
    yield node
    node.kill()


@pytest.fixture(scope="module")
def kafka_bootstrap(drill_broker) -> str:
    """This module's pipeline runs on its own broker: stopping it disturbs no other test."""
    return drill_broker.bootstrap


@pytest.mark.timeout(600)
def test_broker_stop_and_start_under_load_loses_and_doubles_nothing(pipeline: Pipeline, drill_broker):
    p = pipeline
    # Slack retries a failed delivery after about a minute and again after five; the sandbox's
    # three quick retries would not outlast a broker restart, which on a loaded machine can take
    # a minute and more before ingest's producer is connected again. Four minutes of retries.
    p.slack.knobs.retry_delays = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 60.0, 60.0)
    ledger = Ledger(REPLIES)
    stopped, restarted = threading.Event(), threading.Event()

    def refused() -> int:
        return sum(1 for d in list(p.slack.deliveries) if d.status != 200)

    def outage() -> None:
        drill_broker.stop()
        stopped.set()
        # Down until ingest has refused deliveries that Slack will retry: the outage is one the
        # pipeline felt, however fast or slow the machine (a fixed pause could end before a single
        # delivery arrived, or last longer than needed).
        wait_until("ingest refusing Slack's deliveries", refused, timeout=60)
        drill_broker.start()
        restarted.set()

    chaos = threading.Thread(target=outage, daemon=True)
    for i in range(CONVERSATIONS):
        if i == CONVERSATIONS // 3:
            chaos.start()
            wait_until("the broker stopped", stopped.is_set, timeout=60)
        ledger.converse(p, i, "broker")  # a third before, the rest while it is down and coming back
    wait_until("the broker back", restarted.is_set, timeout=120)
    try:
        wait_until("every ticket, comment and confirmation", lambda: ledger.complete(p), timeout=300)
    except AssertionError as missing:
        statuses = Counter(d.status for d in p.slack.deliveries)
        raise AssertionError(f"{missing}: {ledger.counts(p)}; Slack's deliveries by status: {statuses}") from None
    p.settle()  # every record consumed, every retried delivery made: a duplicate would be there now

    statuses = Counter(d.status for d in p.slack.deliveries)
    refused_count = sum(n for status, n in statuses.items() if status != 200)
    counts = ledger.counts(p)
    assert refused_count > 0, f"ingest should have refused deliveries while the broker was down: {statuses}"
    assert counts["tickets"] == CONVERSATIONS
    assert (counts["lost"], counts["duplicated"]) == (0, 0), counts
    for name, process in p.processes.items():
        assert process.alive(), f"{name} did not survive the broker restart:\n{process.log_tail()}"
    print(
        f"\ndrill: broker stopped and started under load, {CONVERSATIONS} conversations, "
        f"{refused_count} deliveries refused and retried, lost 0, duplicated 0"
    )

"""Fault drill: Elasticsearch goes away while activity flows into the reporter, then comes back.

The reporter runs as deployed (`python -m threadline_reporter`, its own process) and reaches
Elasticsearch through a TCP relay of this test's; the outage cuts the relay (open connections
reset, new ones refused: what the reporter sees when the node stops) rather than stopping the
session's node, which other tests share, and a node of the drill's own would take longer to
start than the whole drill. Activity keeps arriving meanwhile, ~150 records a second. Afterwards:
every record indexed once (one event document each, every conversation folded from each of its
events once), nothing committed while Elasticsearch was away, every offset committed after,
and the catch-up rate (the backlog at the end of the outage over the time to clear it) is
reported."""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from urllib.parse import urlparse

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from threadline_devstack.bench.indexing import conversation_activity
from threadline_devstack.infra import free_port
from threadline_devstack.kafka_state import GroupLag
from threadline_devstack.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RATE = 25  # conversations a second, 6 records each
SECONDS = 30
API_TOKEN = "drill-reports-api-token-7d2a90c4e1"
INDEXED = 'threadline_reporter_records_total{outcome="indexed"}'
RETRIES = 'threadline_reporter_flushes_total{outcome="retry"}'


class Relay:
    """127.0.0.1:<port> -> the target, until cut; restored on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Relay:
        self._stop.clear()
        listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR: the same port again
        self._thread = threading.Thread(target=self._serve, args=(listener,), daemon=True)
        self._thread.start()
        return self

    def cut(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _serve(self, listener: socket.socket) -> None:
        sel = selectors.DefaultSelector()
        listener.setblocking(False)
        sel.register(listener, selectors.EVENT_READ)
        peers: dict[socket.socket, socket.socket] = {}
        try:
            while not self._stop.is_set():
                for key, _ in sel.select(0.1):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock is listener:
                        client, _ = listener.accept()
                        try:
                            upstream = socket.create_connection(self.target, timeout=5)
                        except OSError:
                            client.close()
                            continue
                        for a, b in ((client, upstream), (upstream, client)):
                            a.setblocking(False)
                            peers[a] = b
                            sel.register(a, selectors.EVENT_READ)
                        continue
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    other = peers.get(sock)
                    if not data or other is None:
                        for s in (sock, other):
                            if s is not None and s in peers:
                                sel.unregister(s)
                                peers.pop(s, None)
                                s.close()
                        continue
                    other.setblocking(True)
                    with contextlib.suppress(OSError):  # its own read sees the end
                        other.sendall(data)
                    other.setblocking(False)
        finally:
            for s in list(peers):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # closed with a reset
                s.close()
            listener.close()
            sel.close()


def metric(base: str, name: str) -> float:
    try:
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    except OSError:  # not answering yet (URLError, a refused or timed-out connection)
        return -1.0
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def committed(bootstrap: str, group: str, topic: str) -> int:
    """Offsets the group committed on the topic, in all (a partition never committed counts 0)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        offsets = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        return sum(max(0, tp.offset) for tp in offsets)
    finally:
        consumer.close()


def ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


@pytest.mark.timeout(300)
def test_an_elasticsearch_outage_under_load_loses_nothing_and_counts_nothing_twice(
    kafka_bootstrap, kafka_topics, elasticsearch_url, es_index_prefix, unique_group, tmp_path
):
    from elasticsearch import Elasticsearch

    es = Elasticsearch(elasticsearch_url, request_timeout=30)
    target = urlparse(elasticsearch_url)
    relay = Relay((target.hostname or "127.0.0.1", target.port or 9200)).start()
    channels = tmp_path / "channels.yaml"
    channels.write_text("defaults: {timezone: UTC}\nchannels:\n  C0SUPPORT: {name: support}\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    topic = kafka_topics.activity
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "KAFKA_TOPIC_PREFIX": kafka_topics.prefix,
        "THREADLINE_REPORTER_ELASTICSEARCH_URL": f"http://127.0.0.1:{relay.port}",
        "THREADLINE_REPORTER_ELASTICSEARCH_TIMEOUT_SECONDS": "5",
        "THREADLINE_REPORTER_INDEX_PREFIX": es_index_prefix,
        "THREADLINE_REPORTER_GROUP_ID": unique_group,
        "THREADLINE_REPORTER_CHANNELS_FILE": str(channels),
        "THREADLINE_REPORTER_MAX_BACKOFF_SECONDS": "2",
        "THREADLINE_REPORTER_WEB_HOST": "127.0.0.1",
        "THREADLINE_REPORTER_WEB_PORT": str(port),
        "THREADLINE_REPORTER_REPORTS_ENABLED": "false",
        "THREADLINE_REPORTER_API_TOKEN": API_TOKEN,
        "THREADLINE_REPORTER_LOG_FORMAT": "text",
    }
    log_path = tmp_path / "reporter.log"
    log_file = log_path.open("wb")  # a file, not a pipe: a full pipe would stall the reporter's logging
    reporter = subprocess.Popen(
        [sys.executable, "-m", "threadline_reporter"], env=env, stdout=subprocess.DEVNULL, stderr=log_file
    )
    produced: list[str] = []
    conversations: set[str] = set()
    flowing = threading.Event()

    def flow() -> None:
        producer = Producer({"bootstrap.servers": kafka_bootstrap, "linger.ms": 5, "acks": "all"})
        began = time.monotonic()
        for c in range(RATE * SECONDS):
            for record in conversation_activity(c):
                producer.produce(topic, key=record["conversation_id"].encode(), value=json.dumps(record).encode())
                produced.append(record["event_id"])
            conversations.add(record["conversation_id"])
            producer.poll(0)
            flowing.set()
            time.sleep(max(0.0, began + (c + 1) / RATE - time.monotonic()))
        assert producer.flush(30) == 0

    load = threading.Thread(target=flow, daemon=True)
    try:
        wait_until("the reporter ready", lambda: reporter.poll() is not None or ready(base), timeout=120)
        assert reporter.poll() is None, log_path.read_text()[-2000:]
        load.start()
        wait_until("records indexed before the outage", lambda: metric(base, INDEXED) > 300, timeout=60)

        relay.cut()
        wait_until("flushes failing", lambda: metric(base, RETRIES) >= 3, timeout=60)
        held = committed(kafka_bootstrap, unique_group, topic)
        away = len(produced)
        wait_until(  # activity keeps arriving while Elasticsearch is away
            "activity produced during the outage", lambda: len(produced) >= away + 500, timeout=60
        )
        wait_until("flushes still failing", lambda: metric(base, RETRIES) >= 6, timeout=60)
        assert committed(kafka_bootstrap, unique_group, topic) == held, "offsets moved while Elasticsearch was away"
        indexed_before = metric(base, INDEXED)

        relay.start()
        back = time.monotonic()
        arrived = len(produced)  # what had arrived when Elasticsearch came back
        wait_until(
            "the backlog indexed", lambda: committed(kafka_bootstrap, unique_group, topic) >= arrived, timeout=120
        )
        caught_up = time.monotonic() - back
        backlog = arrived - held
        lag = GroupLag(kafka_bootstrap, unique_group, [topic])
        try:
            load.join(SECONDS + 60)
            wait_until("every record committed", lambda: lag.now() == 0, timeout=120)
        finally:
            lag.close()
    finally:
        relay.cut()
        reporter.send_signal(signal.SIGTERM)
        reporter.wait(timeout=60)
        log_file.close()

    logs = log_path.read_text()
    assert reporter.returncode == 0, logs[-3000:]
    es.indices.refresh(index=f"{es_index_prefix}events,{es_index_prefix}conversations")
    events = es.count(index=f"{es_index_prefix}events")["count"]
    assert len(set(produced)) == len(produced)
    assert events == len(produced), f"{events} event documents for {len(produced)} records"
    folded = es.search(
        index=f"{es_index_prefix}conversations",
        size=0,
        aggs={"events": {"sum": {"field": "event_count"}}, "most": {"max": {"field": "event_count"}}},
    )
    assert folded["hits"]["total"]["value"] == len(conversations)
    # Each conversation folded from each of its 6 events once, whatever was sent again.
    assert folded["aggregations"]["events"]["value"] == len(produced)
    assert folded["aggregations"]["most"]["value"] == 6
    assert committed(kafka_bootstrap, unique_group, topic) == len(produced)
    rate = backlog / caught_up
    print(
        f"\nElasticsearch outage drill: {len(produced)} records at {RATE * 6}/s; {indexed_before:.0f} indexed "
        f"before the outage; a backlog of {backlog} when Elasticsearch came back, indexed and committed in "
        f"{caught_up:.1f} s ({rate:.0f} records/s, new arrivals going on meanwhile); 0 lost, 0 counted twice"
    )
    es.close()

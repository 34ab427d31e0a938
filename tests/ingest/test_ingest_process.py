"""Ingest as deployed: `python -m threadline_ingest` under real uvicorn, stopped with SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from ingest.support import SLACK_SECRET, ZENDESK_SECRET, read_topic, slack_headers

from threadline_devstack.infra import free_port
from threadline_devstack.waiting import wait_until

pytestmark = pytest.mark.integration


def wait_until_serving(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("ingest did not become ready")


def test_the_entry_point_serves_and_a_sigterm_loses_nothing_acknowledged(kafka_bootstrap, kafka_topics, real_payloads):
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "KAFKA_TOPIC_PREFIX": kafka_topics.prefix,
        "THREADLINE_INGEST_HOST": "127.0.0.1",
        "THREADLINE_INGEST_PORT": str(port),
        "THREADLINE_INGEST_SLACK_SIGNING_SECRET": SLACK_SECRET,
        "THREADLINE_INGEST_ZENDESK_WEBHOOK_SECRET": ZENDESK_SECRET,
        "THREADLINE_INGEST_LOG_LEVEL": "DEBUG",  # even at DEBUG, no body and no secret is logged
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "threadline_ingest"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    acknowledged: set[str] = set()
    try:
        wait_until_serving(base, process)
        raw = (real_payloads / "slack" / "message_thread_reply_in_channel.json").read_bytes()
        assert httpx.post(f"{base}/slack/events", content=raw, headers=slack_headers(raw)).status_code == 200
        forged = httpx.post(f"{base}/slack/events", content=raw, headers=slack_headers(raw, secret="x" * 20))
        assert forged.status_code == 401
        spec = httpx.get(f"{base}/openapi.json").json()
        assert {"/slack/events", "/slack/interactions", "/slack/commands", "/zendesk/webhook"} <= set(spec["paths"])
        assert "threadline_ingest_requests_total" in httpx.get(f"{base}/metrics").text
        # Keep Slack's traffic coming while the pod is told to stop.
        acknowledged = send_until_refused(base, process)
    finally:
        if process.poll() is None and not acknowledged_enough(acknowledged):
            process.send_signal(signal.SIGTERM)  # once: a second one makes uvicorn skip the graceful part
        _, stderr = process.communicate(timeout=60)
    logs = stderr.decode()
    # uvicorn shuts down gracefully (lifespan: producer flushed), then re-raises the signal.
    assert process.returncode in (0, -signal.SIGTERM), logs[-2000:]
    assert "Application shutdown complete" in logs
    text_of_the_message = json.loads(raw)["event"]["text"]
    assert SLACK_SECRET not in logs and ZENDESK_SECRET not in logs
    assert text_of_the_message not in logs
    records = [json.loads(r.value()) for r in read_topic(kafka_bootstrap, kafka_topics.slack_events)]
    assert json.loads(raw) in [r["body"] for r in records]
    stored = {r["event_id"] for r in records}
    assert acknowledged and acknowledged <= stored  # every 200 is on the topic


STOP_AFTER = 20


def acknowledged_enough(acknowledged: set[str]) -> bool:
    return len(acknowledged) >= STOP_AFTER


def send_until_refused(base: str, process: subprocess.Popen) -> set[str]:
    """Posts events from two threads; after STOP_AFTER acknowledgements, SIGTERM; returns the event
    ids that got a 200 (the others were refused or cut: Slack would deliver them again)."""
    acknowledged: set[str] = set()
    lock = threading.Lock()

    def post(worker: int) -> None:
        with httpx.Client(timeout=10) as client:
            for i in range(10_000):
                event_id = f"EvStop{worker}x{i}"
                event = {"type": "message", "channel": "C1", "user": "U1", "text": "t", "ts": f"1700000000.{i:06d}"}
                raw = json.dumps({"type": "event_callback", "team_id": "T1", "event_id": event_id, "event": event})
                try:
                    response = client.post(f"{base}/slack/events", content=raw, headers=slack_headers(raw.encode()))
                except httpx.TransportError:
                    return
                if response.status_code != 200:
                    return
                with lock:
                    acknowledged.add(event_id)
                    if len(acknowledged) == STOP_AFTER:
                        process.send_signal(signal.SIGTERM)

    threads = [threading.Thread(target=post, args=(w,)) for w in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return acknowledged


def test_several_workers_answer_as_one_pod(kafka_bootstrap, kafka_topics, tmp_path):
    """THREADLINE_INGEST_WORKERS=2: the workers share the port, each with its own producer, and
    whichever answers a scrape reports the pod's counts (prometheus_client's multiprocess files,
    emptied at start: a previous run's file there would break the sum)."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"left by a previous container")
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "KAFKA_TOPIC_PREFIX": kafka_topics.prefix,
        "THREADLINE_INGEST_HOST": "127.0.0.1",
        "THREADLINE_INGEST_PORT": str(port),
        "THREADLINE_INGEST_SLACK_SIGNING_SECRET": SLACK_SECRET,
        "THREADLINE_INGEST_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "threadline_ingest"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    sent = 40
    try:
        wait_until_serving(base, process)
        for i in range(sent):  # a connection each, so that the kernel hands them to either worker
            event = {"type": "message", "channel": "C1", "user": "U1", "text": "t", "ts": f"1700000001.{i:06d}"}
            raw = json.dumps({"type": "event_callback", "team_id": "T1", "event_id": f"EvW{i}", "event": event})
            answer = httpx.post(f"{base}/slack/events", content=raw, headers=slack_headers(raw.encode()))
            assert answer.status_code == 200, answer.text
        counted = 'threadline_ingest_requests_total{route="/slack/events",status="200"}'
        # A worker writes its tallies once idle or within 0.1 s: the pod's count reaches them then.
        wait_until("both workers' counts", lambda: f"{counted} {float(sent)}" in httpx.get(f"{base}/metrics").text)
        for _ in range(8):  # a connection each: a worker's own count alone would be short, or absent
            text = httpx.get(f"{base}/metrics").text
            assert f"{counted} {float(sent)}" in text
            assert httpx.get(f"{base}/readyz").status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    logs = stderr.decode()
    assert process.returncode in (0, -signal.SIGTERM), logs[-2000:]
    assert logs.count("Application shutdown complete") == 2, logs[-2000:]  # each worker flushed its producer
    records = [json.loads(r.value()) for r in read_topic(kafka_bootstrap, kafka_topics.slack_events)]
    assert sorted(r["event_id"] for r in records) == sorted(f"EvW{i}" for i in range(sent))

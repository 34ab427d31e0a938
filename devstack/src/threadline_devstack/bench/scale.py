"""Scale: the router's memory and the time its links table takes to come back, at 10,000, 100,000
and (when it fits in the budget) 1,000,000 conversations, RocksDB store, 6 partitions.

For each size the changelog (threadline.links) is filled with that many linked conversations,
then a router starts:
- cold: a new pod, empty data directory; the table is rebuilt from the changelog;
- warm: the same router stopped and started again; RocksDB on local disk, the changelog read
  only from where it was.
Recovered means: a reply to the last conversation, produced right after the start, comes out as
the comment command for that conversation's ticket (the table answered), timed from the start
of the process. Baselines: the same router with an empty table (time and memory), and reading
the same changelog end to end with aiokafka (the client library faust uses).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer

from threadline_devstack import services
from threadline_devstack.bench.common import BenchError, Budget, Figure, Metric, bench_topics, memory_mib, new_prefix
from threadline_devstack.bench.events import message_body, topic_record
from threadline_devstack.infra import free_port

SIZES = (10_000, 100_000)
LARGE = 1_000_000


def conversation(i: int) -> tuple[bytes, bytes]:
    ts = f"{1_600_000_000 + i}.000200"
    key = f"T0SANDBOX:C0SUPPORT:{ts}"
    value = {
        "schema_version": 2,
        "conversation_id": key,
        "team_id": "T0SANDBOX",
        "channel_id": "C0SUPPORT",
        "thread_ts": ts,
        "origin": "slack",
        "status": "open",
        "created_at": "2026-11-20T10:00:00.000Z",
        "updated_at": "2026-11-20T10:05:00.000Z",
        "requester_slack_id": "U0ALICE",
        "ticket_id": 100_000 + i,
        "ticket_url": f"https://sandbox.zendesk.com/agent/tickets/{100_000 + i}",
        "generation": 1,
        "previous_ticket_ids": [],
        "responders": ["U0SRE"],
        "moved_to": None,
        "pending_comments": [],
        "seen": [f"Ev{i:012d}A", f"Ev{i:012d}B"],
        "waiting_since": None,
        "reminders_sent": 0,
    }
    return key.encode(), json.dumps(value, separators=(",", ":")).encode()


def fill_changelog(bootstrap: str, topic: str, count: int) -> float:
    # murmur2: the partitioner faust (aiokafka) uses, so each row lands where the router looks for it.
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "partitioner": "murmur2_random",
            "linger.ms": 50,
            "compression.type": "lz4",
            "queue.buffering.max.messages": 500_000,
        }
    )
    began = time.monotonic()
    for i in range(count):
        key, value = conversation(i)
        while True:
            try:
                producer.produce(topic, key=key, value=value)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    if producer.flush(120):
        raise BenchError("the changelog was not all acknowledged")
    return time.monotonic() - began


class Probe:
    """Sends a reply to a known conversation and waits for the router's command about it."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.bootstrap, self.prefix = bootstrap, prefix
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"bench-probe-{uuid.uuid4().hex[:6]}",
                "auto.offset.reset": "latest",
                "enable.auto.commit": False,
            }
        )
        self.consumer.subscribe([prefix + "threadline.commands"])
        self.producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
        deadline = time.monotonic() + 30
        while not self.consumer.assignment():  # assigned before anything is sent: nothing is missed
            self.consumer.poll(0.2)
            if time.monotonic() > deadline:
                raise BenchError("the probe consumer got no assignment")

    def send(self, i: int, n: int) -> bytes:
        key, _ = conversation(i)
        root = key.decode().rsplit(":", 1)[1]
        body = message_body("C0SUPPORT", "U0ALICE", f"{1_700_000_000 + n}.000300", f"probe {n}", thread_ts=root)
        k, v = topic_record(body)
        self.producer.produce(self.prefix + "threadline.slack.events", key=k, value=v)
        self.producer.flush(10)
        return key

    def wait(self, key: bytes, started: float, process: Any, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.consumer.poll(0.05)
            if message is not None and not message.error() and message.key() == key:
                return time.monotonic() - started
            if not process.alive():
                raise BenchError(f"the router exited:\n{process.log_tail()}")
        raise BenchError(f"the router did not answer within {timeout:.0f}s:\n{process.log_tail()}")

    def close(self) -> None:
        self.consumer.close()


async def _read_all(bootstrap: str, topic: str, count: int) -> float:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    began = time.monotonic()
    await consumer.start()
    try:
        seen = 0
        while seen < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            seen += sum(len(b) for b in batches.values())
        return time.monotonic() - began
    finally:
        await consumer.stop()


def measure(bootstrap: str, count: int, timeout: float) -> dict[str, Any]:
    prefix = new_prefix(f"scale{count}")
    with tempfile.TemporaryDirectory(prefix="threadline-bench-") as tmp, bench_topics(bootstrap, prefix):
        work = Path(tmp)
        channels = work / "channels.yaml"
        channels.write_text("channels:\n  C0SUPPORT: {name: support}\n")
        fill = fill_changelog(bootstrap, prefix + "threadline.links", count) if count else 0.0
        read = asyncio.run(_read_all(bootstrap, prefix + "threadline.links", count)) if count else 0.0
        env = services.ServiceEnv(bootstrap, prefix, work, {"PYTHONWARNINGS": "ignore"})
        router = services.router(env, channels, free_port(), slack_bot_id="B0THREADLINE", slack_bot_user_id="U0BOT")
        probe = Probe(bootstrap, prefix)
        target = max(count - 1, 0)
        result: dict[str, Any] = {"conversations": count, "fill_seconds": round(fill, 2)}
        try:
            for n, phase in enumerate(("cold", "warm")):
                if phase == "warm":
                    router.stop(timeout=30)
                started = time.monotonic()
                router.start()
                key = probe.send(target, n) if count else _new_thread(probe, n)
                result[f"{phase}_seconds"] = round(probe.wait(key, started, router, timeout), 2)
                pid = router.running_pid()
                if pid is None:
                    raise BenchError("the router is gone")
                result[f"{phase}_memory_mib"] = memory_mib(pid)
        finally:
            router.stop(timeout=30)
            probe.close()
        result["aiokafka_read_seconds"] = round(read, 2)
        return result


def _new_thread(probe: Probe, n: int) -> bytes:
    ts = f"{1_650_000_000 + n}.000400"
    k, v = topic_record(message_body("C0SUPPORT", "U0ALICE", ts, f"probe {n}"))
    probe.producer.produce(probe.prefix + "threadline.slack.events", key=k, value=v)
    probe.producer.flush(10)
    return k


def run(bootstrap: str, budget: Budget, quick: bool = False) -> Figure:
    figure = Figure(
        "scale",
        "scale",
        baseline="the same router with an empty table; the changelog read end to end with aiokafka",
        note=(
            "a new pod rebuilds the table from the changelog at a few thousand rows/s (3,000-10,000 here), "
            "far below what aiokafka reads, because faust's recovery writes each row into RocksDB through its "
            "Python layer; the process keeps the memory the rebuild used (resident memory grows with the table), "
            "while after a restart from its local RocksDB it stays at the empty router's. A restart with its data "
            "directory is flat whatever the size: keep the directory on a persistent volume (StatefulSet), and "
            "give a new pod a standby replica (faust table_standby_replicas) rather than a cold rebuild."
        ),
    )
    sizes = (1_000,) if quick else SIZES
    empty = measure(bootstrap, 0, 120)
    runs = [measure(bootstrap, n, 600) for n in sizes]
    largest = runs[-1]
    # Recovery grows about linearly: ten times the largest size measured, plus start-up, must fit.
    estimate = 10 * (largest["fill_seconds"] + largest["cold_seconds"] + largest["aiokafka_read_seconds"]) + 60
    if not quick and budget.fits(estimate + 30):
        runs.append(measure(bootstrap, LARGE, estimate * 1.5))
        skipped = None
    else:
        skipped = f"{LARGE:,} conversations: not measured, estimated {estimate:.0f}s did not fit the budget"
    for r in runs:
        n = f"{r['conversations']:,}"
        figure.add(
            Metric(f"table back, new pod, {n} conv.", "s", r["cold_seconds"], empty["cold_seconds"], "lower"),
            Metric(f"table back, restart, {n} conv.", "s", r["warm_seconds"], empty["warm_seconds"], "lower"),
            Metric(
                f"changelog read, {n} conv.", "s", r["cold_seconds"], r["aiokafka_read_seconds"], "lower", "vs aiokafka"
            ),
            Metric(
                f"router memory, {n} conv.",
                "MiB",
                r["cold_memory_mib"]["rss_mib"],
                empty["cold_memory_mib"]["rss_mib"],
                "lower",
            ),
        )
    figure.details = {"empty_table": empty, "runs": runs, "store": "rocksdb://", "partitions": 6}
    if skipped:
        figure.details["not_measured"] = skipped
    return figure

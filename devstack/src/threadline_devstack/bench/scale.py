"""Scale: the router's table at 10,000, 100,000 and 1,000,000 conversations, RocksDB store, 6
partitions: how long a new pod and a restarted pod take to serve, the memory it holds once
restored, and what a reminder tick costs.

For each size the changelog (threadline.links) is filled with that many linked conversations,
DUE of them waiting on support past their reminder (the same number at every size), then a
router starts:
- new pod: an empty data directory; the table comes back from the changelog (the router's bulk
  restore, then faust);
- restart: the same router stopped and started again on the same directory: it reads only what
  the changelog gained since.
Serving means: a reply to the last conversation, produced right after the start, comes out as
the comment command for that conversation's ticket (the table answered), timed from the start
of the process. The reminder tick's cost is the router's own measure
(threadline_router_reminder_scan_seconds: the time a tick spends finding what is due), over the
ticks of a second-by-second timer. Baselines: the same router with an empty table, and reading
the same changelog end to end with aiokafka (the client library faust uses).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from threadline_common.settings import KafkaSettings
from threadline_common.topics import delete_topics, ensure_topics
from threadline_devstack import infra, services
from threadline_devstack.bench.common import (
    BenchError,
    Budget,
    Figure,
    Metric,
    bench_topics,
    memory_mib,
    new_prefix,
    wait_for,
)
from threadline_devstack.bench.events import message_body, topic_record
from threadline_devstack.infra import free_port

SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000,)
DUE = 100  # conversations due a reminder at every size: a tick's work is the same, whatever the table
TICKS = 5  # reminder ticks measured after the restore
CHANNELS = "channels:\n  C0SUPPORT: {name: support, reminders: {after_minutes: 30, max_reminders: 100000}}\n"


def conversation(i: int) -> tuple[bytes, bytes]:
    ts = f"{1_600_000_000 + i}.000200"
    key = f"T0SANDBOX:C0SUPPORT:{ts}"
    due = i < DUE  # waiting on support for days: due a reminder at every tick
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
        "waiting_since": "2026-11-20T10:05:00.000Z" if due else None,
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

    def drain(self) -> None:
        while self.consumer.poll(0.2) is not None:
            pass

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


def _metrics(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(("threadline_router_reminder", "threadline_router_links_rows")):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


SCANS = "threadline_router_reminder_scan_seconds_count"


def _restore_lines(log: Path) -> list[str]:
    """What the router said about its restore (JSON log lines)."""
    said = []
    for line in log.read_text(errors="replace").splitlines():
        if "restored:" in line or "restore done:" in line or "app made" in line:
            try:
                said.append(str(json.loads(line).get("message")))
            except ValueError:
                said.append(line[-200:])
    return said


def _size_mib(path: Path) -> float:
    """Disk used under a directory (the router's data directory: what its volume must hold)."""
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def _number(lines: list[str], pattern: str) -> float | None:
    match = re.search(pattern, lines[0]) if lines else None
    return float(match.group(1)) if match else None


def _ticks(port: int, process: Any, after: dict[str, float] | None = None) -> dict[str, float]:
    """The reminder ticks measured since `after` (a scrape), once TICKS more have run."""
    before = after or {}
    count = SCANS
    now = wait_for(
        f"{TICKS} reminder ticks",
        lambda: (
            (m if (m := _metrics(port)).get(count, 0) - before.get(count, 0) >= TICKS else None)
            if process.alive()
            else {}
        ),
        timeout=60,
        interval=0.5,
    )
    if not now:
        raise BenchError(f"the router exited:\n{process.log_tail()}")
    ticks = now[count] - before.get(count, 0)
    scan = now["threadline_router_reminder_scan_seconds_sum"] - before.get(
        "threadline_router_reminder_scan_seconds_sum", 0
    )
    due = now["threadline_router_reminders_due_total"] - before.get("threadline_router_reminders_due_total", 0)
    return {"ticks": ticks, "scan_ms_per_tick": round(1000 * scan / ticks, 3), "due_per_tick": round(due / ticks, 1)}


CACHE = "bench-scalecache-"


def cached_prefix(count: int) -> str:
    """The topics of one size's table, named by a hash of what fills them: a later run (or a
    figure run again) finds the changelog made and reuses it instead of producing it again."""
    made_of = repr((conversation(0), conversation(DUE), conversation(count - 1), count, CHANNELS)).encode()
    return f"{CACHE}{hashlib.sha256(made_of).hexdigest()[:10]}-{count}."


def _records(bootstrap: str, topic: str) -> int:
    """Records the topic has held (its partitions' end offsets); 0 when it does not exist."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-scale-count"})

    def ends() -> tuple[int] | None:
        try:
            meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
            if meta is None or meta.error is not None:
                return (0,)
            return (
                sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in meta.partitions),
            )
        except KafkaException:  # a topic just made: its leaders are not elected yet
            return None

    try:
        return int(wait_for(f"{topic}'s end offsets", ends, timeout=60, interval=0.5)[0])
    finally:
        consumer.close()


@contextlib.contextmanager
def cached_topics(bootstrap: str, prefix: str, keep: set[str]) -> Iterator[None]:
    """The contract topics under a cache prefix, made when missing and kept afterwards; caches
    of other contents (an older generator, another size set) are deleted."""
    settings = KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=prefix)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    stale = [t for t in admin.list_topics(timeout=10).topics if t.startswith(CACHE) and not t.startswith(tuple(keep))]
    if stale:
        delete_topics(KafkaSettings(bootstrap_servers=bootstrap), stale)
    ensure_topics(settings, wait_seconds=30)
    yield


def measure(bootstrap: str, count: int, timeout: float, keep: set[str] | None = None) -> dict[str, Any]:
    prefix = cached_prefix(count) if count else new_prefix("scale0")
    topics = cached_topics(bootstrap, prefix, keep or {prefix}) if count else bench_topics(bootstrap, prefix)
    with tempfile.TemporaryDirectory(prefix="threadline-bench-") as tmp, topics:
        work = Path(tmp)
        channels = work / "channels.yaml"
        channels.write_text(CHANNELS)
        links = prefix + "threadline.links"
        reused = bool(count) and _records(bootstrap, links) >= count
        if count and not reused and _records(bootstrap, links):  # a fill cut short: start again
            delete_topics(KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=prefix), [links])
            ensure_topics(KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=prefix), wait_seconds=30)
        fill = fill_changelog(bootstrap, links, count) if count and not reused else 0.0
        read = asyncio.run(_read_all(bootstrap, prefix + "threadline.links", count)) if count else 0.0
        env = services.ServiceEnv(bootstrap, prefix, work, {"PYTHONWARNINGS": "ignore"})
        port = free_port()
        router = services.router(
            env,
            channels,
            port,
            slack_bot_id="B0THREADLINE",
            slack_bot_user_id="U0BOT",
            reminder_interval_seconds="1",
            app_home="false",
        )
        probe = Probe(bootstrap, prefix)
        target = max(count - 1, 0)
        result: dict[str, Any] = {"conversations": count, "fill_seconds": round(fill, 2), "changelog_reused": reused}
        try:
            for n, phase in enumerate(("cold", "warm")):
                if phase == "warm":
                    router.stop(timeout=30)
                started = time.monotonic()
                router.start()
                probe.drain()  # what the previous phase left (its probe's other commands, reminders)
                key = probe.send(target, n) if count else _new_thread(probe, n)
                result[f"{phase}_seconds"] = round(probe.wait(key, started, router, timeout), 2)
                pid = router.running_pid()
                if pid is None:
                    raise BenchError("the router is gone")
                result[f"{phase}_memory_mib"] = memory_mib(pid)
                done = [line for line in _restore_lines(router.log_path) if "restore done:" in line][-1:]
                result[f"{phase}_restore_seconds"] = _number(done, r" in ([0-9.]+)s")
                made = [line for line in _restore_lines(router.log_path) if "app made" in line][-1:]
                result[f"{phase}_app_made_seconds"] = _number(made, r"app made ([0-9.]+)s")
                result[f"{phase}_app_made_cpu_seconds"] = _number(made, r", ([0-9.]+) CPU seconds")
                # What is left: faust's start, the group's join and assignment, the probe's two hops.
                result[f"{phase}_faust_seconds"] = round(
                    result[f"{phase}_seconds"]
                    - (result[f"{phase}_app_made_seconds"] or 0)
                    - (result[f"{phase}_restore_seconds"] or 0),
                    2,
                )
                result[f"{phase}_restore_cpu_seconds"] = _number(done, r"([0-9.]+) CPU seconds")
                result[f"{phase}_restore_peak_mib"] = _number(done, r"peak resident memory ([0-9.]+) MiB")
                if phase == "cold":
                    # The first tick opens the index's partitions: measured from the second on.
                    first = wait_for("a first reminder tick", lambda: _metrics(port).get(SCANS) or None, timeout=60)
                    result["reminder_ticks"] = _ticks(port, router, _metrics(port) if first else None)
                    result["cold_memory_after_ticks_mib"] = memory_mib(pid)
                    result["cold_restore_log"] = _restore_lines(router.log_path)
                    result["data_dir_mib"] = _size_mib(work / "router")
                    shutil.copy(router.log_path, Path(tempfile.gettempdir()) / f"{prefix}router.log")
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


def compile_like_the_image() -> float:
    """Bytecode for the router's code and its libraries, compiled ahead as the image has it
    (the Dockerfile's UV_COMPILE_BYTECODE=1, and PYTHONDONTWRITEBYTECODE=1 in the pod): a router
    started from a venv without it compiles every module at every start (measured: 2.9 CPU
    seconds to make the app, 1.0 s with bytecode), which no pod pays. Files already compiled are
    skipped; the seconds this took are in the details."""
    root = infra.repo_root()
    began = time.monotonic()
    subprocess.run(  # noqa: S603 - our own interpreter on our own sources
        [
            sys.executable,
            "-m",
            "compileall",
            "-q",
            "-j0",
            sysconfig.get_paths()["purelib"],
            *(str(root / d) for d in ("libs/common/src", "services/router/src")),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - began


def _start_note(empty: dict[str, Any], runs: list[dict[str, Any]], compiled: float) -> str:
    """Where a start's time went in this run: the router's own log (the app made, the restore's
    wall time) and the probe's answer; faust's share is what is left."""

    def parts(r: dict[str, Any], phase: str) -> str:
        return (
            f"{r[f'{phase}_seconds']:.1f} s: the app made after {r[f'{phase}_app_made_seconds'] or 0:.1f} s "
            f"(interpreter, imports, settings), the restore {r[f'{phase}_restore_seconds'] or 0:.1f} s, faust's "
            f"start, the group's join and the probe's two hops through Kafka {r[f'{phase}_faust_seconds']:.1f} s"
        )

    said = [f"In this run the empty router's restart took {parts(empty, 'warm')}."]
    if runs:
        last = runs[-1]
        size = f"{last['conversations']:,}"
        said.append(f"At {size} conversations a restart took {parts(last, 'warm')}; a new pod {parts(last, 'cold')}.")
    said.append(
        f"Beside the start, a router with conversations routes the {DUE} due a reminder at each of the bench's "
        "one-second ticks from its first second on (the empty table has none due): part of faust's share above. "
        f"Making the app cost {empty['warm_app_made_cpu_seconds'] or 0:.1f} CPU seconds at the empty router's "
        "restart: the rest of its share is the machine's load."
    )
    said.append(
        f"Bytecode compiled ahead as in the image ({compiled:.1f} s before the figures; without it each start "
        "compiled every module again)."
    )
    return " ".join(said)


def run(bootstrap: str, budget: Budget, quick: bool = False) -> Figure:
    figure = Figure(
        "scale",
        "scale",
        baseline="the same router with an empty table; the changelog read end to end with aiokafka",
        note=(
            "before faust starts, the router reads each changelog partition with confluent-kafka and writes it "
            "into the RocksDB files faust opens, in write batches with faust's own offset key, and indexes each "
            "row's next reminder as it goes (restore.py, due_index.py); faust then reads only the records written "
            "after that. faust's own recovery, which hands each record through its Python layers, took 27 s for "
            "100,000 conversations and 104 s for 1,000,000 in earlier runs of this bench. With RocksDB sized per "
            "partition (8 MiB memtables, a 16 MiB block cache for the links table, where faust's defaults are "
            "three 64 MiB memtables and a 2 GiB cache per partition and table) the rows stay on disk and resident "
            "memory stays near the empty router's. A reminder tick reads the due-time index up to now: the "
            f"{DUE} conversations due, at every size, instead of decoding every row of the table."
        ),
    )
    sizes = QUICK_SIZES if quick else SIZES
    keep = {cached_prefix(n) for n in (*SIZES, *QUICK_SIZES)}
    compiled = compile_like_the_image()
    empty = measure(bootstrap, 0, 120)
    runs: list[dict[str, Any]] = []
    skipped: list[str] = []
    for n in sizes:
        # Fill (unless cached), restore and the aiokafka read grow about linearly; the two
        # start-ups and the ticks do not.
        previous = runs[-1] if runs else None
        estimate = 120.0
        if previous:
            cached = _records(bootstrap, cached_prefix(n) + "threadline.links") >= n
            grows = previous["cold_restore_seconds"] + previous["aiokafka_read_seconds"]
            grows += 0 if cached else previous["fill_seconds"]
            startup = max(previous["cold_seconds"] - previous["cold_restore_seconds"], 0)
            estimate = (n / previous["conversations"]) * grows + 2 * startup + 30
        if budget.fits(estimate + 30):
            runs.append(measure(bootstrap, n, max(estimate * 2, 120), keep))
        else:
            skipped.append(f"{n:,} conversations: not measured, estimated {estimate:.0f}s did not fit the budget")
    for r in runs:
        size = f"{r['conversations']:,}"
        figure.add(
            Metric(f"table back, new pod, {size} conv.", "s", r["cold_seconds"], empty["cold_seconds"], "lower"),
            Metric(f"table back, restart, {size} conv.", "s", r["warm_seconds"], empty["warm_seconds"], "lower"),
            Metric(
                f"of which the bulk restore, new pod, {size} conv.",
                "s",
                r["cold_restore_seconds"],
                empty["cold_restore_seconds"],
                "lower",
            ),
            Metric(
                f"bulk restore, new pod, CPU seconds, {size} conv. (the machine's load aside)",
                "s",
                r["cold_restore_cpu_seconds"],
                empty["cold_restore_cpu_seconds"],
                "lower",
            ),
            Metric(
                f"bulk restore, new pod, its process's peak memory, {size} conv.",
                "MiB",
                r["cold_restore_peak_mib"],
                empty["cold_restore_peak_mib"],
                "lower",
            ),
            Metric(
                f"of which the bulk restore, restart, {size} conv.",
                "s",
                r["warm_restore_seconds"],
                empty["warm_restore_seconds"],
                "lower",
            ),
            Metric(
                f"of which the app made (interpreter, imports, settings), restart, {size} conv.",
                "s",
                r["warm_app_made_seconds"],
                empty["warm_app_made_seconds"],
                "lower",
            ),
            Metric(
                f"of which faust's start, the group's join and the probe's two hops, restart, {size} conv.",
                "s",
                r["warm_faust_seconds"],
                empty["warm_faust_seconds"],
                "lower",
            ),
            Metric(
                f"changelog read, new pod, {size} conv.",
                "s",
                r["cold_seconds"],
                r["aiokafka_read_seconds"],
                "lower",
                "vs aiokafka",
            ),
            Metric(
                f"router memory after restore and {TICKS} reminder ticks, {size} conv.",
                "MiB",
                r["cold_memory_after_ticks_mib"]["rss_mib"],
                empty["cold_memory_after_ticks_mib"]["rss_mib"],
                "lower",
            ),
            Metric(
                f"reminder tick, finding the {DUE} due, {size} conv.",
                "ms",
                r["reminder_ticks"]["scan_ms_per_tick"],
                empty["reminder_ticks"]["scan_ms_per_tick"],
                "lower",
                "vs an empty table (none due)",
            ),
        )
    figure.note += " " + _start_note(empty, runs, compiled)
    figure.details = {
        "empty_table": empty,
        "runs": runs,
        "store": "rocksdb://",
        "partitions": 6,
        "due_per_size": DUE,
        "bytecode_compile_seconds": round(compiled, 1),
    }
    if skipped:
        figure.details["not_measured"] = skipped
    return figure

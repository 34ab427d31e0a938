"""Indexing: documents per second through the reporter; baseline: the same documents sent straight
to Elasticsearch with the client's bulk helper.

The reporter runs as a process (its entry point, as deployed) on an activity topic and an index
prefix of its own. The activity of N conversations (a message, the ticket, replies, an agent's
comment, the solve) is produced at once after it is ready; the clock runs until Elasticsearch
counts every event document and every conversation document. Keeping each conversation's
document up to date (folding its events) is part of the reporter's figure. The
baseline indexes the event documents the reporter's own `index_actions` makes of the same
records, with `helpers.bulk`, into another prefix, in rounds alternating with the reporter's.
The reporter runs under the bench's sampling profiler: the figure's note says where its time goes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from threadline_common.times import format_time
from threadline_devstack import services
from threadline_devstack.bench.common import (
    BenchError,
    Budget,
    Figure,
    Metric,
    bench_topics,
    median,
    memory_mib,
    new_prefix,
)
from threadline_devstack.bench.profiler import Cpu, describe, describe_cpu, profiled, read_profile, window
from threadline_devstack.bench.stack import infra_pids
from threadline_devstack.infra import free_port
from threadline_devstack.kafka_state import GroupLag
from threadline_devstack.processes import ManagedProcess

CONVERSATIONS = 2000
EPOCH = dt.datetime(2026, 11, 16, tzinfo=dt.UTC)  # a Monday, 00:00 UTC: a week of activity follows


def _at(seconds: float) -> str:
    return format_time(EPOCH + dt.timedelta(seconds=seconds))


def conversation_activity(c: int, span_seconds: float = 7 * 24 * 3600) -> list[dict[str, Any]]:
    """The activity records of one Slack conversation that became a ticket and was solved (6 events)."""
    start = (c * 7919) % int(span_seconds - 7200)  # spread over the week, not in id order
    ts = f"{1_763_000_000 + c % 1_000_000}.{100 + c // 1_000_000:06d}"
    conv = f"T0SANDBOX:C0SUPPORT:{ts}"
    ticket = 500_000 + c
    base = {
        "schema_version": 1,
        "conversation_id": conv,
        "channel_id": "C0SUPPORT",
        "thread_ts": ts,
        "public": True,
        "status": None,
        "previous_status": None,
        "reaction": None,
    }
    requester = {"id": f"U{c % 300:07d}", "role": "requester"}
    responder = {"id": f"U{9_000_000 + c % 40:07d}", "role": "responder"}
    agent = {"id": str(8_000_000 + c % 25), "name": f"Agent {c % 25}", "email": None, "role": "agent"}
    return [
        {**base, "event_id": f"slack:C0SUPPORT:{ts}", "type": "message", "occurred_at": _at(start),
         "ticket_id": None, "source": "slack", "text": f"VPN drops every hour ({c})", "actor": requester},
        {**base, "event_id": f"zd-created:{ticket}", "type": "ticket_created", "occurred_at": _at(start + 2),
         "ticket_id": ticket, "source": "slack", "text": None, "status": "new", "actor": requester},
        {**base, "event_id": f"slack:C0SUPPORT:{ts}:r1", "type": "reply", "occurred_at": _at(start + 300),
         "ticket_id": ticket, "source": "slack", "text": "Which client version?", "actor": responder},
        {**base, "event_id": f"slack:C0SUPPORT:{ts}:r2", "type": "reply", "occurred_at": _at(start + 900),
         "ticket_id": ticket, "source": "slack", "text": "5.2 on macOS", "actor": requester},
        {**base, "event_id": f"zd-comment:{ticket}01", "type": "comment", "occurred_at": _at(start + 1800),
         "ticket_id": ticket, "source": "zendesk", "text": "Fixed in 5.3, please update.", "actor": agent,
         "tags": ["slack"]},
        {**base, "event_id": f"zd-status:{ticket}:solved", "type": "status_change", "occurred_at": _at(start + 3600),
         "ticket_id": ticket, "source": "zendesk", "text": None, "status": "solved", "previous_status": "open",
         "actor": {"id": None, "role": "system"}},
    ]  # fmt: skip


def activity(conversations: int, first: int = 0) -> Iterator[dict[str, Any]]:
    for c in range(first, first + conversations):
        yield from conversation_activity(c)


def es_count(es: Any, index: str) -> int:
    es.indices.refresh(index=index, ignore_unavailable=True)
    return int(es.count(index=index, ignore_unavailable=True)["count"])


def delete_prefix(es: Any, prefix: str) -> None:
    es.options(ignore_status=404).indices.delete(index=f"{prefix}*", expand_wildcards="all")
    es.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}*")


def baseline_seconds(es: Any, records: list[dict[str, Any]], prefix: str, expected: int | None = None) -> float:
    from elasticsearch import helpers

    from threadline_reporter.documents import Privacy, index_actions
    from threadline_reporter.indices import Names, ensure_indices

    ensure_indices(es, Names(prefix))
    privacy = Privacy()
    began = time.monotonic()
    actions = (a for r in records for a in index_actions(r, privacy, prefix))
    helpers.bulk(es, actions, chunk_size=500)
    es.indices.refresh(index=f"{prefix}events")
    seconds = time.monotonic() - began
    if es_count(es, f"{prefix}events") != (len(records) if expected is None else expected):
        raise BenchError("the bulk helper did not index every document")
    return seconds


def reporter_seconds(
    es: Any,
    bootstrap: str,
    topic: str,
    group: str,
    records: list[dict[str, Any]],
    prefix: str,
    events: int,
    conversations: int,
    reporter: ManagedProcess,
    deadline: float,
) -> float:
    """Seconds from a backlog of the records on the reporter's topic until Elasticsearch counts
    `events` event documents and `conversations` conversation documents under its prefix (in all).

    The records are on the topic before the clock starts, as a backlog is (after an outage, a
    replay, a busy hour): the reporter is stopped (SIGSTOP) while the bench produces them and
    continued when they are all acknowledged, so the figure is the reporter's reading, folding and
    writing, not the bench's producing (the baseline's documents are in memory when its clock
    starts). The pause is well within the group's session timeout.

    The reporter commits a record's offset only once its documents are in Elasticsearch, so the
    clock waits for its group's lag to reach zero, then refreshes and counts once, as the
    baseline's clock ends with one refresh: counting with a refresh every 0.2 s meanwhile would
    make Elasticsearch write a segment each time, a cost the baseline does not pay."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "acks": "all"})
    lag = GroupLag(bootstrap, group, [topic])
    pid = reporter.running_pid()
    if pid is None:
        raise BenchError(f"the reporter is not running:\n{reporter.log_tail()}")
    try:
        os.kill(pid, signal.SIGSTOP)
        try:
            for r in records:
                producer.produce(topic, key=r["conversation_id"].encode(), value=json.dumps(r).encode())
                producer.poll(0)
            if producer.flush(60):
                raise BenchError("the bench could not produce the records to Kafka")
        finally:
            os.kill(pid, signal.SIGCONT)
        began = time.monotonic()
        while True:
            if (
                lag.now() == 0
                and es_count(es, f"{prefix}events") >= events
                and es_count(es, f"{prefix}conversations") >= conversations
            ):
                return time.monotonic() - began
            if time.monotonic() > deadline or not reporter.alive():
                raise BenchError(f"the reporter did not index every event:\n{reporter.log_tail()}")
            time.sleep(0.05)
    finally:
        lag.close()


def run(bootstrap: str, es_url: str, budget: Budget, quick: bool = False) -> Figure:
    from elasticsearch import Elasticsearch

    conversations = 100 if quick else CONVERSATIONS
    # Rounds in the order baseline, reporter, reporter, baseline, twice: a machine whose load
    # drifts during the run (it is shared) weighs on both sides alike, and a round that a burst
    # of the machine's other work slowed weighs on the median of one side's four only. Each round
    # has its own conversations; the baseline of a round indexes the same records as the reporter's.
    order = ["baseline", "reporter"] if quick else ["baseline", "reporter", "reporter", "baseline"] * 2
    # One more reporter round after the measured ones, under the sampling profiler (the measured
    # rounds run without it: the baseline pays no sampler either): where the time goes.
    sets = [list(activity(conversations, n * conversations)) for n in range(order.count("reporter") + 1)]
    figure = Figure(
        "indexing",
        "indexing",
        baseline=(
            "the same event documents (the reporter's own index_actions) sent with elasticsearch.helpers.bulk, "
            "500 a request, in rounds alternating with the reporter's (baseline, reporter, reporter, baseline, twice)"
        ),
    )
    es = Elasticsearch(es_url, request_timeout=60)
    run_id = uuid.uuid4().hex[:6]
    reporter_prefix, base_prefix, warm_prefix = (f"bench-{s}-{run_id}-" for s in ("rep", "bulk", "warm"))
    prefix = new_prefix("indexing")
    group = f"bench-reporter-{run_id}"
    seconds: dict[str, list[float]] = {"baseline": [], "reporter": []}
    try:
        # Elasticsearch's JIT and caches warm up on a throwaway prefix before anything is measured.
        baseline_seconds(es, list(activity(200, 10_000_000)), warm_prefix)
        with tempfile.TemporaryDirectory(prefix="threadline-bench-") as tmp, bench_topics(bootstrap, prefix):
            work = Path(tmp)
            port = free_port()
            env = services.ServiceEnv(bootstrap, prefix, work, {"PYTHONWARNINGS": "ignore"})
            profile_path, switch = work / "profile-reporter.json", work / "profile-reporter.on"
            reporter = ManagedProcess(
                name="reporter",
                argv=profiled([sys.executable, "-m", "threadline_reporter"], profile_path),
                run_dir=work,
                env={
                    **env.base(),
                    "THREADLINE_REPORTER_ELASTICSEARCH_URL": es_url,
                    "THREADLINE_REPORTER_INDEX_PREFIX": reporter_prefix,
                    "THREADLINE_REPORTER_GROUP_ID": group,
                    "THREADLINE_REPORTER_REPORTS_ENABLED": "false",
                    "THREADLINE_REPORTER_API_ENABLED": "false",  # only /metrics is read
                    "THREADLINE_REPORTER_WEB_HOST": "127.0.0.1",
                    "THREADLINE_REPORTER_WEB_PORT": str(port),
                    "THREADLINE_PROFILE_WHILE": str(switch),
                },
            )
            try:
                reporter.start()
                services.wait_http(f"http://127.0.0.1:{port}/readyz", reporter, timeout=120)
                deadline = time.monotonic() + max(60.0, budget.remaining() - 300)
                done = {"baseline": 0, "reporter": 0}
                profile: dict[str, Any] = {}
                cpu: dict[str, dict[str, float]] = {"baseline": {}, "reporter": {}}
                for side in order:
                    records = sets[done[side]]
                    done[side] += 1
                    if side == "baseline":
                        meter = Cpu({**infra_pids(), "bench process (the bulk helper)": os.getpid()})
                        seconds[side].append(baseline_seconds(es, records, base_prefix, done[side] * len(records)))
                    else:
                        meter = Cpu({**_pids(reporter), **infra_pids()})
                        seconds[side].append(
                            reporter_seconds(
                                es,
                                bootstrap,
                                prefix + "threadline.activity",
                                group,
                                records,
                                reporter_prefix,
                                done[side] * len(records),
                                done[side] * conversations,
                                reporter,
                                deadline,
                            )
                        )
                    for name, used in meter.seconds().items():
                        cpu[side][name] = round(cpu[side].get(name, 0.0) + used, 2)
                # The profiled round, not timed in the figure.
                switch.touch()
                time.sleep(1.1)  # the profile is rewritten every second: start from a fresh one
                before = read_profile(profile_path)
                profiled_seconds = reporter_seconds(
                    es,
                    bootstrap,
                    prefix + "threadline.activity",
                    group,
                    sets[-1],
                    reporter_prefix,
                    len(sets) * len(sets[-1]),
                    len(sets) * conversations,
                    reporter,
                    deadline,
                )
                time.sleep(1.1)
                profile = window(before, read_profile(profile_path))
                switch.unlink()
                pid = reporter.running_pid()
                memory = memory_mib(pid) if pid else {}
                indexed_conversations = es_count(es, f"{reporter_prefix}conversations")
            finally:
                reporter.stop(timeout=30)
    finally:
        for p in (reporter_prefix, base_prefix, warm_prefix):
            delete_prefix(es, p)
    events = len(sets[0])
    # Each side's median round: one round a burst of the machine's other work slowed moves neither.
    reporter_rate = events / median(seconds["reporter"])
    baseline_rate = events / median(seconds["baseline"])
    figure.add(Metric("event documents/s", "docs/s", reporter_rate, baseline_rate, "higher"))
    figure.note = (
        "for each batch (1,000 records or 1 s, the tail of a backlog at once) the reporter decodes the records "
        "(msgspec, the JSON Schema "
        "for what it refuses), folds the conversations they touch from the events it keeps (a read-back "
        "only for a conversation it has not seen since it started), and streams the events and the "
        "conversation documents in one bulk request (streaming_bulk), with no refresh, while it prepares "
        f"the next batch; it writes a conversation document per conversation ({conversations:,} a round) "
        f"besides the {events:,} events of a round, which the baseline does not; the records are on the "
        "topic (a backlog) when the reporter's clock starts, and its clock includes consuming them from Kafka. "
        "Each side's figure is its median round. Profile of one more round (wall-clock samples every 10 ms; "
        f"{profiled_seconds:.1f} s, the measured rounds run without the sampler): "
        f"{describe('reporter', profile, groups=('indexer', 'indexer-bulk'))}. The measured rounds: "
        f"{describe_cpu(cpu['reporter'])}. The baseline's rounds: {describe_cpu(cpu['baseline'])}."
    )
    figure.details = {
        "conversations_per_round": conversations,
        "events_per_round": events,
        "order": order,
        "seconds": {side: [round(x, 2) for x in xs] for side, xs in seconds.items()},
        "profiled_round_seconds": round(profiled_seconds, 2),
        "conversation_documents": indexed_conversations,
        "reporter_memory_mib": memory,
        "reporter_cpu": cpu["reporter"],
        "baseline_cpu": cpu["baseline"],
        "batch": "the reporter's defaults (1,000 records or 1 s)",
    }
    if indexed_conversations != conversations * len(sets):
        raise BenchError(f"{indexed_conversations} conversation documents for {conversations} conversations a round")
    return figure


def _pids(reporter: ManagedProcess) -> dict[str, int]:
    pid = reporter.running_pid()
    return {"reporter": pid} if pid is not None else {}

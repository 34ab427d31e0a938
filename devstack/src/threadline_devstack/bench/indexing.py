"""Indexing: documents per second through the reporter; baseline: the same documents sent straight
to Elasticsearch with the client's bulk helper.

The reporter runs as a process (its entry point, as deployed) on an activity topic and an index
prefix of its own. The activity of N conversations (a message, the ticket, replies, an agent's
comment, the solve) is produced at once after it is ready; the clock runs until Elasticsearch
counts every event document. The reporter also keeps each conversation's document up to date
(it reads the conversation's events back and folds them): that is part of its figure. The
baseline indexes the event documents the reporter's own `index_actions` makes of the same
records, with `helpers.bulk`, into another prefix.
"""

from __future__ import annotations

import datetime as dt
import json
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
from threadline_devstack.bench.common import BenchError, Budget, Figure, Metric, bench_topics, memory_mib, new_prefix
from threadline_devstack.infra import free_port
from threadline_devstack.processes import ManagedProcess

CONVERSATIONS = 2000
EPOCH = dt.datetime(2026, 11, 16, tzinfo=dt.UTC)  # a Monday, 00:00 UTC: a week of activity follows


def _at(seconds: float) -> str:
    return format_time(EPOCH + dt.timedelta(seconds=seconds))


def conversation_activity(c: int, span_seconds: float = 7 * 24 * 3600) -> list[dict[str, Any]]:
    """The activity records of one Slack conversation that became a ticket and was solved (6 events)."""
    start = (c * 7919) % int(span_seconds - 7200)  # spread over the week, not in id order
    ts = f"{1_763_000_000 + c}.000100"
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


def activity(conversations: int) -> Iterator[dict[str, Any]]:
    for c in range(conversations):
        yield from conversation_activity(c)


def es_count(es: Any, index: str) -> int:
    es.indices.refresh(index=index, ignore_unavailable=True)
    return int(es.count(index=index, ignore_unavailable=True)["count"])


def delete_prefix(es: Any, prefix: str) -> None:
    es.options(ignore_status=404).indices.delete(index=f"{prefix}*", expand_wildcards="all")
    es.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}*")


def baseline_seconds(es: Any, records: list[dict[str, Any]], prefix: str) -> float:
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
    if es_count(es, f"{prefix}events") != len(records):
        raise BenchError("the bulk helper did not index every document")
    return seconds


def run(bootstrap: str, es_url: str, budget: Budget, quick: bool = False) -> Figure:
    from elasticsearch import Elasticsearch

    conversations = 100 if quick else CONVERSATIONS
    figure = Figure(
        "indexing",
        "indexing",
        baseline="the same event documents (the reporter's own index_actions) sent with elasticsearch.helpers.bulk",
        note=(
            "from the reporter's code (not profiled): for each batch (500 records or 1 s) it sends the events "
            "bulk, refreshes the events index, then for every 200 conversations the batch touches searches their "
            "events and bulk-indexes their re-folded conversation documents; the baseline sends one bulk per 500 "
            "documents. Larger batches (THREADLINE_REPORTER_BATCH_SIZE) amortise the refresh and the read-back."
        ),
    )
    records = list(activity(conversations))
    es = Elasticsearch(es_url, request_timeout=60)
    run_id = uuid.uuid4().hex[:6]
    reporter_prefix, base_prefix = f"bench-rep-{run_id}-", f"bench-bulk-{run_id}-"
    prefix = new_prefix("indexing")
    try:
        with tempfile.TemporaryDirectory(prefix="threadline-bench-") as tmp, bench_topics(bootstrap, prefix):
            work = Path(tmp)
            port = free_port()
            env = services.ServiceEnv(bootstrap, prefix, work, {"PYTHONWARNINGS": "ignore"})
            reporter = ManagedProcess(
                name="reporter",
                argv=[sys.executable, "-m", "threadline_reporter"],
                run_dir=work,
                env={
                    **env.base(),
                    "THREADLINE_REPORTER_ELASTICSEARCH_URL": es_url,
                    "THREADLINE_REPORTER_INDEX_PREFIX": reporter_prefix,
                    "THREADLINE_REPORTER_GROUP_ID": f"bench-reporter-{run_id}",
                    "THREADLINE_REPORTER_REPORTS_ENABLED": "false",
                    "THREADLINE_REPORTER_API_ENABLED": "false",  # only /metrics is read
                    "THREADLINE_REPORTER_WEB_HOST": "127.0.0.1",
                    "THREADLINE_REPORTER_WEB_PORT": str(port),
                },
            )
            try:
                reporter.start()
                services.wait_http(f"http://127.0.0.1:{port}/readyz", reporter, timeout=120)
                producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "acks": "all"})
                began = time.monotonic()
                for r in records:
                    producer.produce(
                        prefix + "threadline.activity", key=r["conversation_id"].encode(), value=json.dumps(r).encode()
                    )
                    producer.poll(0)
                producer.flush(60)
                deadline = time.monotonic() + max(60.0, budget.remaining() - 300)
                while (
                    es_count(es, f"{reporter_prefix}events") < len(records)
                    or es_count(es, f"{reporter_prefix}conversations") < conversations
                ):
                    if time.monotonic() > deadline or not reporter.alive():
                        raise BenchError(f"the reporter did not index every event:\n{reporter.log_tail()}")
                    time.sleep(0.2)
                seconds = time.monotonic() - began
                pid = reporter.running_pid()
                memory = memory_mib(pid) if pid else {}
                indexed_conversations = es_count(es, f"{reporter_prefix}conversations")
            finally:
                reporter.stop(timeout=30)
        base = baseline_seconds(es, records, base_prefix)
    finally:
        delete_prefix(es, reporter_prefix)
        delete_prefix(es, base_prefix)
    figure.add(Metric("event documents/s", "docs/s", len(records) / seconds, len(records) / base, "higher"))
    figure.details = {
        "conversations": conversations,
        "events": len(records),
        "seconds": round(seconds, 2),
        "baseline_seconds": round(base, 2),
        "conversation_documents": indexed_conversations,
        "reporter_memory_mib": memory,
        "batch": "the reporter's defaults (500 records or 1 s)",
    }
    if indexed_conversations != conversations:
        raise BenchError(f"{indexed_conversations} conversation documents for {conversations} conversations")
    return figure

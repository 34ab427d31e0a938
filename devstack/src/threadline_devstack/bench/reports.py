"""Reports: time to compute the daily and the weekly report of a channel, with the reporter's own
`Reporter.build`, over 100,000 conversations and 1,000,000 events (10 per conversation) in one
week; first over a tenth of that, and the full size only when it fits in the budget (the time to
load the documents is measured on the tenth and extrapolated).

The documents are what the reporter itself makes of the activity (`index_actions`,
`fold_conversation`), loaded with the bulk helper. Each report is built three times; the median
is reported. Baseline: one date-filtered aggregation over the same week's events (a terms
aggregation by channel): the least one Elasticsearch round trip over the same data costs.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Literal

from threadline_common.times import format_time
from threadline_devstack.bench.common import BenchError, Budget, Figure, Metric, median
from threadline_devstack.bench.indexing import EPOCH, conversation_activity, delete_prefix, es_count

SIZES = (10_000, 100_000)
EXTRA_REPLIES = 4  # 6 events of conversation_activity + 4 replies = 10 events a conversation
REPEATS = 3


def _events(c: int) -> list[dict[str, Any]]:
    records = conversation_activity(c)
    reply = records[2]
    for n in range(EXTRA_REPLIES):
        records.append(
            {
                **reply,
                "event_id": f"{reply['event_id']}:x{n}",
                "occurred_at": reply["occurred_at"].replace(".000Z", f".{100 + n:03d}Z"),
                "text": f"more detail {n}",
            }
        )
    return records


def load(es: Any, prefix: str, conversations: int) -> float:
    """Index the events and conversation documents of `conversations` conversations; seconds taken."""
    from elasticsearch import helpers

    from threadline_common.business_hours import Calendar
    from threadline_reporter.documents import Privacy, event_document, fold_conversation, index_actions
    from threadline_reporter.indices import Names, ensure_indices

    names = Names(prefix)
    ensure_indices(es, names)
    privacy, calendar = Privacy(), Calendar.of(None)

    def actions() -> Any:
        for c in range(conversations):
            records = _events(c)
            for r in records:
                yield from index_actions(r, privacy, prefix)
            doc = fold_conversation([event_document(r, privacy) for r in records], calendar)
            if doc is not None:
                yield {"_op_type": "index", "_index": names.conversations_index, "_id": doc["conversation_id"], **doc}

    began = time.monotonic()
    for ok, item in helpers.parallel_bulk(es, actions(), thread_count=2, chunk_size=2000, raise_on_error=True):
        if not ok:
            raise RuntimeError(f"bulk item failed: {item}")
    es.indices.refresh(index=f"{prefix}*")
    return time.monotonic() - began


def measure(es: Any, prefix: str, conversations: int, channels_file: Path) -> dict[str, Any]:
    from threadline_common.channels import load_channels
    from threadline_reporter.indices import Names
    from threadline_reporter.posting import Reporter

    loaded = load(es, prefix, conversations)
    events = es_count(es, f"{prefix}events")
    reporter = Reporter(es, Names(prefix), load_channels(channels_file), None)
    week = EPOCH.date()
    timings: dict[str, list[float]] = {"daily": [], "weekly": [], "aggregation": []}
    opened: dict[str, int] = {}
    for _ in range(REPEATS):
        periods: tuple[tuple[Literal["daily", "weekly"], dt.date], ...] = (
            ("daily", week + dt.timedelta(days=2)),
            ("weekly", week),
        )
        for kind, start in periods:
            began = time.monotonic()
            report = reporter.build(kind, "C0SUPPORT", start)
            timings[kind].append(time.monotonic() - began)
            opened[kind] = report.figures.opened
        began = time.monotonic()
        es.search(
            index=f"{prefix}events",
            size=0,
            query={
                "range": {"occurred_at": {"gte": format_time(EPOCH), "lt": format_time(EPOCH + dt.timedelta(days=7))}}
            },
            aggs={"by_channel": {"terms": {"field": "channel_id"}}},
        )
        timings["aggregation"].append(time.monotonic() - began)
    # A report that found nothing would time nothing: the week holds every conversation.
    if opened["weekly"] != conversations:
        raise BenchError(f"the weekly report counts {opened['weekly']} conversations opened, not {conversations}")
    return {
        "conversations": conversations,
        "events": events,
        "opened_in_report": opened,
        "load_seconds": round(loaded, 1),
        **{f"{k}_seconds": round(median(v), 3) for k, v in timings.items()},
    }


def run(bootstrap: str, es_url: str, budget: Budget, quick: bool = False) -> Figure:
    from elasticsearch import Elasticsearch

    figure = Figure(
        "reports",
        "reports",
        baseline="one date-filtered terms aggregation over the same week's events",
        note=(
            "a report is several queries (the period's figures, the previous period's, the oldest open "
            "conversations, late ones, responders), each an aggregation like the baseline's: the ratio is about "
            "the number of round trips."
        ),
    )
    es = Elasticsearch(es_url, request_timeout=300)
    sizes = (500,) if quick else SIZES
    runs: list[dict[str, Any]] = []
    skipped = None
    with tempfile.TemporaryDirectory(prefix="threadline-bench-") as tmp:
        channels = Path(tmp) / "channels.yaml"
        channels.write_text("channels:\n  C0SUPPORT: {name: support}\n")
        for size in sizes:
            if runs:
                previous = runs[-1]
                estimate = previous["load_seconds"] * size / previous["conversations"] * 1.3 + 30
                if not budget.fits(estimate + 30):
                    skipped = f"{size:,} conversations: not measured, loading them (about {estimate:.0f}s) did not fit"
                    break
            prefix = f"bench-reports-{uuid.uuid4().hex[:6]}-"
            try:
                runs.append(measure(es, prefix, size, channels))
            finally:
                delete_prefix(es, prefix)
    for r in runs:
        n = f"{r['conversations']:,} conv., {r['events']:,} events"
        figure.add(
            Metric(f"daily report, {n}", "s", r["daily_seconds"], r["aggregation_seconds"], "lower"),
            Metric(f"weekly report, {n}", "s", r["weekly_seconds"], r["aggregation_seconds"], "lower"),
        )
    figure.details = {"runs": runs, "repeats": REPEATS, "channel": "C0SUPPORT, UTC, default business hours"}
    if skipped:
        figure.details["not_measured"] = skipped
    return figure

"""`backfill`: send past Slack threads to the router, which opens their missing tickets with their history."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from threadline_common.slack_messages import is_conversation
from threadline_router.inbound import OPS_SOURCE, backfill_record, conversation_key
from threadline_router.ops import parse
from threadline_router.ops.env import SOURCE_HEADER, Env, UsageError, check_channel, installations_source
from threadline_router.ops.kafka_io import Record
from threadline_router.ops.progress import Progress
from threadline_router.ops.saas import slack_for_channel


def check_arguments(
    ref: parse.ThreadRef | None, channel: str | None, since: datetime | None, until: datetime | None, now: datetime
) -> None:
    """Refuse anything but one thread's link, or --channel with --since (and --until) not in the future."""
    if ref is not None and (channel or since or until):
        raise UsageError("link", "give a thread link, or --channel with --since, not both")
    if ref is None:
        if not channel:
            raise UsageError("link", "give a Slack thread link, or --channel and --since")
        if since is None:
            raise UsageError("--since", "required with --channel")
        if until is not None and until < since:
            raise UsageError("--until", f"{until.isoformat()} is before --since {since.isoformat()}")
        if since > now:
            raise UsageError("--since", f"{since.isoformat()} is in the future")


def thread_records(
    team: str, channel: str, thread: list[dict[str, Any]], explicit: bool
) -> tuple[str, str, list[Record]]:
    """A thread's root ts, its conversation id, and its messages as records for the router, in order."""
    root_ts = thread[0].get("thread_ts") or thread[0]["ts"]
    cid = conversation_key(team, channel, root_ts)
    records: list[Record] = [
        (
            cid.encode(),
            backfill_record(team, channel, root_ts, m, explicit=explicit),
            [(SOURCE_HEADER, OPS_SOURCE.encode())],
            None,
        )
        for m in thread
        if is_conversation(m)
    ]
    return root_ts, cid, records


def run_backfill(args: argparse.Namespace, env: Env) -> int:
    ref: parse.ThreadRef | None = args.link
    check_arguments(ref, args.channel, args.since, args.until, datetime.now(UTC))
    channel = ref.channel_id if ref is not None else str(args.channel)
    check_channel(env, channel, "link" if ref is not None else "--channel")
    slack = slack_for_channel(env.ops, *installations_source(env), channel)
    team = slack.team_id()
    if ref is not None:
        threads = [slack.thread(channel, ref.root_ts)]
        if not any(m["ts"] == ref.root_ts for m in threads[0]):
            raise UsageError("link", f"Slack has no thread {ref.root_ts} in {channel}")
    else:
        roots = slack.top_level(channel, args.since, args.until)
        threads = [slack.thread(channel, r["ts"]) if r.get("reply_count") else [r] for r in roots]
    table = env.io.read_table(env.topics.links)
    inbound = env.topics.router_inbound
    progress = Progress(len(threads), "backfill", env.err)
    new = existing = messages = 0
    for thread in threads:
        root_ts, cid, records = thread_records(team, channel, thread, explicit=ref is not None)
        existing += cid in table
        new += cid not in table
        env.io.send(inbound, records)  # a thread's messages in order, on its conversation's partition
        messages += len(records)
        progress.step(f"{root_ts} ({len(records)} messages)")
    env.say(
        f"backfill sent {len(threads)} threads ({messages} messages) of {channel} to the router: "
        f"{new} without a conversation yet, {existing} already linked (only what the ticket misses is added)"
    )
    if threads:
        env.say("the router opens the tickets it decides to; `threadline-ops show <link>` shows a thread's state")
    return 0

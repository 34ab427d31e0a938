"""`dlq replay`: send dead letters back to the topic they came from, once their cause is fixed."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from threadline_common.dlq import HEADER_PREFIX, dlq_reason
from threadline_router.ops.env import Env, UsageError
from threadline_router.ops.kafka_io import KafkaIO, Record

REPLAY_HEADER = "threadline-replayed-from"
REPLAYED, AFTER_UNTIL, OTHER_SOURCE = "replayed", "after --until", "other source"

Position = int | datetime | None
Headers = list[tuple[str, str | bytes | None]]


def check_bounds(since: Position, until: Position) -> None:
    """Refuse an --until before --since (when both are offsets, or both times)."""
    if isinstance(since, int) and isinstance(until, int) and until < since:
        raise UsageError("--until", f"offset {until} is before --since {since}")
    if isinstance(since, datetime) and isinstance(until, datetime) and until < since:
        raise UsageError("--until", f"{until.isoformat()} is before --since {since.isoformat()}")


def _bounds(io: KafkaIO, topic: str, since: Position) -> dict[int, int]:
    if since is None:
        return {}
    if isinstance(since, int):
        return dict.fromkeys(io.partitions(topic), since)
    return io.offsets_at(topic, since)


def verdict(offset: int, timestamp_ms: int, why: dict[str, str], source: str, until: Position) -> str:
    """REPLAYED, or why a dead letter is skipped: AFTER_UNTIL or OTHER_SOURCE."""
    if isinstance(until, int) and offset > until:
        return AFTER_UNTIL
    if isinstance(until, datetime) and timestamp_ms > until.timestamp() * 1000:
        return AFTER_UNTIL
    if why.get("source-topic") != source:
        return OTHER_SOURCE
    return REPLAYED


def replay_headers(headers: Headers, dlq: str, partition: int, offset: int) -> Headers:
    """The record's own headers, without the dead-letter ones, naming where it is replayed from."""
    original: Headers = [(k, v if isinstance(v, bytes) else (v or "").encode()) for k, v in headers]
    original = [(k, v) for k, v in original if not k.startswith(HEADER_PREFIX) and k != REPLAY_HEADER]
    original.append((REPLAY_HEADER, f"{dlq}:{partition}:{offset}".encode()))
    return original


def home_partition(why: dict[str, str], source_partitions: int) -> int | None:
    """The partition it had, which keeps it in order with the rest of its conversation (None: its key's)."""
    home = why.get("source-partition", "")
    return int(home) if home.isdigit() and int(home) < source_partitions else None


def summary(counts: dict[str, int], dry_run: bool, dlq: str, source: str, next_offsets: dict[int, int]) -> list[str]:
    """What was (or would be) replayed and skipped, and where to start next time."""
    skipped = ", ".join(f"{n} {what}" for what, n in counts.items() if what != REPLAYED and n)
    verb = "would replay" if dry_run else "replayed"
    lines = [
        f"{verb} {counts[REPLAYED]} dead letters from {dlq} to {source}" + (f" (skipped {skipped})" if skipped else "")
    ]
    if len(next_offsets) == 1:
        lines.append(f"next time, to skip these: --since {next(iter(next_offsets.values()))}")
    elif next_offsets:  # --since takes one offset for every partition: name them, the operator picks
        lines.append("next offsets: " + ", ".join(f"partition {p}: {o}" for p, o in sorted(next_offsets.items())))
    return lines


def _header_list(raw: Any) -> Headers:
    return list(raw or [])


def run_replay(args: argparse.Namespace, env: Env) -> int:
    since, until = args.since, args.until
    check_bounds(since, until)
    source = env.topics.name(args.topic)
    dlq = env.topics.dlq(args.topic)
    io = env.io
    source_partitions = len(io.partitions(source))
    counts = {REPLAYED: 0, OTHER_SOURCE: 0, AFTER_UNTIL: 0}
    batch: list[Record] = []
    next_offsets: dict[int, int] = {}
    for message in io.read(dlq, _bounds(io, dlq, since)):
        partition, offset = message.partition(), message.offset()
        if partition is None or offset is None:  # only produced, never consumed, messages lack them
            continue
        next_offsets[partition] = offset + 1
        headers = _header_list(message.headers())
        why = dlq_reason(headers)
        decided = verdict(offset, message.timestamp()[1], why, source, until)
        counts[decided] += 1
        if decided != REPLAYED:
            continue
        target = home_partition(why, source_partitions)
        batch.append((message.key(), message.value(), replay_headers(headers, dlq, partition, offset), target))
        if args.dry_run:
            key = (message.key() or b"").decode(errors="replace")
            env.say(f"would replay {dlq}[{partition}]@{offset} key={key} ({why.get('reason', 'no reason given')})")
    if batch and not args.dry_run:
        io.send(source, batch)
    for line in summary(counts, args.dry_run, dlq, source, next_offsets):
        env.say(line)
    return 0

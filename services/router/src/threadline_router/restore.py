"""Bring the router's RocksDB tables up to their changelogs' end before faust starts.

faust's own recovery hands each changelog record through its Python layers (an Event per
record, buffers, the table's batch apply) and wrote 3,000-10,000 rows/s in `make bench`: minutes
for a new pod at 1,000,000 conversations. Here each changelog partition is read with
confluent-kafka (librdkafka fetches in its own thread) and written with RocksDB write batches
into the very files faust opens, with faust's own offset key in the same batch: faust then finds
each partition at the changelog's end and reads only what was written after it. Every partition
is restored, not only those this pod will get (unknown before the group assigns them): any
assignment, and any later rebalance, is then ready at once.

A restarted pod (same volume) reads only the records written since it stopped. The links
table's due-time index (due_index) is fed from the same records, and rebuilt from the table
when the channels' reminder rules have changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from threadline_common.kafka import admin_config, consumer_config
from threadline_common.settings import KafkaSettings
from threadline_router.due_index import DueIndex

log = logging.getLogger(__name__)

BATCH = 10_000  # records a write batch (and a consume call) holds
Watermarks = dict[tuple[str, int], tuple[int, int]]  # (topic, partition) -> (first offset, end offset)


@dataclass
class Restored:
    table: str
    rows: int
    seconds: float
    indexed: int = 0  # rows read again to rebuild the due-time index (the channels' rules changed)


def _rows(db: Any, offset_key: bytes) -> Iterator[tuple[bytes, bytes]]:
    for key, value in db.items():
        if key != offset_key:
            yield key, value


def _consumer(kafka: KafkaSettings, app_id: str) -> Consumer:
    return Consumer(
        consumer_config(
            kafka,
            f"{app_id}-restore",
            # Bounded read-ahead: librdkafka's defaults queue hundreds of MiB ahead of the writes
            # (measured: 870 MiB resident at 1,000,000 rows, 350 MiB with these), which costs memory and no speed.
            **{
                "fetch.max.bytes": 8 * 1024 * 1024,
                "max.partition.fetch.bytes": 2 * 1024 * 1024,
                "queued.max.messages.kbytes": 16 * 1024,
                "queued.min.messages": 20_000,
            },
        )
    )


def _partitions(table: Any) -> int:
    return int(table.partitions or table.app.conf.topic_partitions)


def watermarks(kafka: KafkaSettings, tables: list[Any]) -> Watermarks:
    """Each changelog partition's first and end offsets, for all the tables at once: two
    ListOffsets requests in all (the admin API), instead of two a partition."""
    from confluent_kafka.admin import AdminClient, OffsetSpec

    tps = [TopicPartition(t.changelog_topic.get_topic_name(), p) for t in tables for p in range(_partitions(t))]
    admin = AdminClient(admin_config(kafka))
    found: dict[tuple[str, int], list[int]] = {(tp.topic, tp.partition): [0, 0] for tp in tps}
    asked = [
        (i, admin.list_offsets({tp: spec for tp in tps}, request_timeout=30))
        for i, spec in enumerate((OffsetSpec.earliest(), OffsetSpec.latest()))
    ]
    for i, futures in asked:
        for tp, future in futures.items():
            found[(tp.topic, tp.partition)][i] = future.result().offset
    return {key: (low, high) for key, (low, high) in found.items()}


def restore_tables(tables: list[Any], kafka: KafkaSettings) -> list[Restored]:
    """Restore several faust tables with one consumer and one look-up of their changelogs'
    offsets (a restart with nothing new then costs two requests, not a client and 12 requests a
    table). Each table's due-time index, if it has one, is fed as in restore_table."""
    if not tables:
        return []
    ends = watermarks(kafka, tables)
    consumer = _consumer(kafka, tables[0].app.conf.id)
    try:
        return [restore_table(t, kafka, getattr(t, "due_index", None), consumer=consumer, offsets=ends) for t in tables]
    finally:
        consumer.close()


def _stored_offset(store: Any, path: Path) -> bytes | None:
    """faust's offset in a partition's files, read from a read-only open: a read-write open
    writes and syncs a new manifest (measured: 0.7-0.85 s for the 18 partitions of a restart on
    the bench's machine, 0.1-0.16 s read-only), and a restart has nothing to write to most of
    them. A read-only open still reads the write-ahead log that a crash left."""
    import rocksdict

    if not (path / "CURRENT").exists():
        return None
    db = rocksdict.Rdict(
        str(path), options=store.rocksdb_options.as_options(), access_type=rocksdict.AccessType.read_only()
    )
    try:
        stored = db.get(store.offset_key)
        return bytes(stored) if stored is not None else None
    finally:
        db.close()


def restore_table(
    table: Any,
    kafka: KafkaSettings,
    index: DueIndex | None = None,
    *,
    consumer: Consumer | None = None,
    offsets: Watermarks | None = None,
) -> Restored:
    """Restore one faust table (RocksDB store) from its changelog, every partition. Without a
    `consumer` and its changelogs' `offsets` (restore_tables passes both) it makes them."""
    if consumer is None or offsets is None:
        ends_of = watermarks(kafka, [table])
        own = _consumer(kafka, table.app.conf.id)
        try:
            return restore_table(table, kafka, index, consumer=own, offsets=ends_of)
        finally:
            own.close()
    import rocksdict

    began = time.monotonic()
    store = table.data
    topic = table.changelog_topic.get_topic_name()
    partitions = _partitions(table)
    dbs: dict[int, Any] = {}
    ends: dict[int, int] = {}
    starts: list[TopicPartition] = []
    # The due-time index, per partition: followed record by record (indexed under today's rules),
    # collected from the records and written at the end (an empty store: a key's last record
    # wins), or rebuilt from the rows once they are back (rows indexed under other rules).
    collect: dict[int, dict[bytes, str]] = {}  # only the rows due some day: the waiting ones
    stale: set[int] = set()
    rows = indexed = 0
    unlogged = rocksdict.WriteOptions()
    # The files are flushed when closed; a crash re-reads from the last offset. (A property at run
    # time, a method in rocksdict's stubs.)
    unlogged.disable_wal = True  # type: ignore[assignment,method-assign]
    try:
        for p in range(partitions):
            path = store.partition_path(p)
            path.parent.mkdir(parents=True, exist_ok=True)
            stored = _stored_offset(store, path)
            if index is not None and stored is None:
                collect[p] = {}
            elif index is not None and not index.current(p):
                stale.add(p)
            low, high = offsets[(topic, p)]
            start = int(stored) + 1 if stored is not None else max(low, 0)
            if start < high or p in stale:
                dbs[p] = store.rocksdb_options.open(path)  # written to (or its rows read again)
            if start < high:
                ends[p] = high
                starts.append(TopicPartition(topic, p, start if stored is not None else OFFSET_BEGINNING))
        if starts:
            consumer.assign(starts)
        while ends:
            batches: dict[int, Any] = {}
            last: dict[int, int] = {}
            # A short wait: consume() waits out its whole timeout unless BATCH records come, and
            # a restart reads a partition's few new records (1 s a call was 3 s of a restart).
            for message in consumer.consume(BATCH, timeout=0.05):
                if message.error():
                    raise RuntimeError(f"restoring {topic}: {message.error()}")
                part, offset, key = message.partition(), message.offset(), message.key()
                if part is None or offset is None or part not in ends or key is None or message.topic() != topic:
                    continue
                batch = batches.get(part)
                if batch is None:
                    batch = batches[part] = rocksdict.WriteBatch(raw_mode=True)
                value = message.value()
                if value is None:
                    batch.delete(key)
                else:
                    batch.put(key, value)
                if index is not None and part in collect:
                    due = index.due_of(key, value)
                    if due is None:
                        collect[part].pop(key, None)
                    else:
                        collect[part][key] = due
                elif index is not None and part not in stale:
                    index.update(part, key, value)
                last[part] = offset
                rows += 1
            for p, batch in batches.items():
                batch.put(store.offset_key, str(last[p]).encode())  # faust's own: it reads on from here
                dbs[p].write(batch, unlogged)
            for p in list(ends):
                position = consumer.position([TopicPartition(topic, p)])[0].offset
                if last.get(p, -1) >= ends[p] - 1 or position >= ends[p]:
                    del ends[p]
        if index is not None:
            for p, dues in collect.items():
                index.fill(p, dues.items())
            for p in sorted(stale):
                indexed += index.rebuild(p, _rows(dbs[p], store.offset_key))
    finally:
        consumer.unassign()
        for db in dbs.values():
            db.close()
        if index is not None:
            index.close()  # reopened by the worker
    return Restored(table.name, rows, time.monotonic() - began, indexed)

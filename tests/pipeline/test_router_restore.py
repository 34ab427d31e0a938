"""The router's bulk restore on the real broker: the links changelog comes back into the RocksDB
files faust opens, with faust's offset (so faust reads on from there), deletions applied, the
due-time index filled; a second start reads only what the changelog gained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from confluent_kafka import Producer

from threadline_common.settings import KafkaSettings
from threadline_router.app import create_app
from threadline_router.restore import restore_table, restore_tables
from threadline_router.settings import RouterSettings

pytestmark = pytest.mark.integration

CHANNELS = "channels:\n  C1: {name: support, reminders: {after_minutes: 30}}\n"


def row(ts: str, waiting_since: str | None = None) -> bytes:
    key = f"T1:C1:{ts}"
    return json.dumps(
        {
            "schema_version": 2,
            "conversation_id": key,
            "team_id": "T1",
            "channel_id": "C1",
            "thread_ts": ts,
            "origin": "slack",
            "status": "open",
            "created_at": "2026-11-20T10:00:00.000Z",
            "updated_at": "2026-11-20T10:00:00.000Z",
            "requester_slack_id": "U1",
            "ticket_id": 7,
            "ticket_url": "https://sandbox.zendesk.com/agent/tickets/7",
            "generation": 1,
            "previous_ticket_ids": [],
            "responders": [],
            "moved_to": None,
            "pending_comments": [],
            "seen": [],
            "waiting_since": waiting_since,
            "reminders_sent": 0,
        }
    ).encode()


def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes | None]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "acks": "all"})
    for key, value in records:
        producer.produce(topic, key=key, value=value)
    assert producer.flush(30) == 0


def test_the_changelog_comes_back_into_faust_s_files_and_a_restart_reads_only_the_rest(
    kafka_bootstrap, kafka_topics, tmp_path: Path
):
    channels = tmp_path / "channels.yaml"
    channels.write_text(CHANNELS)
    settings = RouterSettings(channels_file=channels, data_dir=tmp_path / "data", partitions=2, store="rocksdb://")
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=kafka_topics.prefix)
    keys = [f"T1:C1:{i}.000100".encode() for i in range(20)]
    produce(
        kafka_bootstrap,
        kafka_topics.links,
        [(k, row(k.decode().rsplit(":", 1)[1])) for k in keys]
        + [(keys[0], None)]  # unlinked
        + [(keys[1], row("1.000100", waiting_since="2026-11-20T10:00:00.000Z"))],  # now waiting
    )

    app = create_app(settings, kafka)
    links = app.tables["links"]
    first = restore_table(links, kafka, links.due_index)
    assert (first.rows, first.indexed) == (22, 0), "every record read once (the index made from them)"

    store = links.data
    found: dict[bytes, bytes] = {}
    offsets = []
    for p in range(2):
        db = store.rocksdb_options.open(store.partition_path(p))
        offsets.append(int(db.get(store.offset_key)))
        found.update((k, v) for k, v in db.items() if k != store.offset_key)
        db.close()
    assert set(found) == set(keys[1:])
    assert json.loads(found[keys[1]])["waiting_since"] == "2026-11-20T10:00:00.000Z", "the latest record wins"
    assert sum(o + 1 for o in offsets) == 22, "faust's offset: the last record of each partition"
    index = links.due_index
    assert [k for p in range(2) for k in index.due(p, "2026-11-20T10:30:00.000Z")] == [keys[1]]
    index.close()

    produce(kafka_bootstrap, kafka_topics.links, [(keys[2], row("2.000100", waiting_since="2026-11-20T11:00:00.000Z"))])
    again = create_app(settings, kafka).tables["links"]
    second = restore_table(again, kafka, again.due_index)
    assert (second.rows, second.indexed) == (1, 0), "a restart reads what was written since, nothing more"
    due = [k for p in range(2) for k in again.due_index.due(p, "2026-11-20T11:30:00.000Z")]
    assert sorted(due) == sorted([keys[1], keys[2]])
    again.due_index.close()

    channels.write_text(CHANNELS.replace("after_minutes: 30", "after_minutes: 120"))
    later = create_app(settings, kafka).tables["links"]
    third = restore_table(later, kafka, later.due_index)
    assert (third.rows, third.indexed) == (0, 19), "other reminder rules: the index is made again from the rows"
    assert [k for p in range(2) for k in later.due_index.due(p, "2026-11-20T11:30:00.000Z")] == []
    assert [k for p in range(2) for k in later.due_index.due(p, "2026-11-20T12:00:00.000Z")] == [keys[1]]
    later.due_index.close()


def test_the_tables_are_restored_together_with_one_consumer_and_a_restart_with_nothing_new_reads_nothing(
    kafka_bootstrap, kafka_topics, tmp_path: Path
):
    channels = tmp_path / "channels.yaml"
    channels.write_text(CHANNELS)
    settings = RouterSettings(channels_file=channels, data_dir=tmp_path / "data", partitions=2, store="rocksdb://")
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=kafka_topics.prefix)
    keys = [f"T1:C1:{i}.000100".encode() for i in range(6)]
    produce(kafka_bootstrap, kafka_topics.links, [(k, row(k.decode().rsplit(":", 1)[1])) for k in keys])
    produce(kafka_bootstrap, kafka_topics.follows, [(b"ticket:7", b'{"followers":[]}'), (b"ticket:8", None)])

    def restore() -> dict[str, int]:
        app = create_app(settings, kafka)
        tables = [app.tables[name] for name in ("links", "follows", "homes")]
        return {done.table: done.rows for done in restore_tables(tables, kafka)}

    assert restore() == {"links": 6, "follows": 2, "homes": 0}
    assert restore() == {"links": 0, "follows": 0, "homes": 0}, "nothing new: nothing read"
    produce(kafka_bootstrap, kafka_topics.follows, [(b"ticket:9", b'{"followers":[]}')])
    assert restore() == {"links": 0, "follows": 1, "homes": 0}, "only what was written since"

    store = create_app(settings, kafka).tables["follows"].data
    found: dict[bytes, bytes] = {}
    for p in range(2):
        db = store.rocksdb_options.open(store.partition_path(p))
        found.update((k, v) for k, v in db.items() if k != store.offset_key)
        db.close()
    assert set(found) == {b"ticket:7", b"ticket:9"}, "each table's rows in its own files, the tombstone applied"

"""The links table's due-time index: which conversations' next reminder falls due when.

The reminder timer reads only the entries due by now (a range read from the start of the
index), so its cost follows the number of reminders due, not the number of conversations.
Per links partition it holds `d<due time>\\0<conversation>` (sorted by time, as RFC 3339 in
UTC with milliseconds sorts) and `c<conversation>` -> that entry (so a changed row replaces its
own entry, whatever rules it was indexed under).

Derived data, kept on the pod and not in a changelog: every row that reaches the table's
store also reaches the index (the conversations agent's writes, faust's recovery and standby
reads through `IndexedTable.apply_changelog_batch`, the bulk restore). It records a fingerprint
of the channels' reminder rules; under other rules it is rebuilt from the table once, at start.

Kept in RocksDB beside the table's own partitions (flat memory, back at once after a restart)
rather than a heap rebuilt from the table at start, which would cost a scan of every row on
each start and memory that grows with the waiting conversations. With the memory store (tests)
it is a dict per partition, gone with the process like the table.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import faust

from threadline_common.channels import ChannelsConfig
from threadline_common.times import format_time
from threadline_router.conversation import Conversation
from threadline_router.rules import next_reminder_at
from threadline_router.table import MALFORMED, BadRow, decode_reminder_fields

log = logging.getLogger(__name__)

_DUE, _CONV, _RULES = b"d", b"c", b"r:rules"
# How the router (msgspec) writes a row that waits on nobody, most of them: no decoding needed.
_NOT_WAITING = b'"waiting_since":null'


class _Partition(Protocol):
    def get(self, key: bytes) -> bytes | None: ...
    def put(self, key: bytes, value: bytes) -> None: ...
    def delete(self, key: bytes) -> None: ...
    def below(self, low: bytes, high: bytes) -> Iterator[bytes]: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...


class _MemoryPartition:
    def __init__(self) -> None:
        self.rows: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.rows.get(key)

    def put(self, key: bytes, value: bytes) -> None:
        self.rows[key] = value

    def delete(self, key: bytes) -> None:
        self.rows.pop(key, None)

    def below(self, low: bytes, high: bytes) -> Iterator[bytes]:
        # Tests only: a sort of what is indexed (waiting conversations), not of the table.
        return iter(sorted(k for k in self.rows if low <= k < high))

    def clear(self) -> None:
        self.rows.clear()

    def close(self) -> None:
        pass


class _RocksPartition:
    def __init__(self, path: Path) -> None:
        import rocksdict

        options = rocksdict.Options(raw_mode=True)
        options.create_if_missing(True)
        options.set_write_buffer_size(4 * 1024 * 1024)  # small: a few keys per waiting conversation
        options.set_max_write_buffer_number(2)
        table = rocksdict.BlockBasedOptions()
        table.set_block_cache(rocksdict.Cache(8 * 1024 * 1024))
        table.set_bloom_filter(10, False)  # most rows have no entry: a lookup that finds none is cheap
        options.set_block_based_table_factory(table)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = rocksdict.Rdict(str(path), options=options)

    def get(self, key: bytes) -> bytes | None:
        value = self.db.get(key)
        return value if isinstance(value, bytes) else None

    def put(self, key: bytes, value: bytes) -> None:
        self.db.put(key, value)

    def delete(self, key: bytes) -> None:
        self.db.delete(key)

    def below(self, low: bytes, high: bytes) -> Iterator[bytes]:
        it = self.db.iter()
        it.seek(low)
        while it.valid():
            key = it.key()
            if key >= high:
                return
            yield key
            it.next()

    def clear(self) -> None:
        self.db.delete_range(b"\x00", b"\xff")

    def close(self) -> None:
        self.db.close()


def rules_fingerprint(channels: ChannelsConfig) -> bytes:
    """What the due times depend on: each channel's rules that have reminders (business hours
    included), and the direct messages' if enabled."""
    rules = {cid: r.model_dump(mode="json") for cid, r in channels.channels.items() if r.reminders}
    if channels.direct_messages.enabled and channels.direct_messages.reminders:
        rules["direct_messages"] = channels.direct_messages.model_dump(mode="json")
    return hashlib.sha256(json.dumps(rules, sort_keys=True).encode()).hexdigest().encode()


class DueIndex:
    def __init__(self, channels: ChannelsConfig, directory: Path | None) -> None:
        """`directory`: where the RocksDB partitions live; None keeps them in memory."""
        self.channels = channels
        self.directory = directory
        self.fingerprint = rules_fingerprint(channels)
        self.partitions: dict[int, _Partition] = {}
        self.on_bad_row: Callable[[bytes, BaseException], None] = lambda key, exc: None
        self.bad_rows = 0  # met so far (the restore's child process hands its count to the worker)
        # Counts bad rows met elsewhere (the restore's child, whose log lines are written already).
        self.count_bad_rows: Callable[[int], None] = lambda n: None

    def _bad(self, key: bytes, exc: BaseException) -> None:
        self.bad_rows += 1
        self.on_bad_row(key, exc)

    def path(self, partition: int) -> Path:
        assert self.directory is not None
        return self.directory / f"links-due-{partition}.db"

    def partition(self, partition: int) -> _Partition:
        try:
            return self.partitions[partition]
        except KeyError:
            made: _Partition = _MemoryPartition() if self.directory is None else _RocksPartition(self.path(partition))
            self.partitions[partition] = made
            return made

    def current(self, partition: int) -> bool:
        """Whether the partition was indexed under today's rules."""
        return self.partition(partition).get(_RULES) == self.fingerprint

    def rebuild(self, partition: int, rows: Iterable[tuple[bytes, bytes]]) -> int:
        """Index a partition afresh from all its rows (new rules, or no index yet). Returns rows read."""
        n = 0

        def dues() -> Iterator[tuple[bytes, str | None]]:
            nonlocal n
            for key, raw in rows:
                n += 1
                yield key, self.due_of(key, raw)

        self.fill(partition, dues())
        return n

    def fill(self, partition: int, dues: Iterable[tuple[bytes, str | None]]) -> None:
        """Replace a partition's index with these due times, one a key (none to look up first)."""
        part = self.partition(partition)
        part.clear()
        for key, due in dues:
            if due is not None:
                entry = _DUE + due.encode() + b"\0" + key
                part.put(entry, b"")
                part.put(_CONV + key, entry)
        part.put(_RULES, self.fingerprint)

    def due_of(self, key: bytes, raw: bytes | None) -> str | None:
        """When this row's next reminder is due (RFC 3339), None if never as it is."""
        if not raw or _NOT_WAITING in raw:
            return None
        try:
            fields = decode_reminder_fields(raw)
            due = next_reminder_at(fields, self.channels.rules_for(fields.channel_id))
        except (BadRow, *MALFORMED) as exc:  # a bad row gets no reminder and stops none
            self._bad(key, exc)
            return None
        return format_time(due) if due is not None else None

    def update(self, partition: int, key: bytes, raw: bytes | None) -> None:
        """A row was written (raw) or deleted (None) in this partition."""
        self.set(partition, key, self.due_of(key, raw))

    def put_state(self, partition: int, key: bytes, state: Conversation | None) -> None:
        """The conversation now in this row (None: no row)."""
        due = None
        if state is not None:
            try:
                due = next_reminder_at(state, self.channels.rules_for(state.channel_id))
            except MALFORMED as exc:
                self._bad(key, exc)
        self.set(partition, key, format_time(due) if due is not None else None)

    def set(self, partition: int, key: bytes, due: str | None) -> None:
        part = self.partition(partition)
        entry = _DUE + due.encode() + b"\0" + key if due is not None else None
        old = part.get(_CONV + key)
        if old == entry:
            return
        if old is not None:
            part.delete(old)
        if entry is None:
            part.delete(_CONV + key)
        else:
            part.put(entry, b"")
            part.put(_CONV + key, entry)

    def due(self, partition: int, now: str) -> list[bytes]:
        """The conversations of this partition whose next reminder is due by `now`."""
        high = _DUE + now.encode() + b"\1"
        return [k.split(b"\0", 1)[1] for k in self.partition(partition).below(_DUE, high)]

    def close(self) -> None:
        for part in self.partitions.values():
            part.close()
        self.partitions.clear()


class IndexedTable(faust.Table):
    """The links table: whatever faust reads back from the changelog (recovery, standby
    replicas) is indexed as it is stored, like the agent's own writes."""

    due_index: DueIndex | None = None

    def apply_changelog_batch(self, batch: Iterable[Any]) -> None:
        events = list(batch)
        super().apply_changelog_batch(events)
        if self.due_index is not None:
            for event in events:
                message = event.message
                self.due_index.update(message.partition, bytes(message.key), message.value)

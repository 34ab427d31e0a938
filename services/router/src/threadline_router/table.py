"""Rows of the links table, decoded. Pure: the bytes of a row in, a `Conversation` or `BadRow` out.

The table's values are whatever its changelog holds: written by this router, but also anything
else that reached `threadline.links` (an older or newer version, a hand-made record, a damaged
one). A row that does not decode must cost only itself: the caller counts it, logs its key once
and goes on (the conversations agent routes the event as if the row were absent, which the
idempotent effects make safe and which writes a good row over the bad one; the reminder scan
skips it).

The router writes v4 rows (every field present); v1..v3 rows are read with the v3 struct (which
reads every earlier version) and upgraded. msgspec checks types, required fields and bounds
while it decodes, in C, so every row is checked, the reminder scan's too.
"""

from __future__ import annotations

import msgspec

from threadline_common.dlq import PoisonMessage
from threadline_common.models import ConversationV3, HomeRow
from threadline_router.conversation import LINKS_VERSION, Conversation, upgrade

LINKS_TOPIC = "threadline.links"
LINKS_VERSIONS = (1, 2, 3, 4)
# What a malformed row can raise anywhere between the bytes and a decision about it.
MALFORMED = (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError, UnicodeDecodeError)


# What msgspec raises on bytes that are not a row (ValidationError is a DecodeError).
UNREADABLE = (msgspec.DecodeError, RecursionError, UnicodeDecodeError)


class BadRow(PoisonMessage):
    """A links-table row that is not a conversation this router can read."""


class _Version(msgspec.Struct):
    schema_version: object = 1  # absent means 1


_CURRENT = msgspec.json.Decoder(Conversation)
_HOME = msgspec.json.Decoder(HomeRow)
_OLDER = msgspec.json.Decoder(ConversationV3)
_VERSION = msgspec.json.Decoder(_Version)
ENCODER = msgspec.json.Encoder()


def decode_row(raw: bytes | str) -> Conversation:
    """The conversation a row holds, as v4."""
    try:
        return _CURRENT.decode(raw)  # what this router writes: one pass
    except UNREADABLE as exc:
        current_error = exc
    try:
        version = _VERSION.decode(raw).schema_version
    except UNREADABLE as exc:
        raise BadRow(f"not a JSON object ({type(exc).__name__}: {str(exc)[:200]})") from exc
    if version not in LINKS_VERSIONS or isinstance(version, bool):
        raise BadRow(f"links schema_version {version!r} is not one of {LINKS_VERSIONS}") from current_error
    if version == LINKS_VERSION:
        raise BadRow(f"not a conversation: {str(current_error)[:200]}") from current_error
    try:
        return upgrade(_OLDER.decode(raw))
    except UNREADABLE as exc:
        raise BadRow(f"not a conversation: {str(exc)[:200]}") from exc


class ReminderFields(msgspec.Struct):
    """What a row's next reminder depends on, in every links version: the due-time index decodes
    only these (msgspec skips the rest unread), several times faster than a whole row."""

    channel_id: str
    schema_version: int = 1
    thread_ts: str | None = None
    status: str = ""
    moved_to: str | None = None
    waiting_since: str | None = None
    reminders_sent: int = 0
    thread_gone_at: str | None = None


_REMINDER_FIELDS = msgspec.json.Decoder(ReminderFields)


def decode_reminder_fields(raw: bytes | str) -> ReminderFields:
    try:
        fields = _REMINDER_FIELDS.decode(raw)
    except UNREADABLE as exc:
        raise BadRow(f"not a conversation: {str(exc)[:200]}") from exc
    if fields.schema_version not in LINKS_VERSIONS:
        raise BadRow(f"links schema_version {fields.schema_version!r} is not one of {LINKS_VERSIONS}")
    return fields


def encode_row(state: Conversation) -> bytes:
    return ENCODER.encode(state)


def decode_home_row(raw: bytes | str) -> HomeRow:
    """A row of the homes table (threadline.homes v1): a person's Home or a channel's queue."""
    try:
        row: HomeRow = _HOME.decode(raw)
    except UNREADABLE as exc:
        raise BadRow(f"not a home row: {str(exc)[:200]}") from exc
    return row


def table_size(table: object) -> int:
    """Rows of a faust table on this worker's active partitions. With RocksDB, its own estimate:
    faust's len() iterates every key (and fills the block cache) on each metrics scrape."""
    store = getattr(table, "data", None)
    actives = getattr(store, "_dbs_for_actives", None)
    if actives is None:
        return len(table)  # type: ignore[arg-type]
    return sum(int(db.property_int_value("rocksdb.estimate-num-keys") or 0) for db in actives())

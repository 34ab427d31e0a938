"""threadline.sync.results records -> the generated SyncResult struct; the router's own
reminder ticks."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from threadline_common.dlq import PoisonMessage
from threadline_router.inbound.events import ReminderTick, SyncResult
from threadline_router.inbound.records import json_record

# The kinds the sync.results contract names (metrics label them).
RESULT_KINDS = frozenset(
    {"ticket_created", "thread_opened", "failed", "thread_gone", "follower_checked", "comment_added"}
)
# sync.results v4 reads every v1..v3 result: one decoder, validating in C.
_RESULTS = msgspec.json.Decoder(SyncResult)


def decode_result(record: bytes | str | dict[str, Any]) -> SyncResult:
    """A threadline.sync.results record (v1..v4) -> the generated SyncResult struct."""
    if record is None:
        raise PoisonMessage("no value (a tombstone)")
    try:
        if isinstance(record, dict):
            return msgspec.convert(record, SyncResult)
        return _RESULTS.decode(record)
    except msgspec.ValidationError as exc:
        raise PoisonMessage(f"not a sync result: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise PoisonMessage(f"not JSON: {exc}") from exc


def decode_tick(record: bytes | str | dict[str, Any]) -> ReminderTick:
    data = json_record(record)
    if data.get("kind") != "reminder_tick" or not data.get("conversation_id") or not data.get("at"):
        raise PoisonMessage("not a reminder tick")
    return ReminderTick(str(data["conversation_id"]), str(data["at"]))


def tick_record(conversation_id: str, at: str) -> bytes:
    return json.dumps({"kind": "reminder_tick", "conversation_id": conversation_id, "at": at}).encode()

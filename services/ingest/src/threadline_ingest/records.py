"""The bytes of the records ingest publishes: the contract's msgspec structs, encoded by msgspec.

The Slack or Zendesk body is embedded as decoded (a JSON value, not the bytes received), so the
record is one JSON document whatever whitespace or escapes the sender used. One case msgspec
cannot write: a lone surrogate (`"\\ud800"` is valid JSON text but no UTF-8 string), which
json.dumps escapes back as it came; such a record is encoded that way, as it always was.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import msgspec

from threadline_common.models import SlackEventRecord, ZendeskEventRecord
from threadline_common.times import format_time

_encoder = msgspec.json.Encoder()


def received_at(now: float) -> str:
    """Unix time -> RFC 3339 in UTC, to the millisecond, as every record writes times."""
    return format_time(datetime.fromtimestamp(now, tz=UTC))


def encode(record: SlackEventRecord | ZendeskEventRecord) -> bytes:
    try:
        return _encoder.encode(record)
    except UnicodeEncodeError:
        return json.dumps(msgspec.to_builtins(record), separators=(",", ":")).encode()

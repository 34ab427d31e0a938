"""Rows of the links table, decoded. Pure: the bytes of a row in, a `Conversation` or `BadRow` out.

The table's values are whatever its changelog holds: written by this router, but also anything
else that reached `threadline.links` (an older or newer version, a hand-made record, a damaged
one). A row that does not decode must cost only itself: the caller counts it, logs its key once
and goes on (the conversations agent routes the event as if the row were absent, which the
idempotent effects make safe and which writes a good row over the bad one; the reminder scan
skips it).
"""

from __future__ import annotations

import json
from typing import Any

from threadline_common.dlq import PoisonMessage
from threadline_common.schemas import SchemaViolation, validate
from threadline_router.rules import Conversation

LINKS_TOPIC = "threadline.links"
LINKS_VERSIONS = (1, 2, 3)
# What a malformed row can raise anywhere between the bytes and a decision about it.
MALFORMED = (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError, UnicodeDecodeError)


class BadRow(PoisonMessage):
    """A links-table row that is not a conversation this router can read."""


def _object(raw: bytes | str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except MALFORMED as exc:
        raise BadRow(f"not JSON ({type(exc).__name__})") from exc
    if not isinstance(data, dict):
        raise BadRow("not a JSON object")
    return data


def decode_row(raw: bytes | str, *, checked: bool = True) -> Conversation:
    """The conversation a row holds. `checked`: against the links contract too (about 0.2 ms),
    what the conversations agent does before it routes; the reminder scan reads every row each
    interval and relies on catching what a malformed row raises instead (see MALFORMED)."""
    data = _object(raw)
    version = data.get("schema_version", 1)
    if version not in LINKS_VERSIONS:
        raise BadRow(f"links schema_version {version!r} is not one of {LINKS_VERSIONS}")
    if checked:
        try:
            validate(LINKS_TOPIC, version, data)
        except SchemaViolation as exc:
            raise BadRow(str(exc)) from exc
    try:
        return Conversation.from_json(data)
    except MALFORMED as exc:
        raise BadRow(f"not a conversation ({type(exc).__name__}: {exc})") from exc

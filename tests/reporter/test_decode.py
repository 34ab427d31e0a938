"""The reporter's fast decoding (msgspec) gives the JSON Schema's verdict on every record: what
it takes, the schema takes; what it refuses is decided by the schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from threadline_common.dlq import PoisonMessage
from threadline_common.schemas import SchemaViolation, validate
from threadline_reporter.documents import _plainly_valid, decode_activity

pytestmark = pytest.mark.unit
EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "threadline.activity" / "1"
RECORDS = [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))]

_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.sampled_from(["", "x", "message", "requester", "2026-11-23T10:01:39Z", "2026-13-40T99:00:00Z", "slack"]),
    st.lists(st.sampled_from(["a", 1, None]), max_size=2),
    st.just({"id": "U1", "role": "agent"}),
    st.just({"id": "U1", "role": "agent", "extra": 1}),
)
_fields = st.sampled_from(
    ["schema_version", "event_id", "type", "conversation_id", "occurred_at", "ticket_id", "actor", "public",
     "tags", "text", "status", "thread_ts", "source", "unknown"]
)  # fmt: skip


def schema_accepts(record: Any) -> bool:
    """What the contract takes: the schema of the version the record claims (1 or 2), else v2's."""
    claimed = record.get("schema_version") if isinstance(record, dict) else None
    version = claimed if type(claimed) is int and claimed in (1, 2) else 2
    try:
        validate("threadline.activity", version, record)
    except SchemaViolation:
        return False
    return True


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(RECORDS), st.lists(st.tuples(_fields, st.one_of(_values, st.just("<del>"))), max_size=3))
def test_what_the_fast_path_takes_the_schema_takes(example: dict[str, Any], changes: list[tuple[str, Any]]) -> None:
    record = json.loads(json.dumps(example))
    for field, value in changes:
        if value == "<del>":
            record.pop(field, None)
        else:
            record[field] = value
    fast = _plainly_valid(json.dumps(record).encode())
    if fast is not None:
        assert schema_accepts(record)
        assert fast == record
    try:
        decoded = decode_activity(json.dumps(record).encode())
    except PoisonMessage as exc:
        # Refused by the schema, or a date-time the schema's pattern takes and no calendar has.
        assert not schema_accepts(record) or exc.reason.startswith("occurred_at")
        return
    assert schema_accepts(record) and decoded == record


def test_every_example_takes_the_fast_path() -> None:
    for record in RECORDS:
        assert _plainly_valid(json.dumps(record).encode()) == record


def test_what_only_the_schema_takes_is_still_taken() -> None:
    # 4017.0 is an integer to JSON Schema, not to msgspec: the schema decides.
    record = {**RECORDS[0], "ticket_id": 4017.0}
    assert _plainly_valid(json.dumps(record).encode()) is None
    assert decode_activity(json.dumps(record).encode())["ticket_id"] == 4017

"""Whatever bytes a links row or an input record holds, decoding raises only the typed error the
agents handle (BadRow, PoisonMessage) or gives None to the ops tools: never another exception,
which would stop the agent, the reminder scan or the command."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from threadline_common.dlq import PoisonMessage
from threadline_router.app import DECODERS
from threadline_router.conversation import Conversation
from threadline_router.ops.kafka_io import json_object
from threadline_router.table import BadRow, decode_row

pytestmark = pytest.mark.unit
EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "threadline.links"
DEEP = b"[" * 100_000 + b"]" * 100_000
BAD = [
    b"\x00\xff garbage",
    b"",
    b"null",
    b"[1, 2]",
    b'"a string"',
    DEEP,
    b'{"schema_version": 99}',
    b'{"schema_version": 2, "channel_id": "C1"}',
    b'{"schema_version": 2, "conversation_id": ["not", "a", "string"]}',
    b'{"conversation_id": "x", "team_id": 1}',
]


@pytest.mark.parametrize("raw", BAD)
def test_a_bad_row_is_a_bad_row(raw):
    with pytest.raises(BadRow):
        decode_row(raw)
    assert json_object(raw) is None or isinstance(json_object(raw), dict)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*/*.json")))
def test_every_example_row_decodes(path):
    data = json.loads(path.read_text())
    assert isinstance(decode_row(json.dumps(data.get("payload", data)).encode()), Conversation)


@pytest.mark.parametrize("source", sorted(DECODERS))
@pytest.mark.parametrize(
    "value",
    [
        None,
        DEEP,
        b"\xff",
        b"[]",
        b'{"kind": "event_callback", "body": "text"}',
        b'{"kind": "event_callback", "body": {"event": [1]}}',
        b'{"kind": "event_webhook", "body": [1]}',
        b'{"kind": "ticket_created", "conversation_id": null}',
        b'{"kind": "backfill_message", "message": "text"}',
    ],
)
def test_a_malformed_record_is_a_poison_message_for_every_decoder(source, value):
    with contextlib.suppress(PoisonMessage):  # dead-lettered by the agent; any other error fails
        DECODERS[source](value)

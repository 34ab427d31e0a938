"""The links table's due-time index: a reminder tick finds exactly the conversations due, in
RocksDB as in memory, as rows change, are deleted or do not decode, and after the rules change."""

from __future__ import annotations

import pytest
from msgspec.structs import replace

from threadline_common.channels import parse_channels
from threadline_router.due_index import DueIndex
from threadline_router.rules import next_reminder_at
from threadline_router.table import encode_row

from .test_support_rules import CHANNELS, ctx, open_c1, tick  # noqa: F401 - ctx is a fixture

pytestmark = pytest.mark.unit


@pytest.fixture(params=["memory", "rocksdb"])
def index(request, ctx, tmp_path):  # noqa: F811
    made = DueIndex(ctx.channels, None if request.param == "memory" else tmp_path / "tables")
    yield made
    made.close()


def test_a_waiting_conversation_is_found_once_due_and_moves_on_after_its_reminder(ctx, index):  # noqa: F811
    state, _ = open_c1(ctx)  # waiting since 10:00; C1 reminds after 30 min, twice at most
    key = state.conversation_id.encode()
    index.update(3, key, encode_row(state))
    assert index.due(3, "2026-11-23T10:29:59.000Z") == []
    assert index.due(3, "2026-11-23T10:30:00.000Z") == [key]
    assert index.due(0, "2026-11-23T12:00:00.000Z") == [], "each partition reads its own"

    reminded = tick(state, ctx, "2026-11-23T10:31:00Z").state
    index.put_state(3, key, reminded)
    assert index.due(3, "2026-11-23T10:31:00.000Z") == [], "the next reminder is 30 min later"
    assert index.due(3, "2026-11-23T11:00:00.000Z") == [key]

    done = tick(reminded, ctx, "2026-11-23T11:00:00Z").state
    index.put_state(3, key, done)
    assert done.reminders_sent == 2 and index.due(3, "2026-11-30T00:00:00.000Z") == [], "max_reminders"


def test_only_what_is_due_is_read_in_time_order_and_a_deleted_row_leaves(ctx, index):  # noqa: F811
    states = [open_c1(ctx, when=f"2026-11-23T10:0{i}:00+00:00")[0] for i in range(5)]
    for s in reversed(states):
        index.put_state(1, s.conversation_id.encode(), s)
    keys = [s.conversation_id.encode() for s in states]
    assert index.due(1, "2026-11-23T10:32:00.000Z") == keys[:3]
    index.update(1, keys[1], None)  # unlinked: a tombstone
    assert index.due(1, "2026-11-23T11:00:00.000Z") == [keys[0], *keys[2:]]


def test_a_row_that_does_not_decode_costs_only_itself(ctx, index):  # noqa: F811
    bad: list[bytes] = []
    index.on_bad_row = lambda key, exc: bad.append(key)
    state, _ = open_c1(ctx)
    key = state.conversation_id.encode()
    index.put_state(2, key, state)
    index.update(2, key, b'{"schema_version": 4, "status": 7}')  # what was indexed for it goes
    index.update(2, b"T1:C1:2.000000", encode_row(replace(state, conversation_id="T1:C1:2.000000")))
    assert bad == [key]
    assert index.due(2, "2026-11-23T11:00:00.000Z") == [b"T1:C1:2.000000"]


def test_the_index_is_rebuilt_from_the_table_when_the_reminder_rules_change(ctx, tmp_path):  # noqa: F811
    state, _ = open_c1(ctx)
    key = state.conversation_id.encode()
    before = DueIndex(ctx.channels, tmp_path)
    before.rebuild(0, [(key, encode_row(state))])
    assert before.current(0)
    before.close()

    slower = {**CHANNELS, "channels": {**CHANNELS["channels"]}}
    slower["channels"]["C1"] = {**CHANNELS["channels"]["C1"], "reminders": {"after_minutes": 90}}
    after = DueIndex(parse_channels(slower), tmp_path)
    assert not after.current(0), "indexed under other rules"
    after.rebuild(0, [(key, encode_row(state))])
    assert after.current(0)
    assert after.due(0, "2026-11-23T11:00:00.000Z") == []
    assert after.due(0, "2026-11-23T11:30:00.000Z") == [key]
    after.close()


def test_the_due_time_is_the_one_reminder_due_checks(ctx):  # noqa: F811
    state, _ = open_c1(ctx)
    rules = ctx.channels.rules_for("C1")
    assert next_reminder_at(state, rules).isoformat() == "2026-11-23T10:30:00+00:00"
    assert next_reminder_at(state, ctx.channels.rules_for("C9")) is None, "a channel not served"

"""Liveness means progress: idle is alive however long ago the last beat; held work without a
beat for the allowed age is stuck."""

from __future__ import annotations

import pytest

from threadline_common.health import Heartbeat

pytestmark = pytest.mark.unit


def test_idle_is_alive_and_held_work_without_progress_is_stuck():
    heartbeat = Heartbeat(max_age_seconds=0.0)
    with heartbeat.working():
        heartbeat._last -= 1  # a second without progress while a record is held
        assert not heartbeat.alive()
    heartbeat._last -= 1
    assert heartbeat.alive()  # nothing held: idle, not stuck
    held = [3]
    counted = Heartbeat(max_age_seconds=0.0, busy=lambda: held[0])
    counted._last -= 1
    assert not counted.alive()
    held[0] = 0
    assert counted.alive()


def test_a_heartbeat_that_counts_no_work_is_alive_while_it_beats():
    heartbeat = Heartbeat(max_age_seconds=60.0)
    assert heartbeat.alive()
    heartbeat._last -= 61
    assert not heartbeat.alive()
    heartbeat.beat()
    assert heartbeat.alive()

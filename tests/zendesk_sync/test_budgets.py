"""Rate budgets per resource: a spent or held resource delays only the calls that need it."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from threadline_zendesk_sync.budgets import Budgets, Window, window_wait

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_minute_window_admits_calls_until_full_then_waits_for_the_oldest():
    assert window_wait([], 100.0, 2) == 0.0
    assert window_wait([50.0], 100.0, 2) == 0.0
    assert window_wait([50.0, 70.0], 100.0, 2) == pytest.approx(10.0)
    assert window_wait([10.0, 50.0, 70.0], 100.0, 2) == pytest.approx(10.0)  # 10.0 is out of the window
    assert window_wait([50.0, 60.0, 70.0], 100.0, 2) == pytest.approx(20.0)


def test_a_hold_delays_until_its_end_even_with_room_in_the_window():
    clock = Clock()
    window = Window(100, 60.0, clock)
    assert window.wait() == 0
    window.hold(30)
    assert window.wait() == pytest.approx(30)
    window.hold(5)  # a shorter hold does not shorten the longer one
    clock.now += 10
    assert window.wait() == pytest.approx(20)


async def test_a_limited_channel_or_method_holds_only_itself_and_zendesk_holds_the_account():
    clock = Clock()
    budgets = Budgets(zendesk_per_minute=1000, channel_interval_seconds=1.0, registry=CollectorRegistry(), clock=clock)
    budgets.slack_limited("chat.postMessage", "C0BUSY", retry_after=30)
    budgets.slack_limited("users.info", None, retry_after=30)
    # Everything else goes at once: another channel's post, another method, Zendesk.
    await asyncio.wait_for(budgets.slack_call("chat.postMessage", "C0QUIET"), 0.5)
    await asyncio.wait_for(budgets.slack_call("conversations.replies", "C0BUSY"), 0.5)
    async with asyncio.timeout(0.5), budgets.zendesk_call():
        pass
    assert budgets._channel("C0BUSY").wait() == pytest.approx(30)
    assert budgets._method("users.info").wait() == pytest.approx(30)
    budgets.zendesk_limited(12)
    assert budgets.zendesk.wait() == pytest.approx(12)


async def test_posts_in_one_channel_are_paced_and_the_wait_is_counted():
    registry = CollectorRegistry()
    budgets = Budgets(zendesk_per_minute=1000, channel_interval_seconds=0.05, registry=registry)
    for _ in range(3):
        await budgets.slack_call("chat.postMessage", "C0SUPPORT")
    waited = registry.get_sample_value(
        "threadline_zendesk_sync_budget_wait_seconds_total", {"resource": "slack_channel"}
    )
    assert waited is not None and waited >= 0.05


async def test_a_zendesk_call_counts_while_it_runs_and_for_a_window_after_it_is_done():
    clock = Clock()
    window = Window(2, 60.0, clock)
    async with window.slot():
        async with window.slot():
            clock.now += 100  # both calls are slow: a minute passes while they run
            assert window.wait() > 0  # still in flight: the budget is spent however long ago they began
        assert window.wait() > 0
    # Both done at t=1100: the next call may go only a window after the first of them finished.
    assert window.wait() == pytest.approx(60.0)
    clock.now += 60
    assert window.wait() == 0

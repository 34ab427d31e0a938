"""The per-conversation executor: order within a key, concurrency across keys, a bound on what
it holds, and cancellation of a partition's lanes on revocation."""

from __future__ import annotations

import asyncio

import pytest

from threadline_common.lanes import Lanes

pytestmark = pytest.mark.unit


async def test_work_of_one_key_runs_in_order_and_keys_run_side_by_side():
    lanes = Lanes(max_in_flight=100)
    done: list[tuple[str, int]] = []
    gate, fast_done = asyncio.Event(), asyncio.Event()

    def work(key: str, n: int, wait: bool = False):
        async def run() -> None:
            if wait:
                await gate.wait()
            done.append((key, n))
            if key == "fast" and n == 2:
                fast_done.set()

        return run

    await lanes.submit("slow", work("slow", 0, wait=True))
    for n in range(1, 4):
        await lanes.submit("slow", work("slow", n))
    for n in range(3):
        await lanes.submit("fast", work("fast", n))
    await asyncio.wait_for(fast_done.wait(), 1)
    # The fast conversation finished while the slow one waits on its first item.
    assert done == [("fast", 0), ("fast", 1), ("fast", 2)]
    gate.set()
    await lanes.drain()
    assert [n for k, n in done if k == "slow"] == [0, 1, 2, 3]
    assert lanes.in_flight == 0 and lanes.busy_lanes == 0


async def test_submit_waits_while_the_executor_is_full():
    lanes = Lanes(max_in_flight=2)
    gate = asyncio.Event()

    async def blocked() -> None:
        await gate.wait()

    await lanes.submit("a", blocked)
    await lanes.submit("b", blocked)
    third = asyncio.create_task(lanes.submit("c", blocked))
    for _ in range(20):  # every task gets its turn, and the third submit still waits
        await asyncio.sleep(0)
    assert not third.done() and lanes.in_flight == 2  # backpressure: nothing more is taken
    gate.set()
    await asyncio.wait_for(third, 1)
    await lanes.drain()


async def test_a_failing_item_does_not_stop_its_lane():
    lanes = Lanes(max_in_flight=10)
    done: list[int] = []

    async def boom() -> None:
        raise RuntimeError("bug")

    async def fine() -> None:
        done.append(1)

    await lanes.submit("k", boom)
    await lanes.submit("k", fine)
    await lanes.drain()
    assert done == [1] and lanes.failures == 1


async def test_cancelling_a_partitions_lanes_drops_their_work_and_frees_the_slots():
    lanes = Lanes(max_in_flight=3)
    gate = asyncio.Event()
    done: list[str] = []

    def work(name: str):
        async def run() -> None:
            await gate.wait()
            done.append(name)

        return run

    await lanes.submit("p0-conv", work("p0 a"), group=0)
    await lanes.submit("p0-conv", work("p0 b"), group=0)
    await lanes.submit("p1-conv", work("p1"), group=1)
    await asyncio.sleep(0)
    assert await lanes.cancel({0}) == 2
    assert lanes.in_flight == 1
    await asyncio.wait_for(lanes.submit("p1-other", work("p1 other"), group=1), 1)  # the slots are back
    gate.set()
    await lanes.drain()
    assert sorted(done) == ["p1", "p1 other"]

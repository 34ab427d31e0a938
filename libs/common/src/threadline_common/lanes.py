"""Ordered per key, concurrent across keys: the executor behind zendesk-sync's commands.

Each key (a conversation) has a lane: its work runs one item at a time, in the order submitted.
Lanes run concurrently, up to `max_in_flight` items held in all (running or queued), so a
conversation waiting on a rate limit or an outage waits alone while the others go on. `submit`
waits while the executor is full: that is the backpressure that stops reading from Kafka.

Why not a library: arroyo's RunTaskWithMultiprocessing and aiokafka's consumers give concurrency
without per-key order, and faust's agent concurrency gives neither order nor a bound per key;
the piece needed here is small (a dict of deques and one task per busy key).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Work = Callable[[], Awaitable[None]]


@dataclass
class _Lane:
    group: Hashable  # what the lane belongs to (a partition): cancelled together on revocation
    items: deque[Work] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None


class Lanes:
    def __init__(self, max_in_flight: int, on_error: Callable[[Hashable, BaseException], None] | None = None) -> None:
        """`on_error`: what to do when work raises (it is meant to handle its own failures, so
        that is a bug); by default it is logged and the lane goes on with its next item."""
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.max_in_flight = max_in_flight
        self.on_error = on_error
        self._lanes: dict[Hashable, _Lane] = {}
        self._held = 0
        # Slots are taken by `submit` and given back synchronously, so a cancellation cannot lose one.
        self._slots = asyncio.Semaphore(max_in_flight)
        self._idle = asyncio.Event()
        self._idle.set()
        self.failures = 0  # work that raised: a bug, logged; the lane goes on

    @property
    def in_flight(self) -> int:
        """Items running or queued."""
        return self._held

    @property
    def busy_lanes(self) -> int:
        return len(self._lanes)

    async def submit(self, key: Hashable, work: Work, group: Hashable = None) -> None:
        """Queue `work` behind the key's earlier work; waits while `max_in_flight` items are held."""
        await self._slots.acquire()
        self._held += 1
        self._idle.clear()
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane(group)
        lane.items.append(work)
        if lane.task is None:
            lane.task = asyncio.create_task(self._run(key, lane), name=f"lane:{key}")

    async def _run(self, key: Hashable, lane: _Lane) -> None:
        try:
            while lane.items:
                work = lane.items[0]
                try:
                    await work()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # work handles its own failures: this is a bug
                    self.failures += 1
                    if self.on_error is not None:
                        self.on_error(key, exc)
                    log.exception("work on %s failed unexpectedly", key)
                lane.items.popleft()
                self._release(1)
        finally:
            if self._lanes.get(key) is lane:
                del self._lanes[key]

    def _release(self, n: int) -> None:
        self._held -= n
        for _ in range(n):
            self._slots.release()
        if self._held == 0:
            self._idle.set()

    async def cancel(self, groups: set[Hashable] | None = None) -> int:
        """Stop the lanes of `groups` (all when None), dropping what they had queued; returns how
        many items were dropped. What was cut off mid-way is redone by whoever reads it next."""
        doomed = [(k, lane) for k, lane in self._lanes.items() if groups is None or lane.group in groups]
        dropped = 0
        for key, lane in doomed:
            dropped += len(lane.items)
            lane.items.clear()
            if lane.task is not None:
                lane.task.cancel()
            self._lanes.pop(key, None)
        for _, lane in doomed:
            if lane.task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await lane.task
        self._release(dropped)
        return dropped

    async def drain(self) -> None:
        """Wait until everything submitted is done."""
        await self._idle.wait()

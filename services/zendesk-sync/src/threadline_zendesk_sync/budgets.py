"""Rate budgets per resource, not per process: a limited resource delays only what needs it.

- Zendesk: one budget per account (requests per minute, our share of the plan's limit); a 429's
  Retry-After holds the whole account, as Zendesk means it to.
- Slack: posting is paced per channel (Slack allows about one message per second in a channel);
  a 429 holds the method it answered, or for posts the channel posted in, for its Retry-After.
  Slack's per-method tiers are minimums that real workspaces exceed in bursts, so methods are
  not paced ahead of time: Slack's own 429 says when a method is spent.

Every wait is counted per resource kind (threadline_zendesk_sync_budget_wait_seconds_total), so
a dashboard shows which resource holds commands back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter

Clock = Callable[[], float]
# Methods whose 429 is about the channel posted in rather than the method as a whole.
POSTING = frozenset({"chat.postMessage", "chat.postEphemeral"})


def window_wait(calls: list[float], now: float, per_window: int, window: float = 60.0) -> float:
    """Seconds until one more call fits in a sliding window holding `calls` (oldest first)."""
    recent = [t for t in calls if now - t < window]
    if len(recent) < per_window:
        return 0.0
    return recent[len(recent) - per_window] + window - now


# A slot taken for a call still in flight: it counts in every window until the call is done.
IN_FLIGHT = float("inf")
# How often a full window looks again for a call in flight to finish.
IN_FLIGHT_POLL_SECONDS = 0.05


@dataclass
class Window:
    """At most `per_window` calls in any `window` seconds, and none while held (Retry-After).

    A call counts from when its slot is taken until a window after it is done (`slot()`), so the
    server, which counts a request somewhere between the two, never sees more than `per_window`
    in any window of its own however long calls queue or take."""

    per_window: int
    window: float = 60.0
    clock: Clock = time.monotonic
    held_until: float = 0.0
    _calls: list[float] = field(default_factory=list)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def hold(self, seconds: float) -> None:
        self.held_until = max(self.held_until, self.clock() + seconds)

    def wait(self) -> float:
        now = self.clock()
        pause = max(self.held_until - now, window_wait(sorted(self._calls), now, self.per_window, self.window))
        return IN_FLIGHT_POLL_SECONDS if pause == IN_FLIGHT else pause

    async def take(self, in_flight: bool = False) -> float:
        """Wait for a free slot; returns the seconds waited. With `in_flight` the slot counts as
        in use until `done()`."""
        waited = 0.0
        async with self._lock:  # one waiter at a time: slots go in the order they were asked for
            while (pause := self.wait()) > 0:
                await asyncio.sleep(pause)
                waited += pause
            now = self.clock()
            self._calls = [t for t in self._calls if now - t < self.window] + [IN_FLIGHT if in_flight else now]
        return waited

    def done(self) -> None:
        """A call taken `in_flight` is done: it counts from now on, for one window."""
        if IN_FLIGHT in self._calls:
            self._calls[self._calls.index(IN_FLIGHT)] = self.clock()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[float]:
        """A slot for one call, held while the call runs; yields the seconds waited for it."""
        waited = await self.take(in_flight=True)
        try:
            yield waited
        finally:
            self.done()


class Budgets:
    def __init__(
        self,
        zendesk_per_minute: int,
        channel_interval_seconds: float,
        registry: CollectorRegistry | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.clock = clock
        self.zendesk = Window(zendesk_per_minute, 60.0, clock)
        self.channel_interval = channel_interval_seconds
        self._channels: dict[str, Window] = {}
        self._methods: dict[str, Window] = {}
        self.waited = Counter(
            "threadline_zendesk_sync_budget_wait_seconds",
            "Seconds commands waited for a rate budget, by resource (zendesk, slack_channel, slack_method)",
            ["resource"],
            registry=registry,
        )

    def _channel(self, channel: str) -> Window:
        if channel not in self._channels:
            # One post per interval: a window of one call.
            self._channels[channel] = Window(1, self.channel_interval, self.clock)
        return self._channels[channel]

    def _method(self, method: str) -> Window:
        if method not in self._methods:
            self._methods[method] = Window(1_000_000, 60.0, self.clock)  # only held, never paced
        return self._methods[method]

    @asynccontextmanager
    async def zendesk_call(self) -> AsyncIterator[None]:
        """Around one Zendesk request: it counts against the account's budget while it runs and
        for a minute after it is done."""
        async with self.zendesk.slot() as waited:
            self._count("zendesk", waited)
            yield

    def zendesk_limited(self, retry_after: float) -> None:
        self.zendesk.hold(retry_after)

    async def slack_call(self, method: str, channel: str | None = None) -> None:
        if method in POSTING and channel:
            self._count("slack_channel", await self._channel(channel).take())
        else:
            self._count("slack_method", await self._method(method).take())

    def slack_limited(self, method: str, channel: str | None, retry_after: float) -> None:
        if method in POSTING and channel:
            self._channel(channel).hold(retry_after)
        else:
            self._method(method).hold(retry_after)

    def _count(self, resource: str, seconds: float) -> None:
        if seconds > 0:
            self.waited.labels(resource).inc(seconds)

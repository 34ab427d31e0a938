"""One retry policy for transient failures (tenacity), used wherever a service waits on a SaaS.

A transient failure (429, 5xx, a timeout, a refused connection) is retried for as long as it
lasts: an outage of Zendesk for an hour delays its conversations by an hour and loses nothing.
The pause grows exponentially with jitter (so that workers do not retry in step) up to a cap;
a server's Retry-After wins. Only `give_up_after` attempts, when set, end it (tests, tools).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_never,
    wait_random_exponential,
)

T = TypeVar("T")


class TransientError(Exception):
    """Worth retrying after a pause (rate limit, 5xx, timeout, unreachable). `service` names who
    failed (zendesk, slack, ...), so a caller can tell people which side is down."""

    def __init__(self, reason: str, retry_after: float | None = None, service: str = "") -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.service = service


@dataclass(frozen=True)
class Attempt:
    """What a retry hook is told: the failure, how many attempts failed, the pause before the
    next one and how long the failures have lasted."""

    error: TransientError
    number: int
    pause: float
    failing_for: float


OnRetry = Callable[[Attempt], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    max_backoff_seconds: float = 30.0
    initial_seconds: float = 0.5
    give_up_after: int | None = None

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return max(0.0, min(float(retry_after), self.max_backoff_seconds * 4))
        # Full jitter: uniform up to the exponential ceiling, so that workers do not retry in step.
        jittered = wait_random_exponential(multiplier=self.initial_seconds, max=self.max_backoff_seconds)
        return float(jittered(state))

    async def run(
        self,
        call: Callable[[], Awaitable[T]],
        on_retry: OnRetry | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> T:
        """`call` until it returns, raises something not transient, or (with give_up_after) has
        failed that many times, when its last TransientError is raised."""
        started = time.monotonic()

        async def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            if on_retry is not None and isinstance(error, TransientError):
                pause = state.next_action.sleep if state.next_action else 0.0
                await on_retry(Attempt(error, state.attempt_number, pause, time.monotonic() - started))

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TransientError),
            wait=self._wait,
            stop=stop_never if self.give_up_after is None else stop_after_attempt(self.give_up_after),
            before_sleep=before_sleep,
            sleep=sleep,
            reraise=True,
        )

        async def attempt() -> T:  # tenacity awaits only what it sees is a coroutine function
            return await call()

        return await retrying(attempt)

    def run_sync(
        self,
        call: Callable[[], T],
        on_retry: Callable[[Attempt], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        until: Callable[[], bool] | None = None,
    ) -> T:
        """The same policy for a thread's loop. `sleep` may do useful waiting (a consumer keeps
        polling while it pauses); `until` ends the retrying early (a stop), raising the last failure."""
        started = time.monotonic()

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            if on_retry is not None and isinstance(error, TransientError):
                pause = state.next_action.sleep if state.next_action else 0.0
                on_retry(Attempt(error, state.attempt_number, pause, time.monotonic() - started))

        def stop(state: RetryCallState) -> bool:
            if until is not None and until():
                return True
            return self.give_up_after is not None and state.attempt_number >= self.give_up_after

        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            wait=self._wait,
            stop=stop,
            before_sleep=before_sleep,
            sleep=sleep,
            reraise=True,
        )
        return retrying(call)

"""The retry policy: transient failures retried for as long as they last, Retry-After obeyed,
pauses capped, everything else raised at once."""

from __future__ import annotations

import pytest

from threadline_common.retry import Attempt, RetryPolicy, TransientError

pytestmark = pytest.mark.unit


class Flaky:
    def __init__(self, failures: int, retry_after: float | None = None) -> None:
        self.failures, self.retry_after, self.calls = failures, retry_after, 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise TransientError("Zendesk answered 503", self.retry_after)
        return "done"


async def test_a_long_outage_is_waited_out_with_capped_pauses():
    slept: list[float] = []
    seen: list[Attempt] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def on_retry(attempt: Attempt) -> None:
        seen.append(attempt)

    flaky = Flaky(failures=200)  # far past any fixed number of attempts
    policy = RetryPolicy(max_backoff_seconds=30)
    assert await policy.run(flaky, on_retry, sleep=sleep) == "done"
    assert flaky.calls == 201 and len(slept) == 200
    assert all(0 <= s <= 30 for s in slept) and max(slept[20:]) > 5  # it grows, then stays under the cap
    assert [a.number for a in seen[:3]] == [1, 2, 3] and seen[0].error.args == ("Zendesk answered 503",)


async def test_retry_after_wins_and_is_bounded():
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    await RetryPolicy(max_backoff_seconds=10).run(Flaky(2, retry_after=7), sleep=sleep)
    assert slept == [7, 7]
    slept.clear()
    await RetryPolicy(max_backoff_seconds=10).run(Flaky(1, retry_after=3600), sleep=sleep)
    assert slept == [40]  # a wild Retry-After is capped at four times the cap


async def test_other_errors_are_not_retried_and_give_up_after_ends_it():
    async def broken() -> None:
        raise ValueError("422")

    async def sleep(seconds: float) -> None:
        pass

    with pytest.raises(ValueError):
        await RetryPolicy().run(broken, sleep=sleep)
    flaky = Flaky(failures=1)
    assert await RetryPolicy().run(lambda: flaky(), sleep=sleep) == "done"  # any callable returning an awaitable
    flaky = Flaky(failures=10)
    with pytest.raises(TransientError):
        await RetryPolicy(give_up_after=3).run(flaky, sleep=sleep)
    assert flaky.calls == 3


def test_the_sync_policy_waits_with_the_callers_sleep_and_stops_when_asked():
    slept: list[float] = []
    flaky = Flaky(failures=3)

    def call() -> str:
        flaky.calls += 1
        if flaky.calls <= flaky.failures:
            raise TransientError("Elasticsearch answered 429", retry_after=2)
        return "done"

    assert RetryPolicy().run_sync(call, sleep=slept.append) == "done"
    assert slept == [2, 2, 2]
    stopping = Flaky(failures=100)

    def never() -> str:
        stopping.calls += 1
        raise TransientError("down")

    with pytest.raises(TransientError):
        RetryPolicy().run_sync(never, sleep=lambda s: None, until=lambda: stopping.calls >= 4)
    assert stopping.calls == 4

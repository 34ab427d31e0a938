"""Liveness and readiness.

Liveness means progress: a stream processor beats as records move through it (each record
done, each attempt at an effect). With nothing to do it is alive however long ago it beat; with
work held (`busy`) and no beat for the allowed age, it is stuck and Kubernetes should restart the
pod. A timer that beats regardless would hide exactly that. Readiness asks the service's
dependencies (Kafka, Elasticsearch) whether they answer.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Heartbeat:
    max_age_seconds: float = 60.0
    # How much work is held right now; None: what `working()` counts, if it is used at all.
    busy: Callable[[], int] | None = None
    _last: float = field(default_factory=time.monotonic)
    _working: int = 0
    _counts_work: bool = False

    def beat(self) -> None:
        self._last = time.monotonic()

    @contextmanager
    def working(self) -> Iterator[None]:
        """Around the handling of one record: held work while inside, a beat when it is done."""
        self._counts_work = True
        self._working += 1
        try:
            yield
        finally:
            self._working -= 1
            self.beat()

    def age(self) -> float:
        return time.monotonic() - self._last

    def alive(self) -> bool:
        held = self.busy() if self.busy is not None else self._working if self._counts_work else None
        if held == 0:
            return True  # idle is not stuck
        return self.age() <= self.max_age_seconds


ReadinessCheck = Callable[[], Awaitable[bool]]


@dataclass
class Readiness:
    checks: dict[str, ReadinessCheck] = field(default_factory=dict)

    def add(self, name: str, check: ReadinessCheck) -> None:
        self.checks[name] = check

    async def report(self) -> tuple[bool, dict[str, bool]]:
        results: dict[str, bool] = {}
        for name, check in self.checks.items():
            try:
                results[name] = bool(await check())
            except Exception:
                results[name] = False
        return all(results.values()), results

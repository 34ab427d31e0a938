"""Liveness and readiness.

A stream processor is alive while its consumer loop keeps beating; a heartbeat older than the
allowed age means the loop is stuck and Kubernetes should restart the pod. Readiness asks the
service's dependencies (Kafka, Elasticsearch) whether they answer.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class Heartbeat:
    max_age_seconds: float = 60.0
    _last: float = field(default_factory=time.monotonic)

    def beat(self) -> None:
        self._last = time.monotonic()

    def age(self) -> float:
        return time.monotonic() - self._last

    def alive(self) -> bool:
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

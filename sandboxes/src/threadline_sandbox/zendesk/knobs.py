"""Runtime settings of a Zendesk sandbox: faults, limits and Zendesk's timers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class Knobs:
    latency_seconds: float = 0.0  # added to every API request
    error_rate: float = 0.0  # share of API requests answered with error_status
    error_status: int = 503  # 500 or 503, or 403 (a failure that lasts until someone fixes it)
    errors_after_commit: bool = False  # the failing request has still done its work (a lost response)
    rate_limit_per_minute: int = 700  # per account, as Zendesk counts it; over it: 429 + Retry-After
    incremental_rate_limit_per_minute: int = 10  # the incremental export endpoints' own limit
    rate_limit_window_seconds: float = 60.0  # shorten to test recovery from 429 quickly
    close_solved_after_seconds: float = 4 * 24 * 3600  # Zendesk's default automation: 4 days
    search_index_delay_seconds: float = 0.0  # Zendesk search sees changes a little late
    idempotency_ttl_seconds: float = 2 * 3600  # how long an Idempotency-Key is remembered
    webhook_timeout_seconds: float = 10.0
    webhook_max_retries: int = 3
    webhook_retry_base_seconds: float = 0.2

    def update(self, changes: dict[str, Any]) -> None:
        """Set knobs by name, converting to each knob's type; unknown names raise KeyError."""
        types = {f.name: type(getattr(self, f.name)) for f in fields(self)}
        for name, value in changes.items():
            if name not in types:
                raise KeyError(name)
            setattr(self, name, types[name](value))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

"""Times as every record writes them: RFC 3339 in UTC with a `Z` (one formatter for all services)."""

from __future__ import annotations

import datetime as dt

UTC = dt.UTC


def parse_time(value: str) -> dt.datetime:
    """RFC 3339 -> aware datetime (Python 3.11 reads 'Z' and any fraction length); naive reads as UTC."""
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def format_time(value: dt.datetime, timespec: str = "milliseconds") -> str:
    """Aware datetime -> RFC 3339 in UTC, e.g. 2026-12-01T10:00:00.000Z."""
    return value.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def now_iso() -> str:
    return format_time(dt.datetime.now(UTC))


def slack_ts_time(ts: str) -> str:
    """Slack ts (epoch seconds) -> RFC 3339, so that activity times do not depend on the clock.
    A ts that is not a number comes back unchanged."""
    try:
        return format_time(dt.datetime.fromtimestamp(float(ts), tz=UTC), timespec="auto")
    except ValueError:
        return ts

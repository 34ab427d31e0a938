"""Durations counted only within business hours, in a channel's timezone (pure).

Each local day is intersected with its opening window, so weekends, nights and daylight-saving
changes fall out of the local calendar instead of being special-cased.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from threadline_common.channels import BusinessHours, ChannelRules

UTC = dt.UTC
# A response target longer than ten years of business days is never reached.
MAX_LOOKBACK_DAYS = 3660


@dataclass(frozen=True)
class Calendar:
    timezone: str = "UTC"
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(17, 0)

    @classmethod
    def of(cls, rules: ChannelRules | None) -> Calendar:
        if rules is None:
            return cls()
        hours: BusinessHours = rules.business_hours
        return cls(rules.timezone, hours.weekdays, hours.start, hours.end)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def business_seconds(self, start: dt.datetime, end: dt.datetime) -> float:
        """Seconds of business time between two instants (0 when end is not after start)."""
        if end <= start:
            return 0.0
        tz = self.tz
        day = start.astimezone(tz).date()
        last = end.astimezone(tz).date()
        total = 0.0
        while day <= last:
            if day.weekday() in self.weekdays:
                opens = dt.datetime.combine(day, self.start, tzinfo=tz)
                closes = dt.datetime.combine(day, self.end, tzinfo=tz)
                lo, hi = max(opens, start), min(closes, end)
                if hi > lo:
                    # In UTC: within one ZoneInfo, Python subtracts wall clocks and misses DST changes.
                    total += (hi.astimezone(UTC) - lo.astimezone(UTC)).total_seconds()
            day += dt.timedelta(days=1)
        return total

    def past_target_before(self, end: dt.datetime, target_seconds: float) -> dt.datetime | None:
        """The instant T such that, for any start, business_seconds(start, end) > target_seconds
        exactly when start < T: walking back from `end` through the opening windows until the
        target is used up. This turns "waiting longer than the target in business hours" into a
        range filter on the start time. None when no wait is ever past it (no business days)."""
        if not self.weekdays:
            return None
        tz = self.tz
        remaining = max(0.0, target_seconds)
        day = end.astimezone(tz).date()
        for _ in range(MAX_LOOKBACK_DAYS):
            if day.weekday() in self.weekdays:
                opens = dt.datetime.combine(day, self.start, tzinfo=tz).astimezone(UTC)
                closes = min(dt.datetime.combine(day, self.end, tzinfo=tz).astimezone(UTC), end.astimezone(UTC))
                length = (closes - opens).total_seconds()
                if length > remaining:
                    return closes - dt.timedelta(seconds=remaining)
                remaining -= max(0.0, length)
            day -= dt.timedelta(days=1)
        return None


def parse_time(value: str) -> dt.datetime:
    """RFC 3339 -> aware datetime (Python 3.11 reads 'Z' and any fraction length)."""
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def format_time(value: dt.datetime) -> str:
    """Aware datetime -> RFC 3339 in UTC with milliseconds, the form every document uses."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

"""Business hours of a channel, in its timezone (pure): is the team there, when is it back, how
much business time lies between two instants, and when a wait in business minutes is up.

Used by the router (out-of-hours notices, reminder thresholds) and the reporter (response times).
Each local day is intersected with its opening window, so weekends, nights and daylight-saving
changes fall out of the local calendar instead of being special-cased; lengths are taken in UTC
(within one ZoneInfo, Python subtracts wall clocks and misses DST changes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from threadline_common.channels import BusinessHours, ChannelRules

UTC = dt.UTC
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
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

    def _window(self, day: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """The opening window of a local day, in UTC."""
        opens = dt.datetime.combine(day, self.start, tzinfo=tz).astimezone(UTC)
        return opens, dt.datetime.combine(day, self.end, tzinfo=tz).astimezone(UTC)

    def is_open(self, at: dt.datetime) -> bool:
        local = at.astimezone(self.tz)
        return local.weekday() in self.weekdays and self.start <= local.time() < self.end

    def next_opening(self, at: dt.datetime) -> dt.datetime:
        """The next time the team is there (`at` itself when it is). Business hours always name at
        least one day, so a week ahead is enough."""
        if self.is_open(at):
            return at
        tz = self.tz
        day = at.astimezone(tz).date()
        for _ in range(8):
            opens = dt.datetime.combine(day, self.start, tzinfo=tz)
            if day.weekday() in self.weekdays and opens > at:
                return opens
            day += dt.timedelta(days=1)
        raise ValueError("business hours name no day")  # the channel config forbids it

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
                opens, closes = self._window(day, tz)
                lo, hi = max(opens, start), min(closes, end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += dt.timedelta(days=1)
        return total

    def after_business_seconds(self, start: dt.datetime, seconds: float) -> dt.datetime | None:
        """The instant at which `seconds` of business time have passed since `start` (a wait that
        starts outside hours starts counting when the team is back). None when no business day
        comes (no weekdays)."""
        if not self.weekdays:
            return None
        tz = self.tz
        remaining = max(0.0, seconds)
        day = start.astimezone(tz).date()
        for _ in range(MAX_LOOKBACK_DAYS):
            if day.weekday() in self.weekdays:
                opens, closes = self._window(day, tz)
                lo = max(opens, start.astimezone(UTC))
                length = (closes - lo).total_seconds()
                if length > 0:
                    if remaining <= length:
                        return lo + dt.timedelta(seconds=remaining)
                    remaining -= length
            day += dt.timedelta(days=1)
        return None

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
                opens, closes = self._window(day, tz)
                closes = min(closes, end.astimezone(UTC))
                length = (closes - opens).total_seconds()
                if length > remaining:
                    return closes - dt.timedelta(seconds=remaining)
                remaining -= max(0.0, length)
            day -= dt.timedelta(days=1)
        return None


def has_business_hours(rules: ChannelRules) -> bool:
    """Whether the channel (or the defaults it falls back to) sets `business_hours`."""
    return "business_hours" in rules.model_fields_set


def is_open(rules: ChannelRules, at: dt.datetime) -> bool:
    return Calendar.of(rules).is_open(at)


def next_opening(rules: ChannelRules, at: dt.datetime) -> dt.datetime:
    return Calendar.of(rules).next_opening(at)


def describe_opening(rules: ChannelRules, at: dt.datetime) -> str:
    """When the team is back, as people say it: "today at 09:00", "tomorrow at 09:00",
    "on Monday at 09:00", with the channel's timezone."""
    tz = ZoneInfo(rules.timezone)
    opens = next_opening(rules, at).astimezone(tz)
    days = (opens.date() - at.astimezone(tz).date()).days
    when = "today" if days == 0 else "tomorrow" if days == 1 else f"on {DAY_NAMES[opens.weekday()]}"
    return f"{when} at {opens:%H:%M} ({rules.timezone})"


def due_after(rules: ChannelRules, since: dt.datetime, minutes: float) -> dt.datetime | None:
    """When a wait of `minutes` that began at `since` is up: in business minutes for a channel
    with business_hours, in wall-clock minutes otherwise. None: never."""
    if has_business_hours(rules):
        return Calendar.of(rules).after_business_seconds(since, minutes * 60)
    return since + dt.timedelta(minutes=minutes)

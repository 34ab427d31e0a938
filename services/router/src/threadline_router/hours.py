"""Business hours of a channel, in its timezone (pure): is the team there, and when is it back."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from threadline_common.channels import ChannelRules

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def parse_time(value: str) -> dt.datetime:
    """RFC 3339 -> aware datetime (naive values are taken as UTC)."""
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def is_open(rules: ChannelRules, at: dt.datetime) -> bool:
    local = at.astimezone(ZoneInfo(rules.timezone))
    hours = rules.business_hours
    return local.weekday() in hours.weekdays and hours.start <= local.time() < hours.end


def next_opening(rules: ChannelRules, at: dt.datetime) -> dt.datetime:
    """The next time the team is there (`at` itself when it is). Business hours always name at
    least one day, so a week ahead is enough."""
    if is_open(rules, at):
        return at
    tz = ZoneInfo(rules.timezone)
    hours = rules.business_hours
    day = at.astimezone(tz).date()
    for _ in range(8):
        opens = dt.datetime.combine(day, hours.start, tzinfo=tz)
        if day.weekday() in hours.weekdays and opens > at:
            return opens
        day += dt.timedelta(days=1)
    raise ValueError("business hours name no day")  # the channel config forbids it


def describe_opening(rules: ChannelRules, at: dt.datetime) -> str:
    """When the team is back, as people say it: "today at 09:00", "tomorrow at 09:00",
    "on Monday at 09:00", with the channel's timezone."""
    tz = ZoneInfo(rules.timezone)
    opens = next_opening(rules, at).astimezone(tz)
    days = (opens.date() - at.astimezone(tz).date()).days
    when = "today" if days == 0 else "tomorrow" if days == 1 else f"on {DAY_NAMES[opens.weekday()]}"
    return f"{when} at {opens:%H:%M} ({rules.timezone})"

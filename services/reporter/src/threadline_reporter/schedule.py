"""Which reports are due (pure): the daily one for yesterday once the channel's local clock has
passed the report time, the weekly one for the seven days before the report day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from threadline_common.channels import WEEKDAYS, ChannelsConfig
from threadline_reporter.reports import Kind


def due_reports(
    now: dt.datetime, channels: ChannelsConfig, daily_at: dt.time, weekly_on: str
) -> list[tuple[Kind, str, dt.date]]:
    due: list[tuple[Kind, str, dt.date]] = []
    for channel_id, rules in sorted(channels.channels.items()):
        if rules.report_channel == "":
            continue
        local = now.astimezone(ZoneInfo(rules.timezone))
        if local.time() < daily_at:
            continue
        today = local.date()
        due.append(("daily", channel_id, today - dt.timedelta(days=1)))
        if WEEKDAYS[today.weekday()] == weekly_on:
            due.append(("weekly", channel_id, today - dt.timedelta(days=7)))
    return due

"""Business hours, once for router and reporter: when the team is there, and when a wait counted
in business minutes is up (reminder thresholds)."""

from __future__ import annotations

import datetime as dt

import pytest

from threadline_common.business_hours import Calendar, due_after, has_business_hours, is_open, next_opening
from threadline_common.channels import parse_channels

pytestmark = pytest.mark.unit

UTC = dt.UTC
CHANNELS = parse_channels(
    {
        "channels": {
            "CHOURS": {
                "business_hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}
            },
            "CPARIS": {
                "timezone": "Europe/Paris",
                "business_hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"},
            },
            "CWALL": {},
        }
    }
)
FRIDAY_17_50 = dt.datetime(2026, 11, 27, 17, 50, tzinfo=UTC)


def rules(channel: str):
    found = CHANNELS.rules_for(channel)
    assert found is not None
    return found


def test_a_request_friday_1750_waiting_30_business_minutes_is_due_monday_0920():
    assert has_business_hours(rules("CHOURS"))
    due = due_after(rules("CHOURS"), FRIDAY_17_50, 30)
    assert due == dt.datetime(2026, 11, 30, 9, 20, tzinfo=UTC), "10 minutes on Friday, 20 on Monday"
    assert due != FRIDAY_17_50 + dt.timedelta(minutes=30)


def test_a_channel_without_business_hours_counts_wall_clock_minutes():
    assert not has_business_hours(rules("CWALL"))
    assert due_after(rules("CWALL"), FRIDAY_17_50, 30) == dt.datetime(2026, 11, 27, 18, 20, tzinfo=UTC)


def test_business_minutes_count_in_the_channel_timezone_and_start_when_the_team_is_back():
    # 17:50 UTC is 18:50 in Paris: closed; Monday opens at 09:00 Paris (08:00 UTC).
    assert due_after(rules("CPARIS"), FRIDAY_17_50, 30) == dt.datetime(2026, 11, 30, 8, 30, tzinfo=UTC)
    # A wait longer than a day's opening carries over to the next business day.
    monday_9 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert due_after(rules("CHOURS"), monday_9, 9 * 60 + 15) == dt.datetime(2026, 12, 1, 9, 15, tzinfo=UTC)


def test_business_minutes_and_business_seconds_agree():
    cal = Calendar.of(rules("CPARIS"))
    start = dt.datetime(2026, 10, 23, 15, 0, tzinfo=UTC)  # across the end of summer time in Paris
    for minutes in (1, 30, 240, 600, 2000):
        due = cal.after_business_seconds(start, minutes * 60)
        assert due is not None and cal.business_seconds(start, due) == minutes * 60


def test_open_and_next_opening():
    assert not is_open(rules("CHOURS"), FRIDAY_17_50 + dt.timedelta(minutes=10))
    assert is_open(rules("CHOURS"), FRIDAY_17_50)
    assert next_opening(rules("CHOURS"), FRIDAY_17_50 + dt.timedelta(minutes=10)) == dt.datetime(
        2026, 11, 30, 9, 0, tzinfo=UTC
    )

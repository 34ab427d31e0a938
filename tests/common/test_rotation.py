"""The rotating fireman's arithmetic (threadline_common.rotation) and its configuration."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from threadline_common.channels import ChannelConfigError, Rotation, parse_channels
from threadline_common.rotation import (
    boundary,
    expand,
    fireman_at,
    last_handover,
    members,
    next_handover,
    period_index,
)

pytestmark = pytest.mark.unit

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
TEAM = ("UALICE", "UBOB", "UCAROL")


def rotation(**kw: object) -> Rotation:
    return Rotation.model_validate({"people": list(TEAM), "start": dt.date(2026, 3, 2), **kw})


def at(tz: ZoneInfo, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)  # type: ignore[misc]


def test_weekly_hands_over_at_nine_local_time_in_turn():
    r = rotation(timezone="Europe/Paris")  # Monday 2 March 2026
    assert fireman_at(r, TEAM, at(PARIS, 2026, 3, 2, 8, 59)) is None  # not started
    assert fireman_at(r, TEAM, at(PARIS, 2026, 3, 2, 9, 0)) == "UALICE"
    assert fireman_at(r, TEAM, at(PARIS, 2026, 3, 9, 8, 59)) == "UALICE"
    assert fireman_at(r, TEAM, at(PARIS, 2026, 3, 9, 9, 0)) == "UBOB"
    assert fireman_at(r, TEAM, at(PARIS, 2026, 3, 16, 9, 0)) == "UCAROL"
    assert fireman_at(r, TEAM, at(PARIS, 2026, 3, 23, 9, 0)) == "UALICE"  # around again


def test_paris_boundaries_stay_at_nine_across_both_dst_changes():
    # Clocks go forward on Sunday 29 March 2026 and back on Sunday 25 October 2026.
    r = rotation(timezone="Europe/Paris", period="daily", start=dt.date(2026, 3, 28))
    utc = [boundary(r, k).astimezone(dt.UTC) for k in range(3)]
    assert [t.hour for t in utc] == [8, 7, 7]  # 09:00 CET, then 09:00 CEST
    assert utc[2] - utc[1] == dt.timedelta(hours=24) and utc[1] - utc[0] == dt.timedelta(hours=23)
    autumn = rotation(timezone="Europe/Paris", period="weekly", start=dt.date(2026, 10, 19))
    assert [boundary(autumn, k).astimezone(dt.UTC).hour for k in range(2)] == [7, 8]
    # One second before 09:00 local the day after each change, still yesterday's fireman.
    assert fireman_at(r, TEAM, at(PARIS, 2026, 3, 30, 8, 59, 59)) == "UBOB"
    assert fireman_at(r, TEAM, at(PARIS, 2026, 3, 30, 9, 0)) == "UCAROL"


def test_new_york_weekly_across_the_march_change():
    # US clocks go forward on Sunday 8 March 2026; the Monday hand-over stays at 09:00 local.
    r = rotation(timezone="America/New_York", start=dt.date(2026, 3, 2))
    assert boundary(r, 1) == at(NEW_YORK, 2026, 3, 9, 9, 0)
    assert boundary(r, 1) - boundary(r, 0) == dt.timedelta(days=7, hours=-1)
    assert fireman_at(r, TEAM, dt.datetime(2026, 3, 9, 12, 59, tzinfo=dt.UTC)) == "UALICE"  # 08:59 EDT
    assert fireman_at(r, TEAM, dt.datetime(2026, 3, 9, 13, 0, tzinfo=dt.UTC)) == "UBOB"  # 09:00 EDT, UTC-4


def test_a_shift_time_in_the_dst_gap_is_the_instant_an_hour_later():
    r = rotation(timezone="Europe/Paris", period="daily", start=dt.datetime(2026, 3, 28, 2, 30))
    assert boundary(r, 1).astimezone(dt.UTC) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)  # 03:30 CEST
    assert period_index(r, boundary(r, 1)) == 1


def test_monthly_from_the_31st_clamps_to_short_months_without_drifting():
    r = rotation(period="monthly", start=dt.date(2026, 1, 31), timezone="UTC")
    days = [boundary(r, k).date() for k in range(4)]
    assert days == [dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31), dt.date(2026, 4, 30)]
    assert fireman_at(r, TEAM, at(dt.UTC, 2026, 3, 30, 12)) == "UBOB"  # still February's
    assert fireman_at(r, TEAM, at(dt.UTC, 2026, 3, 31, 9)) == "UCAROL"


def test_overrides_win_for_their_days_and_end_at_the_next_shift_time():
    r = rotation(
        timezone="Europe/Paris",
        overrides=[{"from": "2026-03-10", "to": "2026-03-11", "person": "UDAVE"}],
    )
    assert fireman_at(r, TEAM, at(PARIS, 2026, 3, 10, 8, 59)) == "UBOB"
    assert fireman_at(r, TEAM, at(PARIS, 2026, 3, 10, 9, 0)) == "UDAVE"
    assert fireman_at(r, TEAM, at(PARIS, 2026, 3, 12, 8, 59)) == "UDAVE"
    assert fireman_at(r, TEAM, at(PARIS, 2026, 3, 12, 9, 0)) == "UBOB"  # back to the week's fireman
    # The hand-overs are the override's edges too.
    assert next_handover(r, at(PARIS, 2026, 3, 9, 12)) == at(PARIS, 2026, 3, 10, 9)
    assert next_handover(r, at(PARIS, 2026, 3, 10, 12)) == at(PARIS, 2026, 3, 12, 9)
    assert last_handover(r, at(PARIS, 2026, 3, 12, 10)) == at(PARIS, 2026, 3, 12, 9)


def test_an_override_before_the_start_or_without_members_still_names_its_person():
    r = rotation(overrides=[{"from": "2026-02-01", "to": "2026-02-01", "person": "UDAVE"}])
    assert fireman_at(r, (), at(dt.UTC, 2026, 2, 1, 12)) == "UDAVE"
    assert fireman_at(r, (), at(dt.UTC, 2026, 3, 3, 12)) is None  # no members: nobody


def test_next_and_last_handover():
    r = rotation(timezone="Europe/Paris")
    assert next_handover(r, at(PARIS, 2026, 2, 1, 0)) == at(PARIS, 2026, 3, 2, 9)  # before the start
    assert last_handover(r, at(PARIS, 2026, 2, 1, 0)) is None
    assert next_handover(r, at(PARIS, 2026, 3, 2, 9)) == at(PARIS, 2026, 3, 9, 9)
    assert last_handover(r, at(PARIS, 2026, 3, 4, 0)) == at(PARIS, 2026, 3, 2, 9)


def test_group_members_are_sorted_and_a_changed_group_reindexes():
    groups = {"STEAM": ("UZED", "UAMY")}
    assert expand(["UBOSS", "STEAM", "UAMY"], groups) == ("UBOSS", "UAMY", "UZED")
    assert expand(["SUNKNOWN"], groups) == ()
    r = rotation(people=["STEAM"], timezone="UTC")
    week_two = at(dt.UTC, 2026, 3, 10, 12)  # period 1
    assert fireman_at(r, expand(r.people, groups), week_two) == "UZED"
    grown = {"STEAM": ("UZED", "UAMY", "UBEN")}  # period 1 of (UAMY, UBEN, UZED)
    assert fireman_at(r, expand(r.people, grown), week_two) == "UBEN"


def test_members_of_the_channel_team():
    config = parse_channels(
        {"channels": {"C1": {"team": ["UBOSS", "STEAM"], "rotation": {"people": "team", "start": "2026-03-02"}}}}
    )
    rules = config.channels["C1"]
    assert members(rules, {"STEAM": ("UAMY",)}) == ("UBOSS", "UAMY")
    assert members(config.defaults, {}) == ()


@pytest.mark.parametrize(
    ("rotation_config", "message"),
    [
        ({"people": ["UAA"], "start": "2026-03-02", "timezone": "Mars/Olympus"}, "rotation.timezone: "),
        ({"people": ["UAA"], "start": "2026-03-02", "period": "yearly"}, "rotation.period: "),
        ({"people": ["bob"], "start": "2026-03-02"}, "rotation.people"),
        ({"people": [], "start": "2026-03-02"}, "rotation.people"),
        ({"people": ["UAA"]}, "rotation.start: Field required"),
        (
            {
                "people": ["UAA"],
                "start": "2026-03-02",
                "overrides": [{"from": "2026-03-05", "to": "2026-03-04", "person": "UBB"}],
            },
            "rotation.overrides[0]: ",
        ),
        (
            {
                "people": ["UAA"],
                "start": "2026-03-02",
                "overrides": [
                    {"from": "2026-03-05", "to": "2026-03-06", "person": "UBB"},
                    {"from": "2026-03-06", "to": "2026-03-07", "person": "UCC"},
                ],
            },
            "overlap",
        ),
        ({"people": ["UAA"], "start": "2026-03-02T08:00:00+01:00"}, "without an offset"),
        ({"people": ["UAA"], "start": "2026-03-02T08:00:00", "handover_time": "09:00"}, "differs from handover_time"),
        ({"people": "team", "start": "2026-03-02"}, "names no team"),
    ],
)
def test_bad_rotations_fail_at_load_naming_their_key_path(rotation_config, message):
    with pytest.raises(ChannelConfigError) as err:
        parse_channels({"channels": {"C1": {"rotation": rotation_config}}}, "channels.yaml")
    assert str(err.value).startswith("channels.yaml: channels.C1")
    assert message in str(err.value)


def test_bad_team_and_team_posts_fail_at_load():
    with pytest.raises(ChannelConfigError, match=r"channels\.C1\.team\[0\]"):
        parse_channels({"channels": {"C1": {"team": ["#support"]}}})
    with pytest.raises(ChannelConfigError, match=r"channels\.C1\.team_posts"):
        parse_channels({"channels": {"C1": {"team_posts": "answer"}}})


def test_a_start_date_hands_over_at_handover_time_and_a_datetime_at_its_own_time():
    assert boundary(Rotation.model_validate({"people": ["UAA"], "start": "2026-03-02"}), 0).hour == 9
    late = Rotation.model_validate({"people": ["UAA"], "start": "2026-03-02", "handover_time": "17:30"})
    assert boundary(late, 0) == at(dt.UTC, 2026, 3, 2, 17, 30)
    r = Rotation.model_validate({"people": ["UAA"], "start": "2026-03-02T14:30:00", "timezone": "Europe/Paris"})
    assert boundary(r, 0) == at(PARIS, 2026, 3, 2, 14, 30)
    assert boundary(r, 1) == at(PARIS, 2026, 3, 9, 14, 30)


ZONES = st.sampled_from(["Europe/Paris", "America/New_York", "Australia/Sydney", "UTC", "Asia/Kolkata"])


@settings(max_examples=200, deadline=None)
@given(
    zone=ZONES,
    period=st.sampled_from(["daily", "weekly", "monthly"]),
    start=st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
    shift=st.times(),
    offset=st.integers(0, 3 * 365 * 24 * 60),
    size=st.integers(1, 5),
)
def test_properties_of_any_rotation(zone, period, start, shift, offset, size):
    r = Rotation.model_validate(
        {
            "people": [f"U{i}X" for i in range(size)],
            "start": start,
            "period": period,
            "timezone": zone,
            "handover_time": shift,
        }
    )
    people = r.people
    assert isinstance(people, tuple)
    instant = boundary(r, 0) + dt.timedelta(minutes=offset)
    k = period_index(r, instant)
    assert k is not None and boundary(r, k) <= instant < boundary(r, k + 1)
    following = next_handover(r, instant)
    assert following > instant and following == boundary(r, k + 1)
    assert last_handover(r, instant) == boundary(r, k)
    # The fireman is constant up to the hand-over, and the next one takes over there.
    assert fireman_at(r, people, following - dt.timedelta(microseconds=1)) == people[k % size]
    assert fireman_at(r, people, following) == people[(k + 1) % size]

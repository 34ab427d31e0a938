"""The rotating fireman's arithmetic: who is in charge at an instant, and when that changes.

Pure: a `Rotation` (the channels YAML), the members in turn, an aware instant.

- Periods begin at `shift_time`, local time in the rotation's timezone, on the start date plus
  k days, weeks or calendar months (months by dateutil's relativedelta from the start, never
  chained: a rotation started on the 31st hands over on the 28th/29th/30th of shorter months and
  on the 31st again after them). A local time that does not exist on a DST day (02:30 when
  clocks go forward) is the instant an hour later; one that exists twice is the first.
- The fireman of period k is `members[k % len(members)]`, k counted from the start (period 0).
  Nothing is stored: a restart or another worker computes the same person.
- Members come in the order the channel lists them; a user group's members, sorted by user id
  (Slack promises no order). When a group's membership changes, the index is taken over the new
  list: the person in charge may change within a period. Accepted: a stored order would need a
  row every worker agrees on, and changes of a team are rare and announced.
- An override (holidays, swaps) wins from its first day's shift time to the shift time of the
  day after its last day. Before the start (and outside overrides), and with no members, there
  is no fireman.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from threadline_common.channels import ChannelRules, Override, Rotation


def _zone(rotation: Rotation) -> ZoneInfo:
    return ZoneInfo(rotation.timezone)


def _at_shift(rotation: Rotation, day: dt.date) -> dt.datetime:
    """`day` at the shift time, local, as a UTC instant (gaps and folds as the docstring says).
    UTC because datetimes sharing one tzinfo compare and subtract by wall clock, not by instant."""
    local = dt.datetime.combine(day, rotation.shift_time, tzinfo=_zone(rotation))
    return local.astimezone(dt.UTC)


def boundary(rotation: Rotation, k: int) -> dt.datetime:
    """The instant period `k` begins (period 0 begins at the start), in UTC."""
    step = {"daily": relativedelta(days=k), "weekly": relativedelta(weeks=k), "monthly": relativedelta(months=k)}
    return _at_shift(rotation, rotation.start_date + step[rotation.period])


def period_index(rotation: Rotation, instant: dt.datetime) -> int | None:
    """Which period `instant` falls in (None before the start)."""
    instant = instant.astimezone(dt.UTC)
    local = instant.astimezone(_zone(rotation))
    start = rotation.start_date
    match rotation.period:
        case "daily":
            k = (local.date() - start).days
        case "weekly":
            k = (local.date() - start).days // 7
        case _:
            k = (local.year - start.year) * 12 + local.month - start.month
    # The estimate is off by at most one (the shift time within the day, a short month).
    while boundary(rotation, k) > instant:
        k -= 1
    while boundary(rotation, k + 1) <= instant:
        k += 1
    return k if k >= 0 else None


def _override_span(rotation: Rotation, override: Override) -> tuple[dt.datetime, dt.datetime]:
    return _at_shift(rotation, override.from_), _at_shift(rotation, override.to + dt.timedelta(days=1))


def override_at(rotation: Rotation, instant: dt.datetime) -> Override | None:
    instant = instant.astimezone(dt.UTC)
    for override in rotation.overrides:
        begins, ends = _override_span(rotation, override)
        if begins <= instant < ends:
            return override
    return None


def fireman_at(rotation: Rotation, members: Sequence[str], instant: dt.datetime) -> str | None:
    """The user in charge at `instant`, or None (before the start, no members)."""
    instant = instant.astimezone(dt.UTC)
    override = override_at(rotation, instant)
    if override is not None:
        return override.person
    k = period_index(rotation, instant)
    if k is None or not members:
        return None
    return members[k % len(members)]


def _changes(rotation: Rotation, around: dt.datetime) -> Iterator[dt.datetime]:
    """Instants near `around` at which the fireman may change: period boundaries next to it and
    every override's edges."""
    k = period_index(rotation, around)
    k = -1 if k is None else k
    yield from (boundary(rotation, i) for i in (k - 1, k, k + 1, k + 2) if i >= 0)
    for override in rotation.overrides:
        yield from _override_span(rotation, override)


def next_handover(rotation: Rotation, instant: dt.datetime) -> dt.datetime:
    """The first instant after `instant` at which the fireman may change (a period boundary or
    an override's edge), in UTC."""
    instant = instant.astimezone(dt.UTC)
    return min(t for t in _changes(rotation, instant) if t > instant)


def last_handover(rotation: Rotation, instant: dt.datetime) -> dt.datetime | None:
    """The latest instant at or before `instant` at which the fireman may have changed (None
    before the start and every override), in UTC."""
    instant = instant.astimezone(dt.UTC)
    return max((t for t in _changes(rotation, instant) if t <= instant), default=None)


def expand(entries: Sequence[str], groups: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """User ids and user groups (S...) as user ids: in the order listed, a group's members
    sorted, each person once. A group whose members are not known (yet) adds nobody."""
    people: list[str] = []
    for entry in entries:
        for user in sorted(groups.get(entry, ())) if entry.startswith("S") else (entry,):
            if user not in people:
                people.append(user)
    return tuple(people)


def members(rules: ChannelRules, groups: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The people of a channel's rotation, in turn."""
    rotation = rules.rotation
    if rotation is None:
        return ()
    return expand(rules.team if rotation.people == "team" else rotation.people, groups)

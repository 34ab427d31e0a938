"""The team and the rotating fireman in the router's rules: a team member's post is no request
(unless configured), the fireman is named on new requests, pinged by reminders, answers
`/support oncall`, and is announced once per hand-over; PagerDuty, when configured, wins."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest
from threadline_testing.records import message_body, slack_record

from threadline_common.channels import parse_channels
from threadline_common.schemas import validate
from threadline_router.inbound import decode_slack
from threadline_router.inbound.rotation import HandoverTick, decode_handover_tick, handover_tick_record
from threadline_router.rules import Context, command_type, route
from threadline_router.rules.fireman import RotationRow, on_handover_tick
from threadline_router.rules.team import is_team_member

from .follow_support import slash
from .test_rules import run
from .test_support_rules import tick, ticket_created, ts_at

pytestmark = pytest.mark.unit

# Weekly from Monday 2 November 2026, 09:00 Paris (08:00 UTC): Alice, Bob, Carol, in turn;
# Dave stands in for Bob on Wednesday 11 and Thursday 12 November.
ROTATION = {
    "people": ["UALICE", "UBOB", "UCAROL"],
    "period": "weekly",
    "start": "2026-11-02",
    "timezone": "Europe/Paris",
    "overrides": [{"from": "2026-11-11", "to": "2026-11-12", "person": "UDAVE"}],
}
CHANNELS = {
    "channels": {
        "C1": {
            "name": "support",
            "team": ["UALICE", "UBOB", "SOPS"],
            "rotation": ROTATION,
            "reminders": {"after_minutes": 30, "max_reminders": 2},
        },
        "C2": {"name": "open-team", "team": ["UALICE"], "team_posts": "open_ticket", "rotation": ROTATION},
        "C3": {"name": "paged", "rotation": ROTATION, "on_call": {"schedule_id": "PSCH"}},
    }
}
GROUPS = {"SOPS": ("UOLGA",)}
MONDAY_9 = "2026-11-09T08:00:00Z"  # Bob's week begins


def epoch(instant: str) -> int:
    return int(dt.datetime.fromisoformat(instant).timestamp())


def context(now: str) -> Context:
    return Context(channels=parse_channels(CHANNELS), bot_user_id="UBOT", bot_id="BBOT", now=now, groups=GROUPS)


def post(channel: str, user: str, when: str = "2026-11-10T10:00:00+00:00", ctx: Context | None = None):
    body = message_body(channel, ts_at(when), "Our deploys fail since this morning")
    body["event"]["user"] = user
    return run([slack_record(body)], ctx or context(when.replace("+00:00", "Z")))


def opened(channel: str, when: str):
    ctx = context(when.replace("+00:00", "Z"))
    state, _ = post(channel, "UCUSTOMER", when, ctx)
    assert state is not None
    return ticket_created(state, ctx)


def test_a_team_members_post_is_no_request_unless_the_channel_opens_them_anyway():
    ctx = context(MONDAY_9)
    rules = ctx.channels.rules_for("C1")
    assert rules is not None
    assert is_team_member(rules, "UALICE", GROUPS) and is_team_member(rules, "UOLGA", GROUPS)  # by the group
    assert not is_team_member(rules, "UCUSTOMER", GROUPS) and not is_team_member(rules, None, GROUPS)
    assert not is_team_member(rules, "UOLGA", {}), "a group not heard of yet has nobody in it"
    for member in ("UALICE", "UOLGA"):
        state, decisions = post("C1", member)
        assert state is None and not [c for d in decisions for c in d.commands]
    state, decisions = post("C1", "UCUSTOMER")
    assert state is not None and command_type(decisions[0].commands[0]) == "zendesk.create_ticket"
    state, decisions = post("C2", "UALICE")  # team_posts: open_ticket
    assert state is not None and command_type(decisions[0].commands[0]) == "zendesk.create_ticket"
    # A direct message is always a request, a team member's too.
    dms = parse_channels({"defaults": {"team": ["UALICE"]}, "direct_messages": {"enabled": True}})
    state, _ = post("D0ALICE", "UALICE", ctx=Context(channels=dms, now=MONDAY_9))
    assert state is not None


def test_a_new_request_names_the_fireman_of_the_moment_and_the_override():
    [named] = opened("C1", "2026-11-10T10:00:00+00:00").commands  # Tuesday of Bob's week
    assert command_type(named) == "slack.post_message" and named.thread_ts is not None
    assert named.text == ":fire_engine: On duty now: <@UBOB>."
    [named] = opened("C1", "2026-11-11T09:00:00+00:00").commands  # Wednesday 10:00 Paris: Dave stands in
    assert named.text == ":fire_engine: On duty now: <@UDAVE>."
    [named] = opened("C1", "2026-11-16T07:59:00+00:00").commands  # 08:59 Paris on Monday: still Bob
    assert "<@UBOB>" in named.text
    [named] = opened("C1", "2026-11-16T08:00:00+00:00").commands
    assert "<@UCAROL>" in named.text
    assert not opened("C1", "2026-11-01T10:00:00+00:00").commands, "before the start nobody is named"


def test_pagerduty_wins_where_it_is_configured():
    decision = opened("C3", "2026-11-10T10:00:00+00:00")
    assert [command_type(c) for c in decision.commands] == ["oncall.notify"]
    answer = route(decode_slack(slash("oncall", channel="C3")), None, context(MONDAY_9))
    assert [command_type(c) for c in answer.commands] == ["oncall.answer"]
    _, posts, reason = on_handover_tick("C3", None, context(MONDAY_9))
    assert not posts and reason == "PagerDuty names who is on call"


def test_reminders_ping_the_fireman_on_duty_when_the_reminder_is_due():
    ctx = context("2026-11-15T22:00:00Z")
    state = opened("C1", "2026-11-15T22:00:00+00:00").state  # Sunday night: Bob's week
    [first] = tick(state, ctx, "2026-11-15T22:45:00Z").commands
    assert first.text == ":hourglass: This request has waited 45 min for an answer. <@UBOB>, could you take a look?"
    [second] = tick(tick(state, ctx, "2026-11-15T22:45:00Z").state, ctx, "2026-11-16T08:30:00Z").commands
    assert "<@UCAROL>" in second.text, "the reminder after the hand-over pings the new fireman"
    assert first.command_id != second.command_id


def test_oncall_answers_the_fireman_and_until_when():
    [answer] = route(decode_slack(slash("oncall")), None, context("2026-11-10T10:00:00Z")).commands
    assert command_type(answer) == "slack.respond"
    # Until Dave's override begins on Wednesday, 09:00 Paris; Slack shows it in the reader's zone.
    until = f"<!date^{epoch('2026-11-11T08:00:00Z')}^{{date_short_pretty}} {{time}}|Wed 11 Nov 09:00 (Europe/Paris)>"
    assert answer.text == f":fire_engine: On duty for <#C1>: <@UBOB>, until {until}."
    help_text = route(decode_slack(slash("help")), None, context(MONDAY_9)).commands[0].text
    assert "weekly rotating fireman" in help_text and "the fireman is reminded" in help_text
    assert "team's own top-level posts do not open tickets" in help_text


def announce(row: RotationRow | None, now: str):
    row, posts, reason = on_handover_tick("C1", row, context(now))
    for command in posts:
        validate("threadline.commands", command.schema_version, msgspec.to_builtins(command))
    return row, posts, reason


def test_each_hand_over_is_announced_once_with_the_clock_moved():
    row, posts, _ = announce(None, "2026-11-09T07:59:00Z")  # first tick: Alice's week, not announced yet
    [first] = posts
    assert first.thread_ts is None and first.channel_id == "C1"
    assert first.text.startswith(f":fire_engine: <@UALICE> is on duty until <!date^{epoch(MONDAY_9)}^")
    assert "(after" not in first.text
    assert announce(row, "2026-11-09T07:59:30Z")[1] == [], "the same hand-over: nothing more"
    row, [bob], _ = announce(row, "2026-11-09T08:00:00Z")  # 09:00 Paris: Bob's week
    assert "<@UBOB> is on duty until" in bob.text and bob.text.endswith("(after <@UALICE>).")
    assert bob.command_id == "handover:C1:2026-11-09T08:00:00Z"
    # Redelivered or repeated ticks, a restart that lost the row: the same id, or nothing.
    assert announce(row, "2026-11-09T08:00:05Z")[1] == []
    assert announce(None, "2026-11-09T09:00:00Z")[1][0].command_id == bob.command_id
    # Dave's days are hand-overs too: to Dave, then back to Bob.
    row, [dave], _ = announce(row, "2026-11-11T08:00:00Z")
    assert (
        f"<@UDAVE> is on duty until <!date^{epoch('2026-11-13T08:00:00Z')}^" in dave.text
        and "(after <@UBOB>)" in dave.text
    )
    row, [back], _ = announce(row, "2026-11-13T08:30:00Z")
    assert "<@UBOB> is on duty" in back.text and "(after <@UDAVE>)" in back.text


def test_a_hand_over_before_the_groups_members_are_known_is_announced_once_they_are():
    channels = parse_channels({"channels": {"C1": {"team": ["SOPS"], "rotation": {**ROTATION, "people": "team"}}}})
    unknown = Context(channels=channels, now=MONDAY_9)
    row, posts, reason = on_handover_tick("C1", None, unknown)
    assert (row, posts, reason) == (None, [], "nobody in charge")
    known = Context(channels=channels, now=MONDAY_9, groups={"SOPS": ("UOLGA", "UMAX")})
    row, [post], _ = on_handover_tick("C1", row, known)
    # Week 1 of (UMAX, UOLGA), sorted: Olga, after Max.
    assert post.text.startswith(":fire_engine: <@UOLGA> is on duty until") and post.text.endswith("(after <@UMAX>).")
    assert on_handover_tick("C1", row, known)[1] == []


def test_hand_over_ticks_travel_as_records_of_the_inbound_topic():
    record = handover_tick_record("C1", MONDAY_9)
    assert decode_handover_tick(record) == HandoverTick("C1", MONDAY_9)


def test_team_records_travel_as_records_of_the_inbound_topic_and_bad_ones_are_poison():
    from threadline_common.dlq import PoisonMessage
    from threadline_router.inbound.teams import TeamMembers, decode_team, team_record

    members = TeamMembers("S0SUPPORT", ("U0BOB", "U0SRE"), MONDAY_9)
    assert decode_team(team_record(members)) == members
    # What zendesk-sync writes (threadline_zendesk_sync.teams.team_record) is what the router reads.
    sent = (
        b'{"kind": "team_members", "usergroup": "S0SUPPORT", "users": ["U0BOB", "U0SRE"], "at": "' + MONDAY_9.encode()
    )
    assert decode_team(sent + b'"}') == members
    for bad in (
        b'{"kind": "team_members", "usergroup": "C1", "users": []}',
        b'{"kind": "team_members", "usergroup": "S1", "users": "U1"}',
        b"[]",
    ):
        with pytest.raises(PoisonMessage):
            decode_team(bad)

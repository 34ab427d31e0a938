"""What support teams configure per channel: emoji actions, out of hours, on call, reminders,
welcome; the rules as pure functions, every output checked against its contract."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest
from threadline_testing.records import message_body, slack_record, zendesk_record

from threadline_common.business_hours import describe_opening, is_open, next_opening
from threadline_common.channels import ChannelConfigError, parse_channels
from threadline_router.inbound import ReminderTick, SyncResult, decode_slack, decode_tick, tick_record
from threadline_router.rules import Context, command_type, reminder_due, route

from .test_rules import assert_valid_output, commands, run

pytestmark = pytest.mark.unit

ENVELOPE = ("type", "schema_version", "command_id", "conversation_id", "issued_at", "cause")


def payload(command) -> dict:
    """What a command says beyond the envelope every command has."""
    return {k: v for k, v in msgspec.to_builtins(command).items() if k not in ENVELOPE}


CHANNELS = {
    "defaults": {"zendesk": {"tags": ["slack"]}},
    "channels": {
        # Every message is a ticket; the on-call person is named and assigned; requester and
        # responders may mark a ticket urgent.
        "C1": {
            "name": "support",
            "zendesk": {"group_id": 10},
            "emoji": {"urgent": {"names": ["rotating_light", "fire"], "who": "requester_and_responders"}},
            "on_call": {"escalation_policy_id": "PPOLSUP", "assign": True},
            "reminders": {"after_minutes": 30, "max_reminders": 2},
            "welcome_message": "Hi {user}, ask away in {channel}.",
        },
        # Only a :ticket: from the people listed opens a ticket; only Sam may solve by emoji;
        # the team works from 9 to 17 in Paris, on weekdays.
        "C2": {
            "name": "infra",
            "zendesk": {"group_id": 20, "priority": "high"},
            "auto_open": False,
            "emoji": {
                "open": {"names": ["ticket"], "who": ["USAM", "UANN"]},
                "resolve": {"names": ["white_check_mark"], "who": ["USAM"]},
            },
            "timezone": "Europe/Paris",
            "business_hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"},
            "out_of_hours": {},
            "reminders": {"after_minutes": 60},
        },
    },
}


@pytest.fixture
def ctx() -> Context:
    return Context(channels=parse_channels(CHANNELS), bot_user_id="UBOT", bot_id="BBOT", now="2026-11-23T10:00:00Z")


def ts_at(when: str) -> str:
    return f"{dt.datetime.fromisoformat(when).timestamp():.6f}"


def reaction(channel: str, ts: str, user: str, name: str, item_user: str = "U1", added: bool = True) -> dict:
    body = {
        "team_id": "T1",
        "type": "event_callback",
        "event_id": f"Ev{user}{name}{ts}",
        "event": {
            "type": "reaction_added" if added else "reaction_removed",
            "user": user,
            "reaction": name,
            "item_user": item_user,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": "1.0",
        },
    }
    return slack_record(body)


def ticket_created(state, ctx, ticket_id=42):
    result = SyncResult(
        kind="ticket_created", conversation_id=state.conversation_id, command_id="c", ticket_id=ticket_id
    )
    decision = route(result, state, ctx)
    assert_valid_output(decision)
    return decision


def tick(state, ctx, at: str):
    decision = route(ReminderTick(state.conversation_id, at), state, ctx)
    assert_valid_output(decision)
    return decision


MONDAY_10_UTC = "2026-11-23T10:00:00+00:00"


def open_c1(ctx, when=MONDAY_10_UTC, text="The VPN is down"):
    ts = ts_at(when)
    state, _ = run([slack_record(message_body("C1", ts, text))], ctx)
    return ticket_created(state, ctx).state, ts


# --- the channel file -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({"auto_open": False}, "channels.C9: Value error, auto_open is false but no emoji.open"),
        ({"on_call": {"assign": True}}, "channels.C9.on_call: Value error, set exactly one of escalation_policy_id"),
        ({"emoji": {"urgent": {"names": [":fire:"]}}}, "channels.C9.emoji.urgent.names[0]: String should match"),
        ({"emoji": {"open": {"names": ["ticket"], "who": ["sam"]}}}, "channels.C9.emoji.open.who"),
        ({"emoji": {"open": {"names": ["ticket"], "who": "admins"}}}, "'requester_and_responders'"),
        ({"reminders": {"after_minutes": 0}}, "channels.C9.reminders.after_minutes: Input should be greater than 0"),
        ({"out_of_hours": {"message": "back {when}"}}, "channels.C9.out_of_hours.message: Value error, unknown"),
        ({"welcome_message": "hi {name}"}, "allowed: user, channel"),
        ({"emoji": {"explode": {"names": ["x"]}}}, "channels.C9.emoji.explode: Extra inputs are not permitted"),
        ({"timezone": "Mars/Olympus"}, "channels.C9.timezone: Value error, unknown timezone 'Mars/Olympus'"),
    ],
)
def test_a_bad_channel_file_names_the_key_and_what_is_expected(rules, expected):
    with pytest.raises(ChannelConfigError) as info:
        parse_channels({"channels": {"C9": rules}}, "channels.yaml")
    assert str(info.value).startswith("channels.yaml: ")
    assert expected in str(info.value)


def test_defaults_apply_per_emoji_action_and_the_old_keys_still_work():
    config = parse_channels(
        {
            "defaults": {"emoji": {"urgent": {"names": ["fire"]}}},
            "channels": {
                "C1": {"emoji": {"resolve": {"names": ["done"], "who": "requester"}}},
                "C2": {"ticket_reaction": "ticket", "resolvers": ["U7"], "resolve_reactions": ["ok"]},
            },
        }
    )
    c1, c2 = config.channels["C1"], config.channels["C2"]
    assert c1.emoji.urgent is not None and c1.emoji.urgent.names == ("fire",)
    assert (c1.resolve_emoji.names, c1.resolve_emoji.who) == (("done",), "requester")
    assert c1.opens_on_message and not c2.opens_on_message
    assert c2.open_emoji is not None and c2.open_emoji.names == ("ticket",)
    assert (c2.resolve_emoji.names, c2.resolve_emoji.who) == (("ok",), ("U7",))


# --- emoji actions ------------------------------------------------------------------------------


def test_a_channel_without_auto_open_waits_for_the_emoji_of_an_allowed_person(ctx):
    ts = ts_at(MONDAY_10_UTC)
    state, decisions = run([slack_record(message_body("C2", ts, "disk full on db-3", user="U1"))], ctx)
    assert state is None and not commands(decisions)

    state, decisions = run([reaction("C2", ts, "UBOB", "ticket")], ctx)
    [deny] = commands(decisions)
    assert state is None and command_type(deny) == "slack.post_ephemeral", "Bob is not among those who may open tickets"
    assert deny.user == "UBOB" and deny.thread_ts == ts
    assert deny.text == (
        "Your :ticket: did not open a ticket: in this channel only <@USAM> or <@UANN> can open a ticket with it."
    )
    state, decisions = run([reaction("C2", ts, "USAM", "eyes")], ctx)
    assert state is None and not commands(decisions)

    state, decisions = run([reaction("C2", ts, "USAM", "ticket")], ctx)
    [create] = commands(decisions)
    assert command_type(create) == "zendesk.create_ticket" and create.fetch_message is True
    assert create.opened_by == "USAM" and create.group_id == 20
    assert create.priority == "high"
    assert state.requester_slack_id == "U1", "the message's author is the requester, not who reacted"

    _, again = run([reaction("C2", ts, "UANN", "ticket")], ctx, state)
    assert not commands(again), "a ticket already exists"


def test_the_urgent_emoji_sets_the_priority_for_the_requester_and_responders_only(ctx):
    state, ts = open_c1(ctx)
    state, decisions = run([reaction("C1", ts, "USTRANGER", "rotating_light")], ctx, state)
    [deny] = commands(decisions)
    assert command_type(deny) == "slack.post_ephemeral" and deny.user == "USTRANGER"
    assert "only the requester or the people who replied can mark this ticket urgent" in deny.text

    state, decisions = run([reaction("C1", ts, "U1", "fire")], ctx, state)
    [urgent] = commands(decisions)
    assert command_type(urgent) == "zendesk.set_priority" and urgent.schema_version == 2
    assert urgent.priority == "urgent" and urgent.ticket_id == 42
    assert urgent.slack_thread_ts == ts and "Marked urgent from Slack by U1" in urgent.comment

    reply = message_body("C1", ts_at("2026-11-23T10:05:00+00:00"), "same here", user="U2", thread_ts=ts)
    state, _ = run([slack_record(reply)], ctx, state)
    _, decisions = run([reaction("C1", ts, "U2", "rotating_light")], ctx, state)
    assert [command_type(c) for c in commands(decisions)] == ["zendesk.set_priority"], "U2 replied: now a responder"


def test_who_may_resolve_by_emoji_is_per_channel(ctx):
    ts = ts_at(MONDAY_10_UTC)
    state, _ = run([reaction("C2", ts, "USAM", "ticket")], ctx)
    state = ticket_created(state, ctx).state
    _, by_requester = run([reaction("C2", ts, "U1", "white_check_mark")], ctx, state)
    [deny] = commands(by_requester)
    assert command_type(deny) == "slack.post_ephemeral", "in C2 only Sam solves by emoji; the requester hears so"
    assert deny.user == "U1" and deny.purpose == "notice"
    assert deny.text == (
        "Your :white_check_mark: did not solve this ticket: in this channel only <@USAM> can solve this ticket with it."
    )
    _, by_sam = run([reaction("C2", ts, "USAM", "white_check_mark")], ctx, state)
    assert [c.status for c in commands(by_sam)] == ["solved"]

    c1_state, c1_ts = open_c1(ctx)
    _, by_anyone = run([reaction("C1", c1_ts, "USTRANGER", "white_check_mark")], ctx, c1_state)
    assert [command_type(c) for c in commands(by_anyone)] == ["zendesk.set_status"], "C1 keeps the default: anyone"


def test_help_mentions_the_urgent_emoji_where_there_is_one(ctx):
    state, ts = open_c1(ctx)
    _, decisions = run([slack_record(message_body("C1", "1800000000.000001", "help", thread_ts=ts))], ctx, state)
    [help_post] = commands(decisions)
    assert ":rotating_light: reaction on the first message marks the ticket urgent" in help_post.text


# --- business hours ----------------------------------------------------------------------------


def test_a_request_out_of_hours_hears_when_the_team_is_back(ctx):
    saturday = ts_at("2026-11-28T15:00:00+00:00")
    own_words = parse_channels(
        {"channels": {"C3": {"timezone": "Europe/Paris", "out_of_hours": {"message": "Back {opens}."}}}}
    )
    _, decisions = run([slack_record(message_body("C3", saturday, "db-3 is down"))], Context(channels=own_words))
    create, notice = commands(decisions)
    assert command_type(create) == "zendesk.create_ticket" and notice.command_id == f"ooh:C3:{saturday}"
    assert notice.text == "Back on Monday at 09:00 (Europe/Paris).", "the message's own time counts"

    _, decisions = run([reaction("C2", saturday, "USAM", "ticket")], ctx.__class__(**{**ctx.__dict__, "now": ""}))
    assert [command_type(c) for c in commands(decisions)] == ["zendesk.create_ticket"], "no time, no guess"

    friday_night = Context(**{**ctx.__dict__, "now": "2026-11-27T17:30:00Z"})  # 18:30 in Paris
    _, decisions = run([reaction("C2", saturday, "USAM", "ticket")], friday_night)
    [_, notice] = commands(decisions)
    assert command_type(notice) == "slack.post_message" and notice.thread_ts == saturday
    assert "will answer on Monday at 09:00 (Europe/Paris)" in notice.text

    tuesday_morning = Context(**{**ctx.__dict__, "now": "2026-11-24T09:30:00Z"})
    _, decisions = run([reaction("C2", saturday, "USAM", "ticket")], tuesday_morning)
    assert [command_type(c) for c in commands(decisions)] == ["zendesk.create_ticket"]


def test_a_channel_without_out_of_hours_never_says_so(ctx):
    saturday = ts_at("2026-11-28T03:00:00+00:00")
    _, decisions = run([slack_record(message_body("C1", saturday, "help"))], ctx)
    assert [command_type(c) for c in commands(decisions)] == ["zendesk.create_ticket"]


def test_next_opening_follows_the_channels_days_and_timezone():
    rules = parse_channels(CHANNELS).channels["C2"]
    at = dt.datetime.fromisoformat
    assert is_open(rules, at("2026-11-23T08:30:00+00:00"))  # 09:30 in Paris, Monday
    assert not is_open(rules, at("2026-11-23T16:30:00+00:00"))  # 17:30 in Paris
    assert next_opening(rules, at("2026-11-23T16:30:00+00:00")) == at("2026-11-24T09:00:00+01:00")
    assert describe_opening(rules, at("2026-11-23T05:00:00+00:00")) == "today at 09:00 (Europe/Paris)"
    assert describe_opening(rules, at("2026-11-23T16:30:00+00:00")) == "tomorrow at 09:00 (Europe/Paris)"
    assert describe_opening(rules, at("2026-11-27T16:30:00+00:00")) == "on Monday at 09:00 (Europe/Paris)"
    # Summer time: Paris is UTC+2 in July.
    assert next_opening(rules, at("2026-07-04T12:00:00+00:00")) == at("2026-07-06T09:00:00+02:00")


# --- on call ---------------------------------------------------------------------------------------


def test_a_new_ticket_names_who_is_on_call_and_may_assign_it(ctx):
    ts = ts_at(MONDAY_10_UTC)
    state, _ = run([slack_record(message_body("C1", ts, "VPN down"))], ctx)
    decision = ticket_created(state, ctx, ticket_id=77)
    [notify] = decision.commands
    assert command_type(notify) == "oncall.notify" and notify.command_id == "oncall:77" and notify.schema_version == 2
    assert payload(notify) == {
        "channel_id": "C1",
        "thread_ts": ts,
        "external_id": state.conversation_id,
        "ticket_id": 77,
        "escalation_policy_id": "PPOLSUP",
        "schedule_id": None,
        "assign": True,
        "reason": "ticket_opened",
        "waited_minutes": None,
    }
    c2_state, _ = run([reaction("C2", ts, "USAM", "ticket")], ctx)
    assert not ticket_created(c2_state, ctx).commands, "C2 has no on-call schedule"


# --- reminders ----------------------------------------------------------------------------------------


def test_a_waiting_conversation_reminds_once_per_threshold_up_to_the_limit(ctx):
    state, _ = open_c1(ctx)  # opened 10:00, C1 reminds after 30 min, twice at most
    assert state.waiting_since == "2026-11-23T10:00:00Z"
    assert not reminder_due(state, ctx.channels.rules_for("C1"), "2026-11-23T10:29:59Z")
    assert not tick(state, ctx, "2026-11-23T10:29:59Z").commands

    first = tick(state, ctx, "2026-11-23T10:31:00Z")
    [remind] = first.commands
    assert command_type(remind) == "oncall.notify" and remind.reason == "reminder"
    assert remind.waited_minutes == 31 and remind.assign is False
    assert first.state.reminders_sent == 1
    assert not tick(first.state, ctx, "2026-11-23T10:45:00Z").commands, "once per threshold"

    second = tick(first.state, ctx, "2026-11-23T11:00:00Z")
    assert len(second.commands) == 1 and second.commands[0].command_id != remind.command_id
    assert not tick(second.state, ctx, "2026-11-23T15:00:00Z").commands, "max_reminders reached"
    # The same tick twice (a redelivery before the state was stored) gives the same command id.
    assert tick(state, ctx, "2026-11-23T10:31:00Z").commands[0].command_id == remind.command_id


def test_an_agents_answer_or_a_solved_ticket_stops_the_reminders_and_a_reply_restarts_them(ctx):
    state, ts = open_c1(ctx)
    comment = zendesk_record(
        "comment_added",
        42,
        state.conversation_id,
        {"comment": {"id": 9, "body": "Looking", "is_public": True, "author": {"id": 5, "is_staff": True}}},
    )
    state, _ = run([comment], ctx, state)
    assert state.waiting_since is None and not tick(state, ctx, "2026-11-23T12:00:00Z").commands

    reply = message_body("C1", ts_at("2026-11-23T12:00:00+00:00"), "still broken", user="U1", thread_ts=ts)
    state, _ = run([slack_record(reply)], ctx, state)
    assert state.waiting_since == "2026-11-23T12:00:00Z"
    assert tick(state, ctx, "2026-11-23T12:31:00Z").commands

    solved = zendesk_record(
        "status_changed", 42, state.conversation_id, {"current": "SOLVED", "previous": "OPEN"}, status="SOLVED"
    )
    state, _ = run([solved], ctx, state)
    assert state.waiting_since is None and not tick(state, ctx, "2026-11-23T18:00:00Z").commands


def test_a_reminder_without_on_call_is_a_notice_and_a_channel_without_reminders_has_none(ctx):
    ts = ts_at(MONDAY_10_UTC)
    state, _ = run([reaction("C2", ts, "USAM", "ticket")], ctx)
    state = ticket_created(state, ctx).state
    [notice] = tick(state, ctx, "2026-11-23T11:30:00Z").commands
    assert command_type(notice) == "slack.post_message" and "has waited 90 min for an answer" in notice.text

    quiet = Context(**{**ctx.__dict__, "channels": parse_channels({"channels": {"C1": {}}})})
    state, _ = run([slack_record(message_body("C1", ts, "hi"))], quiet)
    assert not tick(state, quiet, "2026-11-30T10:00:00Z").commands


def test_reminder_ticks_travel_as_records_of_the_inbound_topic():
    record = tick_record("T1:C1:1.000001", "2026-11-23T10:00:00Z")
    assert decode_tick(record) == ReminderTick("T1:C1:1.000001", "2026-11-23T10:00:00Z")


# --- welcome -----------------------------------------------------------------------------------------


def join(channel: str, user: str) -> dict:
    body = {
        "team_id": "T1",
        "type": "event_callback",
        "event_id": f"EvJoin{user}",
        "event": {"type": "member_joined_channel", "user": user, "channel": channel, "channel_type": "C", "team": "T1"},
    }
    return slack_record(body)


def test_someone_joining_a_support_channel_gets_its_welcome_only_they_see(ctx):
    event = decode_slack(join("C1", "UNEW"))
    decision = route(event, None, ctx)
    assert_valid_output(decision)
    [welcome] = decision.commands
    assert command_type(welcome) == "slack.post_ephemeral" and welcome.user == "UNEW"
    assert welcome.text == "Hi <@UNEW>, ask away in <#C1>."
    assert decision.state is None, "a join is no conversation"
    assert not route(decode_slack(join("C1", "UBOT")), None, ctx).commands, "not for our own join"
    assert not route(decode_slack(join("C2", "UNEW")), None, ctx).commands, "C2 has no welcome"


def test_the_documented_example_file_is_valid_and_its_channels_differ():
    from pathlib import Path

    from threadline_common.channels import load_channels

    config = load_channels(Path(__file__).resolve().parents[2] / "examples" / "channels.yaml")
    support, infra = config.channels["C0SUPPORT"], config.channels["C0INFRA"]
    assert support.opens_on_message and not infra.opens_on_message
    assert support.zendesk.group_id != infra.zendesk.group_id and infra.zendesk.tags == ("slack",)
    assert (support.timezone, infra.timezone) == ("Europe/London", "America/New_York")


def test_a_channel_with_business_hours_counts_the_reminder_threshold_in_business_minutes(ctx):
    hours = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}
    channels = {"channels": {"CBIZ": {"business_hours": hours, "reminders": {"after_minutes": 30}}}}
    biz = Context(**{**ctx.__dict__, "channels": parse_channels(channels), "now": "2026-11-27T17:50:00Z"})
    friday_17_50 = ts_at("2026-11-27T17:50:00+00:00")
    state, _ = run([slack_record(message_body("CBIZ", friday_17_50, "the build is red"))], biz)
    state = ticket_created(state, biz).state
    rules = biz.channels.rules_for("CBIZ")
    assert not reminder_due(state, rules, "2026-11-27T18:20:00Z"), "30 wall-clock minutes, 10 business ones"
    assert not tick(state, biz, "2026-11-30T09:19:00Z").commands
    [notice] = tick(state, biz, "2026-11-30T09:20:00Z").commands
    assert command_type(notice) == "slack.post_message" and "has waited 63 h 30 for an answer" in notice.text

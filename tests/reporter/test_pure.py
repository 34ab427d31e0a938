"""The reporter's decisions, without servers: business hours, the conversation fold, privacy,
documents for every contract example, retention and the schedule."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from elasticsearch import helpers

from threadline_common.business_hours import Calendar
from threadline_common.channels import parse_channels
from threadline_common.dlq import PoisonMessage
from threadline_reporter.documents import (
    TEXT_CHARS,
    Privacy,
    decode_activity,
    doc_id,
    event_document,
    fold_conversation,
    index_actions,
    question_terms,
)
from threadline_reporter.indexer import expand_action
from threadline_reporter.indices import expired_event_indices, retention_cutoff
from threadline_reporter.reports import Period, blocks, duration
from threadline_reporter.schedule import due_reports

pytestmark = pytest.mark.unit
EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "threadline.activity"
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# --- business hours ---------------------------------------------------------------------------


def test_business_hours_skip_the_weekend():
    cal = Calendar("UTC")
    # Friday 16:00 -> Monday 10:00: one hour on Friday, one on Monday.
    assert cal.business_seconds(at("2026-11-20T16:00:00+00:00"), at("2026-11-23T10:00:00+00:00")) == 2 * 3600


def test_business_hours_count_in_the_channel_timezone():
    paris = Calendar("Europe/Paris")
    # 07:30-08:30 UTC is 08:30-09:30 in Paris (winter): only the half hour after 09:00 counts.
    assert paris.business_seconds(at("2026-11-23T07:30:00+00:00"), at("2026-11-23T08:30:00+00:00")) == 1800
    new_york = Calendar("America/New_York")
    # The same instants are at night in New York.
    assert new_york.business_seconds(at("2026-11-23T07:30:00+00:00"), at("2026-11-23T08:30:00+00:00")) == 0


def test_business_hours_across_a_daylight_saving_change():
    paris = Calendar("Europe/Paris", frozenset(range(7)), dt.time(0, 0), dt.time(23, 59, 59))
    # 29 March 2026 has 23 hours in Paris; business time follows the wall clock of each day.
    start, end = at("2026-03-28T23:00:00+00:00"), at("2026-03-29T22:00:00+00:00")
    assert paris.business_seconds(start, end) == pytest.approx((end - start).total_seconds() - 1, abs=1)


def test_business_hours_are_zero_for_a_backwards_interval_and_outside_hours():
    cal = Calendar("UTC")
    assert cal.business_seconds(at("2026-11-23T12:00:00+00:00"), at("2026-11-23T11:00:00+00:00")) == 0
    assert cal.business_seconds(at("2026-11-21T10:00:00+00:00"), at("2026-11-22T18:00:00+00:00")) == 0


def test_channel_config_gives_the_calendar():
    config = parse_channels(
        {
            "defaults": {"timezone": "Europe/Paris", "response_target_minutes": 30},
            "channels": {"C1": {"business_hours": {"days": ["sat"], "start": "10:00", "end": "12:00"}}},
        }
    )
    cal = Calendar.of(config.rules_for("C1"))
    assert cal.timezone == "Europe/Paris" and cal.weekdays == {5}
    assert cal.business_seconds(at("2026-11-21T00:00:00+00:00"), at("2026-11-22T00:00:00+00:00")) == 7200
    assert config.rules_for("C1").response_target_minutes == 30


@pytest.mark.parametrize(
    ("calendar", "target_minutes"),
    [
        (Calendar("UTC"), 60),
        (Calendar("UTC"), 0),
        (Calendar("UTC"), 8 * 60),  # exactly one business day
        (Calendar("Europe/Paris"), 600),
        (Calendar("America/New_York", frozenset({5}), dt.time(10), dt.time(12)), 150),
        (Calendar("Europe/Paris", frozenset(range(7)), dt.time(0, 0), dt.time(23, 59, 59)), 24 * 60),
    ],
    ids=["utc-1h", "utc-0", "utc-8h", "paris-10h", "saturdays-only", "paris-all-week-over-dst"],
)
def test_past_the_target_is_a_range_on_the_opening_time(calendar, target_minutes):
    """Whatever the calendar, `opened_at < past_target_before(end)` holds exactly for the waits
    longer than the target in business hours, so the reports can count them with a range filter."""
    target = target_minutes * 60.0
    for end in (at("2026-11-21T00:00:00+01:00"), at("2026-03-30T00:00:00+02:00"), at("2026-11-23T09:30:00+00:00")):
        cutoff = calendar.past_target_before(end, target)
        assert cutoff is not None
        assert calendar.business_seconds(cutoff, end) == pytest.approx(target, abs=1e-6)
        for minutes in range(0, 14 * 24 * 60, 7):
            start = end - dt.timedelta(minutes=minutes, milliseconds=minutes % 3)
            assert (start < cutoff) == (calendar.business_seconds(start, end) > target), (start, cutoff)


def test_nobody_is_past_the_target_without_business_days():
    assert Calendar("UTC", frozenset()).past_target_before(at("2026-11-21T00:00:00+00:00"), 60) is None


# --- the fold ---------------------------------------------------------------------------------


def activity(event_id, kind, when, actor, role, **more):
    record = {
        "schema_version": 1,
        "event_id": event_id,
        "type": kind,
        "conversation_id": "T1:C1:100.000100",
        "occurred_at": when,
        "channel_id": "C1",
        "thread_ts": "100.000100",
        "ticket_id": more.pop("ticket_id", 7),
        "actor": {"id": actor, "role": role},
        "source": more.pop("source", "slack"),
        "public": more.pop("public", True),
        **more,
    }
    return record


def docs(*records):
    return [event_document(r, Privacy()) for r in records]


STORY = [
    activity("e1", "message", "2026-11-23T09:00:00Z", "UASK", "requester", ticket_id=None, text="help"),
    activity("e2", "ticket_created", "2026-11-23T09:00:05Z", "UASK", "requester", status="new"),
    activity("e3", "reply", "2026-11-23T09:10:00Z", "UASK", "requester", text="anyone?"),
    activity("e4", "reaction", "2026-11-23T09:12:00Z", "USRE", "responder", reaction="eyes"),
    activity("e5", "internal_note", "2026-11-23T09:15:00Z", "900", "agent", public=False, source="zendesk"),
    activity("e6", "reply", "2026-11-23T09:30:00Z", "USRE", "responder", text="on it"),
    activity("e7", "comment", "2026-11-23T09:40:00Z", "901", "agent", source="zendesk", text="fixed", tags=["vpn"]),
    activity("e8", "status_change", "2026-11-23T10:00:00Z", None, "system", status="solved", previous_status="open"),
]


def test_first_response_is_the_first_public_message_by_someone_else():
    conv = fold_conversation(docs(*STORY), Calendar("UTC"))
    assert conv["opened_at"] == "2026-11-23T09:00:00.000Z"
    # Not the requester's own reply, not the reaction, not the internal note.
    assert conv["first_response_at"] == "2026-11-23T09:30:00.000Z"
    assert conv["first_responder_id"] == "USRE"
    assert conv["time_to_first_response_seconds"] == 1800
    assert conv["time_to_first_response_business_seconds"] == 1800
    assert conv["status"] == "solved" and conv["is_open"] is False
    assert conv["time_to_resolution_seconds"] == 3600
    assert conv["responders"] == ["901", "USRE"]
    assert conv["message_count"] == 4 and conv["requester_message_count"] == 2
    assert conv["internal_note_count"] == 1 and conv["tags"] == ["vpn"] and conv["ticket_id"] == 7


def test_bots_and_threadlines_own_zendesk_user_are_not_responses():
    records = [
        STORY[0],
        activity("b1", "reply", "2026-11-23T09:01:00Z", "UBOT", "bot", text="Ticket #7"),
        activity("b2", "comment", "2026-11-23T09:02:00Z", "555", "agent", source="zendesk", text="mirror"),
        activity("b3", "reply", "2026-11-23T09:05:00Z", "USRE", "responder", text="hi"),
    ]
    conv = fold_conversation(docs(*records), Calendar("UTC"), frozenset({"555"}))
    assert conv["first_response_at"] == "2026-11-23T09:05:00.000Z"


def test_each_message_counts_once_not_its_copy_on_the_other_side():
    records = [
        activity("m1", "message", "2026-11-23T09:00:00Z", "UASK", "requester", ticket_id=None, text="help"),
        activity("m2", "ticket_created", "2026-11-23T09:00:05Z", "UASK", "requester", status="new"),  # the same ask
        activity("m3", "reply", "2026-11-23T09:05:00Z", "USRE", "responder", text="on it"),
        # Threadline's copy of m3 in Zendesk, written by its own user.
        activity("m4", "comment", "2026-11-23T09:05:02Z", "555", "agent", source="zendesk", text="Sam: on it"),
        activity("m5", "reply", "2026-11-23T09:06:00Z", "UBOT", "bot", text="Deploy 42 rolled back"),
        activity("m6", "comment", "2026-11-23T09:20:00Z", "901", "agent", source="zendesk", text="fixed"),
        activity("m7", "internal_note", "2026-11-23T09:21:00Z", "901", "agent", source="zendesk", public=False),
    ]
    conv = fold_conversation(docs(*records), Calendar("UTC"), frozenset({"555"}))
    assert conv["message_count"] == 3  # m1, m3, m6
    assert conv["requester_message_count"] == 1
    assert conv["response_count"] == 2 and conv["responders"] == ["901", "USRE"]


def test_a_copy_recounted_after_its_webhook_replaces_the_comment_it_was_counted_as():
    """The mapped user's copy of a Slack reply, first counted as a Zendesk comment, then named a
    copy by the router under the same event id: the fold keeps documents by id, so the copy wins."""
    comment = activity(
        "zd-comment:9", "comment", "2026-11-23T09:05:01Z", "901", "agent", source="zendesk", text="on it"
    )
    copy = {**activity("zd-comment:9", "copy", "2026-11-23T09:05:01Z", None, "system", source="zendesk"),
            "schema_version": 2}  # fmt: skip
    by_id = {doc_id(d["event_id"]): d for d in docs(STORY[0], STORY[5], comment)}
    assert fold_conversation(by_id.values(), Calendar("UTC"))["message_count"] == 3
    by_id.update({doc_id(d["event_id"]): d for d in docs(decode_activity(json.dumps(copy).encode()))})
    conv = fold_conversation(by_id.values(), Calendar("UTC"))
    assert conv["message_count"] == 2 and conv["responders"] == ["USRE"]
    # The same document in the same monthly index: the event's own one is overwritten.
    [first], [second] = index_actions(comment, Privacy(), "t-"), index_actions(copy, Privacy(), "t-")
    assert (first["_index"], first["_id"]) == (second["_index"], second["_id"])


def test_reopen_counts_and_resolution_is_the_last_solve():
    records = [
        *STORY,
        activity(
            "r1", "status_change", "2026-11-23T11:00:00Z", None, "system", status="open", previous_status="solved"
        ),
    ]
    reopened = fold_conversation(docs(*records), Calendar("UTC"))
    assert reopened["reopened_count"] == 1 and reopened["is_open"] is True
    assert reopened["resolved_at"] is None and reopened["time_to_resolution_seconds"] is None
    assert reopened["first_resolved_at"] == "2026-11-23T10:00:00.000Z"
    records.append(
        activity("r2", "status_change", "2026-11-23T12:00:00Z", None, "system", status="closed", previous_status="open")
    )
    solved = fold_conversation(docs(*records), Calendar("UTC"))
    assert solved["reopened_count"] == 1 and solved["resolved_at"] == "2026-11-23T12:00:00.000Z"
    assert solved["time_to_resolution_seconds"] == 3 * 3600


def test_a_creation_noted_after_the_ticket_was_solved_is_not_a_reopening():
    records = [
        STORY[0],
        activity("s1", "status_change", "2026-11-23T09:00:03Z", None, "system", status="solved", previous_status="new"),
        activity("s2", "ticket_created", "2026-11-23T09:00:05Z", "UASK", "requester", status="new"),
    ]
    conv = fold_conversation(docs(*records), Calendar("UTC"))
    assert (conv["status"], conv["reopened_count"]) == ("solved", 0)
    # A follow-up ticket of the same conversation does open it again.
    followup = activity("s3", "ticket_created", "2026-11-23T10:00:00Z", "UASK", "requester", status="new", ticket_id=8)
    conv = fold_conversation(docs(*records, followup), Calendar("UTC"))
    assert (conv["status"], conv["reopened_count"]) == ("new", 1)


def test_the_fold_does_not_depend_on_the_order_of_events():
    forward = fold_conversation(docs(*STORY), Calendar("Europe/Paris"))
    backward = fold_conversation(list(reversed(docs(*STORY))), Calendar("Europe/Paris"))
    assert forward == backward


def test_a_response_over_the_weekend_counts_only_business_time():
    records = [
        activity("w1", "message", "2026-11-20T16:30:00Z", "UASK", "requester"),  # Friday
        activity("w2", "reply", "2026-11-23T09:30:00Z", "USRE", "responder"),  # Monday
    ]
    conv = fold_conversation(docs(*records), Calendar("UTC"))
    assert conv["time_to_first_response_seconds"] == (2 * 86400 + 17 * 3600)
    assert conv["time_to_first_response_business_seconds"] == 3600
    assert conv["status"] == "new" and conv["first_responder_id"] == "USRE"


def test_join_activity_is_not_a_conversation():
    join = json.loads((EXAMPLES / "1" / "12_join.json").read_text())
    assert fold_conversation(docs(join), Calendar()) is None


@pytest.mark.parametrize(
    "events",
    [
        # What a hidden message_replied notice looked like once it reached the activity stream.
        [activity("p1", "message", "2026-11-23T09:00:00Z", None, "requester", ticket_id=None, text="")],
        [activity("p2", "reaction", "2026-11-23T09:00:00Z", "USRE", "responder", ticket_id=None, reaction="eyes")],
        [activity("p3", "edit", "2026-11-23T09:00:00Z", "U1", "requester", ticket_id=None, public=False)],
        [activity("p4", "status_change", "2026-11-23T09:00:00Z", None, "system", status="open", source="zendesk")],
    ],
    ids=["authorless-message", "reaction", "edit", "status-change"],
)
def test_no_phantom_conversation_without_real_activity(events):
    assert fold_conversation(docs(*events), Calendar()) is None


def test_a_conversation_needs_a_message_someone_wrote_or_a_ticket():
    asked = activity("r1", "message", "2026-11-23T09:00:00Z", "UASK", "requester", ticket_id=None, text="help")
    assert fold_conversation(docs(asked), Calendar())["is_open"] is True
    by_emoji = [
        activity("r2", "message", "2026-11-23T09:00:00Z", None, "requester", ticket_id=None, text=""),
        activity("r3", "ticket_created", "2026-11-23T09:00:05Z", None, "requester", status="new"),
    ]
    assert fold_conversation(docs(*by_emoji), Calendar())["ticket_id"] == 7


# --- documents and privacy ---------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*/*.json")), ids=lambda p: f"v{p.parent.name}/{p.name}")
def test_every_contract_example_makes_a_document(path):
    record = decode_activity(path.read_bytes())
    actions = index_actions(record, Privacy(), "threadline-")
    event = actions[0]
    assert event["_id"] == doc_id(record["event_id"])
    assert event["_index"].startswith("threadline-events-")
    assert event["conversation_id"] == record["conversation_id"]
    assert event["actor"]["role"] == record["actor"]["role"]


def test_email_is_hashed_with_the_salt_and_text_redacted_or_dropped():
    record = json.loads((EXAMPLES / "1" / "13_email_ticket_created.json").read_text())
    record["text"] = "Mail me at dana@example.com or call +33 6 12 34 56 78 about the VPN"
    kept = event_document(record, Privacy())
    assert kept["actor"]["email_hash"].startswith("sha256:") and "dana" not in json.dumps(kept["actor"])
    salted = event_document(record, Privacy(salt=b"pepper"))
    assert salted["actor"]["email_hash"] != kept["actor"]["email_hash"]
    assert event_document(record, Privacy(hash_emails=False))["actor"]["email_hash"] == "dana@example.com"
    redacted = event_document(record, Privacy(text_mode="redact"))["text"]
    assert redacted == "Mail me at [email] or call [number] about the VPN"
    assert event_document(record, Privacy(text_mode="drop"))["text"] is None


def test_a_slack_delete_removes_the_text_of_the_message_it_names():
    delete = json.loads((EXAMPLES / "1" / "11_delete.json").read_text())
    actions = index_actions(delete, Privacy(), "p-")
    assert actions[0]["type"] == "delete" and actions[0]["text"] is None
    update = actions[1]
    assert update["_op_type"] == "update"
    assert update["_id"] == doc_id("slack:C0SUPPORT:1700000000.000200")
    assert update["_index"] == "p-events-2023.11"  # where the message itself lives
    assert update["doc"] == {"text": None, "deleted": True}


@pytest.mark.parametrize("name", ["10_edit.json", "11_delete.json", "13_email_ticket_created.json"])
def test_the_indexer_sends_each_action_as_the_bulk_helper_would(name):
    # The indexer's own expand_action skips the helper's scan for metadata its actions never carry;
    # what reaches Elasticsearch, and the action itself, must be unchanged.
    actions = index_actions(json.loads((EXAMPLES / "1" / name).read_text()), Privacy(), "p-")
    actions.append({"_op_type": "delete", "_index": "p-conversations-v1", "_id": "abc"})
    for action in actions:
        before = json.dumps(action, sort_keys=True)
        assert expand_action(action) == helpers.expand_action(action)
        assert json.dumps(action, sort_keys=True) == before
    assert expand_action('{"raw": true}') == helpers.expand_action('{"raw": true}')


def test_an_edit_puts_the_new_text_on_the_message_not_on_the_edit():
    edit = json.loads((EXAMPLES / "1" / "10_edit.json").read_text())
    actions = index_actions(edit, Privacy(text_mode="redact"), "p-")
    assert actions[0]["text"] is None
    assert actions[1]["doc"] == {"text": "Which floor and which printer?", "edited": True}


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"{}", json.dumps({"schema_version": 2}).encode(), None],
    ids=["garbage", "empty", "wrong-version", "tombstone"],
)
def test_undecodable_records_are_poison(raw):
    with pytest.raises(PoisonMessage):
        decode_activity(raw)


# --- retention, reports, schedule ----------------------------------------------------------------


def test_retention_keeps_the_current_month_and_the_n_before():
    now = at("2026-11-20T12:00:00+00:00")
    names = [f"p-events-2026.{m:02d}" for m in range(1, 12)] + ["p-events-2025.12", "q-events-2020.01", "p-other"]
    assert expired_event_indices(names, "p-", now, 3) == [
        "p-events-2025.12",
        *[f"p-events-2026.{m:02d}" for m in range(1, 8)],
    ]
    assert retention_cutoff(now, 3) == at("2026-08-01T00:00:00+00:00")
    assert retention_cutoff(at("2026-02-01T00:00:00+00:00"), 2) == at("2025-12-01T00:00:00+00:00")


def test_periods_are_local_days():
    daily = Period("daily", "C1", dt.date(2026, 11, 20), "Europe/Paris")
    assert daily.start.astimezone(UTC) == at("2026-11-19T23:00:00+00:00")
    assert daily.end - daily.start == dt.timedelta(days=1)
    weekly = Period("weekly", "C1", dt.date(2026, 11, 16), "UTC")
    assert weekly.previous().start_date == dt.date(2026, 11, 9) and weekly.key == "weekly:C1:2026-11-16"


def test_durations_read_well_on_a_phone():
    assert [duration(s) for s in (None, 42, 600, 3 * 3600 + 300, 2 * 86400 + 4 * 3600)] == [
        "-",
        "42s",
        "10m",
        "3h 05m",
        "2d 4h",
    ]


def test_schedule_posts_yesterdays_daily_after_the_local_time_and_the_weekly_on_its_day():
    config = parse_channels({"channels": {"C1": {"timezone": "Asia/Tokyo"}, "C2": {}, "C3": {"report_channel": ""}}})
    # Monday 2026-11-23 08:30 UTC: 17:30 in Tokyo (due), 08:30 in UTC (before 09:00).
    due = due_reports(at("2026-11-23T08:30:00+00:00"), config, dt.time(9), "mon")
    assert due == [("daily", "C1", dt.date(2026, 11, 22)), ("weekly", "C1", dt.date(2026, 11, 16))]
    due = due_reports(at("2026-11-24T09:00:00+00:00"), config, dt.time(9), "mon")
    assert due == [("daily", "C1", dt.date(2026, 11, 23)), ("daily", "C2", dt.date(2026, 11, 23))]


def test_blocks_carry_the_numbers():
    from threadline_reporter.reports import Figures, Report

    figures = Figures(3, 2, 1, 4, 2, 90.0, 120.0, 60.0, 3600.0, 7200.0, [("2026-11-20", 3)], [("2026-11-20", 90.0)])
    report = Report("daily", "C1", "support", "2026-11-20", "Fri 20 Nov 2026", "UTC", 60, figures, past_target=1)
    text = json.dumps(blocks(report))
    for expected in ("*Opened*\\n3", "*Solved*\\n2", "*Still open*\\n4", "*Median first response*\\n1m", "target*\\n1"):
        assert expected in text


def test_the_document_keeps_the_question_the_last_answer_and_how_it_was_solved():
    conv = fold_conversation(docs(*STORY), Calendar("UTC"))
    assert conv["team_id"] == "T1"
    assert (conv["question"], conv["question_terms"]) == ("help", ["help"])
    assert conv["answer"] == "fixed"  # the last public response, not the requester's "anyone?"
    assert conv["solved_source"] == "slack"  # STORY's solve event came from Slack
    by_agent = [*STORY[:-1], activity("s2", "status_change", "2026-11-23T10:00:00Z", "901", "agent",
                                      source="zendesk", status="solved", previous_status="open")]  # fmt: skip
    assert fold_conversation(docs(*by_agent), Calendar("UTC"))["solved_source"] == "zendesk"
    reopened = [*STORY, activity("r1", "status_change", "2026-11-23T11:00:00Z", None, "system", status="open")]
    assert fold_conversation(docs(*reopened), Calendar("UTC"))["solved_source"] is None


def test_question_terms_are_the_words_the_standard_analyzer_would_make():
    # What the weekly report's significant_text reads of `question`, as keywords a panel can rank.
    assert question_terms("VPN drops: VPN 5.2 on macOS, don't know why (build-7)") == [
        "5.2", "7", "build", "don't", "drops", "know", "macos", "on", "vpn", "why",
    ]  # fmt: skip
    assert question_terms(None) == question_terms("") == question_terms("?!") == []
    assert len(question_terms(" ".join(f"w{i}" for i in range(200)))) == 50


def test_a_deleted_or_edited_question_and_dropped_text_leave_nothing_to_match():
    deleted = [*STORY, activity("slack-delete:C1:100.000100", "delete", "2026-11-23T11:00:00Z", "UASK", "requester")]
    deleted[0] = {**deleted[0], "event_id": "slack:C1:100.000100"}
    conv = fold_conversation(docs(*deleted), Calendar("UTC"))
    assert conv["question"] == "anyone?"  # the requester's next words, not the deleted question
    assert conv["question_terms"] == ["anyone"]  # nor are its words among the terms
    edit = activity("slack-edit:C1:100.000100:101.0", "edit", "2026-11-23T11:00:00Z", "UASK", "requester", text="x")
    edited = [{**STORY[0], "event_id": "slack:C1:100.000100"}, *STORY[1:], edit]
    assert fold_conversation(docs(*edited), Calendar("UTC"))["question"] == "anyone?"  # nor the words taken back
    dropped = fold_conversation([event_document(r, Privacy(text_mode="drop")) for r in STORY], Calendar("UTC"))
    assert dropped["question"] is None and dropped["answer"] is None and dropped["question_terms"] == []
    long = [{**STORY[0], "text": "x" * 5000}, *STORY[1:]]
    assert len(fold_conversation(docs(*long), Calendar("UTC"))["question"]) == TEXT_CHARS

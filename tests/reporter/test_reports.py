"""Reports from known conversations: numbers counted by hand, posted to the Slack sandbox once."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from slack_sdk import WebClient

from threadline_reporter.posting import Reporter

from .conftest import API_TOKEN, produce, wait_until

pytestmark = pytest.mark.integration
CH = "C0SUPPORT"


def conversation(slack_ts: str, opened: str, *, reply=None, by="U0SRE", role="responder", solved=None):
    """Activity of one conversation: the question, maybe a response, maybe a solve."""
    cid = f"T0SANDBOX:{CH}:{slack_ts}"
    base = {"schema_version": 1, "conversation_id": cid, "channel_id": CH, "thread_ts": slack_ts, "ticket_id": None}
    out = [
        {
            **base,
            "event_id": f"slack:{CH}:{slack_ts}",
            "type": "message",
            "occurred_at": opened,
            "source": "slack",
            "text": "help",
            "actor": {"id": "U0ALICE", "role": "requester"},
        }
    ]
    if reply:
        kind, source = ("reply", "slack") if role == "responder" else ("comment", "zendesk")
        name = "Agent Ann" if role == "agent" else None
        out.append(
            {
                **base,
                "event_id": f"r:{slack_ts}",
                "type": kind,
                "occurred_at": reply,
                "source": source,
                "text": "on it",
                "actor": {"id": by, "name": name, "role": role},
            }
        )
    if solved:
        out.append(
            {
                **base,
                "event_id": f"s:{slack_ts}",
                "type": "status_change",
                "occurred_at": solved,
                "source": "zendesk",
                "status": "solved",
                "previous_status": "open",
                "actor": {"id": None, "role": "system"},
            }
        )
    return out


def answered(slack_ts: str, at: str, rules: list[str], feedback: str | None = None) -> list[dict[str, Any]]:
    """An automatic answer offered to the conversation's question, and the requester's feedback."""
    cid = f"T0SANDBOX:{CH}:{slack_ts}"
    base = {"schema_version": 2, "conversation_id": cid, "channel_id": CH, "thread_ts": slack_ts, "ticket_id": None}
    out = [
        {**base, "event_id": f"o:{slack_ts}", "type": "answer_offered", "occurred_at": at, "source": "slack",
         "actor": {"id": None, "role": "bot"}, "answer": {"rule_ids": rules, "similar": 1, "articles": 0}},
    ]  # fmt: skip
    if feedback:
        out.append(
            {**base, "event_id": f"f:{slack_ts}", "type": "answer_feedback", "occurred_at": at, "source": "slack",
             "actor": {"id": "U0ALICE", "role": "requester"}, "answer": {"rule_ids": rules, "feedback": feedback}}
        )  # fmt: skip
    return out


def dataset(roots: dict[str, str]) -> list[dict[str, Any]]:
    """Week of Mon 16 Nov 2026 (UTC, business hours Mon-Fri 9-17, target 60 min), and one the week before."""
    return [
        # A: Fri 09:00, answered in 20 min, solved at 10:00.
        *conversation(roots["A"], "2026-11-20T09:00:00Z", reply="2026-11-20T09:20:00Z", solved="2026-11-20T10:00:00Z"),
        # B: Fri 10:00, answered after 2 h (past the target), still open.
        *conversation(roots["B"], "2026-11-20T10:00:00Z", reply="2026-11-20T12:00:00Z"),
        # C: Thu 16:00, an agent answers Fri 09:30 (1.5 business hours: past target), solved Fri 11:00.
        *conversation(
            roots["C"],
            "2026-11-19T16:00:00Z",
            reply="2026-11-20T09:30:00Z",
            by="8447",
            role="agent",
            solved="2026-11-20T11:00:00Z",
        ),
        # D: Fri 15:00, never answered: waiting 2 business hours at the end of the day.
        *conversation(roots["D"], "2026-11-20T15:00:00Z"),
        # E: Mon 09:00, answered in 5 min, solved in 30.
        *conversation(roots["E"], "2026-11-16T09:00:00Z", reply="2026-11-16T09:05:00Z", solved="2026-11-16T09:30:00Z"),
        # Automatic answers: A's `vpn` answer solved it; the `printer` one, offered to B, D and E, never did.
        *answered(roots["A"], "2026-11-20T09:00:02Z", ["vpn"], "solved"),
        *answered(roots["B"], "2026-11-20T10:00:02Z", ["printer"], "more"),
        *answered(roots["D"], "2026-11-20T15:00:02Z", ["printer"]),
        *answered(roots["E"], "2026-11-16T09:00:02Z", ["printer"]),
        # F: the previous week: answered in 10 min, solved in an hour.
        *conversation(roots["F"], "2026-11-10T09:00:00Z", reply="2026-11-10T09:10:00Z", solved="2026-11-10T10:00:00Z"),
    ]


def field_texts(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks"))


@pytest.fixture
def indexed(make_service, slack, es, es_index_prefix, kafka_bootstrap, kafka_topics):
    alice = WebClient(token=slack.user_token("alice"), base_url=slack.api_url)
    roots = {k: alice.chat_postMessage(channel=CH, text=f"question {k}")["ts"] for k in "ABCDEF"}
    produce(kafka_bootstrap, kafka_topics.activity, dataset(roots))
    service = make_service(web_port=0).start()

    def count() -> int:
        try:
            return int(es.count(index=f"{es_index_prefix}conversations")["count"])
        except Exception:
            return 0

    wait_until("six conversations", lambda: count() == 6)
    return service, roots


def reports_in_channel(slack) -> list[dict[str, Any]]:
    return [m for m in slack.channel_messages(CH) if (m.get("metadata") or {}).get("event_type") == "threadline_report"]


def test_daily_and_weekly_reports_reach_slack_with_the_right_numbers_once(indexed, slack):
    service, roots = indexed
    reporter = service.reporter

    daily = reporter.build("daily", CH, dt.date(2026, 11, 20))
    f = daily.figures
    assert (f.opened, f.solved, f.open_at_end, f.first_responses) == (3, 2, 2, 3)
    assert f.median_ttfr_seconds == 7200  # of 1200, 7200 and 63000
    assert daily.past_target == 3  # B and C answered late, D still waiting
    assert [c.thread_ts for c in daily.oldest_open] == [roots["B"], roots["D"]]
    assert all(c.link and c.link.endswith(c.thread_ts.replace(".", "")) for c in daily.oldest_open)

    weekly = reporter.build("weekly", CH, dt.date(2026, 11, 16))
    w = weekly.figures
    assert (w.opened, w.resolved_of_opened, w.resolution_rate) == (5, 3, 0.6)
    assert (w.median_ttfr_seconds, w.p90_ttfr_seconds) == (4200, 46260)  # of 300, 1200, 7200, 63000
    assert (w.median_ttr_seconds, w.p90_ttr_seconds) == (3600, 55440)  # of 1800, 3600, 68400
    assert [n for _, n in w.per_day_opened] == [1, 0, 0, 1, 3, 0, 0]
    assert weekly.previous is not None and weekly.previous.opened == 1 and weekly.previous.median_ttfr_seconds == 600
    assert [(r.name, r.messages) for r in weekly.responders] == [("Sam Reliability", 3), ("Agent Ann", 1)]
    # Deflection: A of the 5 requests was solved by its answer; 4 were offered one.
    assert (w.answers_offered, w.solved_by_answer, w.deflection_rate, w.answer_success) == (4, 1, 0.2, 0.25)
    assert w.rules_never_helped == [("printer", 3)]
    assert (f.answers_offered, f.solved_by_answer, f.rules_never_helped) == (3, 1, [])  # printer twice that day

    for _ in range(2):  # the second time finds the marker and posts nothing
        reporter.post("daily", CH, dt.date(2026, 11, 20))
        reporter.post("weekly", CH, dt.date(2026, 11, 16))
    posted = reports_in_channel(slack)
    assert len(posted) == 2
    daily_msg = next(m for m in posted if m["metadata"]["event_payload"]["kind"] == "daily")
    text = field_texts(daily_msg)
    for expected in ("*Opened*\\n3", "*Solved*\\n2", "*Still open*\\n2", "first response*\\n2h 00m", "target*\\n3"):
        assert expected in text
    weekly_msg = next(m for m in posted if m["metadata"]["event_payload"]["kind"] == "weekly")
    text = field_texts(weekly_msg)
    for expected in (
        "*Volume*\\n5 (+400%)",
        "*Resolution rate*\\n60% (-40 pts)",
        "1h 10m / 12h 51m",
        "Sam Reliability",
        "offered to 4 of 5 requests (80%); solved 1 (deflection 20%, 25% of those offered)",
        "Never helped: `printer` (3 times)",
    ):
        assert expected in text
    files = [m for m in slack.thread(CH, weekly_msg["ts"]) if m.get("files")]
    assert len(files) == 1
    chart = slack.ws.files[files[0]["files"][0]["id"]]["_content"]
    assert chart.startswith(b"\x89PNG")

    # The markers can be lost (indices rebuilt): the metadata in Slack still prevents a repost.
    reporter.es.indices.delete(index=reporter.names.reports_index)
    reporter.es.indices.create(index=reporter.names.reports_index)
    assert reporter.post("daily", CH, dt.date(2026, 11, 20)).status == "already_posted"
    assert len(reports_in_channel(slack)) == 2


def test_two_reporters_at_the_same_minute_post_one_report(indexed, slack, es, es_index_prefix, channels_file):
    service, _ = indexed
    other = Reporter(es, service.names, service.channels, service.reporter.slack)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def post(reporter: Reporter) -> None:
        barrier.wait()
        results.append(reporter.post("daily", CH, dt.date(2026, 11, 19)).status)

    threads = [threading.Thread(target=post, args=(r,)) for r in (service.reporter, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results)[-1] == "posted" and len(reports_in_channel(slack)) == 1


def test_a_report_channel_the_bot_was_never_invited_to_is_joined_to_post(indexed, slack, es, tmp_path):
    # Reports for #support go to #random, where nobody invited the bot: Slack answers
    # not_in_channel to the look for an earlier report, so the reporter joins, then posts once.
    from threadline_common.channels import load_channels

    service, _ = indexed
    path = tmp_path / "channels.yaml"
    path.write_text(
        "defaults: {timezone: UTC, response_target_minutes: 60}\n"
        "channels:\n  C0SUPPORT: {name: support, report_channel: C0RANDOM}\n"
    )
    reporter = Reporter(es, service.names, load_channels(path), service.reporter.slack)
    first = reporter.post("daily", CH, dt.date(2026, 11, 20))
    again = reporter.post("daily", CH, dt.date(2026, 11, 20))
    assert (first.status, first.channel, again.status) == ("posted", "C0RANDOM", "already_posted")
    posted = [m for m in slack.channel_messages("C0RANDOM") if (m.get("metadata") or {}).get("event_type")]
    assert [m["ts"] for m in posted] == [first.ts]
    assert slack.bot_user_id in slack.ws.channels["C0RANDOM"]["members"]


def test_the_http_endpoint_gives_any_report_as_json_or_blocks(indexed):
    service, _ = indexed
    from fastapi.testclient import TestClient

    from threadline_reporter.app import create_app

    client = TestClient(create_app(service), headers={"Authorization": f"Bearer {API_TOKEN}"})
    report = client.get("/reports/daily", params={"channel": CH, "date": "2026-11-20"}).json()
    assert report["figures"]["opened"] == 3 and report["past_target"] == 3
    blocks = client.get("/reports/weekly", params={"channel": CH, "date": "2026-11-16", "format": "slack"}).json()
    assert blocks["blocks"][0]["text"]["text"] == "Weekly report · #support"
    assert client.get("/reports/daily", params={"channel": "C0NOPE", "date": "2026-11-20"}).status_code == 404
    assert client.get("/reports/daily", params={"channel": CH, "date": "yesterday"}).status_code == 422
    wait_until("ready", lambda: client.get("/readyz").status_code == 200)
    assert client.get("/healthz").json()["alive"] is True
    assert "threadline_reporter_records_total" in client.get("/metrics").text


def test_past_target_counts_every_waiting_conversation_not_a_page_of_them(es, es_index_prefix, channels_file):
    """More conversations wait past the target than one page of hits holds: the figure is a count."""
    from elasticsearch import helpers

    from threadline_common.channels import load_channels
    from threadline_reporter.documents import doc_id
    from threadline_reporter.indices import Names, ensure_indices

    names = Names(es_index_prefix)
    ensure_indices(es, names)
    day = dt.date(2026, 11, 20)  # a Friday; UTC, Mon-Fri 9-17, target 60 min

    def conversation(i: int, opened: str, **more: Any) -> dict[str, Any]:
        return {
            "_index": names.conversations_index,
            "_id": doc_id(f"c{i}"),
            "conversation_id": f"c{i}",
            "channel_id": CH,
            "status": "new",
            "is_open": True,
            "opened_at": opened,
            **more,
        }

    waiting = [conversation(i, f"2026-11-20T{9 + i % 7:02d}:{i % 60:02d}:00.000Z") for i in range(1100)]
    edge = [
        conversation(5000, "2026-11-20T16:00:00.000Z"),  # waited exactly the target: not past it
        conversation(5001, "2026-11-20T15:59:59.999Z"),  # a millisecond more: past it
        conversation(5002, "2026-11-19T16:30:00.000Z"),  # Thursday 16:30: 30 min + 8 h of Friday
        conversation(5003, "2026-11-20T10:00:00.000Z", first_response_at="2026-11-20T10:30:00.000Z"),
        conversation(5004, "2026-11-20T10:00:00.000Z", resolved_at="2026-11-20T10:40:00.000Z", is_open=False),
        conversation(5005, "2026-11-21T10:00:00.000Z"),  # opened after the day
        conversation(5006, "2026-11-20T09:00:00.000Z", channel_id="C0INFRA"),
        conversation(  # answered within the day, later than the target
            5007,
            "2026-11-20T09:00:00.000Z",
            first_response_at="2026-11-20T11:00:00.000Z",
            time_to_first_response_business_seconds=7200.0,
        ),
    ]
    helpers.bulk(es, waiting + edge, refresh=True)
    reporter = Reporter(es, names, load_channels(channels_file), None)
    report = reporter.build("daily", CH, day)
    # 1100 opened 09:00-15:59 and still waiting at midnight (1 business hour or more), 5001, 5002, 5007.
    assert report.past_target == 1100 + 3

"""Automatic answers in the reporter: the v2 activity is decoded and indexed, a conversation
document says whether an answer was offered, which rules, and whether one solved it; the report
figures show deflection, the answer hit rate and the rules that never help."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from threadline_common.business_hours import Calendar
from threadline_common.dlq import PoisonMessage
from threadline_reporter.documents import decode_activity, fold_conversation
from threadline_reporter.reports import Figures, Report, answers_line, blocks, figures_from

from .test_pure import activity, docs

pytestmark = pytest.mark.unit

CAL = Calendar("UTC", frozenset(range(5)), dt.time(9), dt.time(17))


def offered(rules, similar=0, articles=0, when="2026-11-23T09:00:02Z"):
    return activity("o1", "answer_offered", when, None, "bot", schema_version=2, ticket_id=None,
                    answer={"rule_ids": rules, "similar": similar, "articles": articles})  # fmt: skip


def said(feedback, rules, when="2026-11-23T09:05:00Z"):
    return activity("f1", "answer_feedback", when, "UASK", "requester", schema_version=2,
                    answer={"rule_ids": rules, "feedback": feedback})  # fmt: skip


QUESTION = activity("e1", "message", "2026-11-23T09:00:00Z", "UASK", "requester", ticket_id=None, text="vpn")
CREATED = activity("e2", "ticket_created", "2026-11-23T09:00:05Z", "UASK", "requester", status="new")
SOLVED = activity("e3", "status_change", "2026-11-23T09:05:30Z", None, "system", status="solved", previous_status="new")


def test_answer_records_are_decoded_and_a_v1_record_of_a_v2_kind_is_poison():
    record = offered(["vpn"], 2, 1)
    assert decode_activity(json.dumps(record).encode())["answer"]["similar"] == 2
    with pytest.raises(PoisonMessage):
        decode_activity(json.dumps({**record, "schema_version": 1}).encode())


def test_a_request_solved_by_its_answer_is_deflected():
    conversation = fold_conversation(
        docs(QUESTION, offered(["vpn"], 2, 1), CREATED, said("solved", ["vpn"]), SOLVED), CAL
    )
    assert conversation is not None
    assert conversation["answer_offered"] and conversation["answer_rules"] == ["vpn"]
    assert conversation["answer_suggestions"] == 3 and conversation["answer_feedback"] == "solved"
    assert conversation["solved_by_answer"]
    assert conversation["message_count"] == 1  # the offer and the feedback are not messages


def test_still_needing_help_or_a_reopened_request_is_not_deflected():
    more = fold_conversation(docs(QUESTION, offered(["vpn"]), CREATED, said("more", ["vpn"])), CAL)
    assert more is not None and more["answer_offered"] and not more["solved_by_answer"]
    reopened = activity(
        "e4", "status_change", "2026-11-23T10:00:00Z", None, "system", status="open", previous_status="solved"
    )
    back = fold_conversation(docs(QUESTION, offered(["vpn"]), CREATED, said("solved", ["vpn"]), SOLVED, reopened), CAL)
    assert back is not None and not back["solved_by_answer"]
    plain = fold_conversation(docs(QUESTION, CREATED), CAL)
    assert plain is not None and not plain["answer_offered"] and plain["answer_rules"] == []


def aggs(opened=10, answered=4, deflected=1, rules=()):
    empty = {"doc_count": 0, "values": {}}
    return {
        "opened": {"doc_count": opened, "resolved": {"doc_count": 5}, "per_day": {"buckets": []},
                   "answered": {"doc_count": answered}, "deflected": {"doc_count": deflected},
                   "rules": {"buckets": [{"key": k, "doc_count": n, "helped": {"doc_count": h}} for k, n, h in rules]}},
        "solved": {"doc_count": 5, "ttr": empty},
        "responded": {"doc_count": 5, "ttfr": empty, "ttfr_business": empty, "per_day": {"buckets": []}},
        "open_at_end": {"doc_count": 2},
    }  # fmt: skip


def test_figures_show_deflection_hit_rate_and_the_rules_that_never_help():
    f = figures_from(aggs(rules=[("vpn", 3, 1), ("printer", 3, 0), ("rare", 2, 0)]))
    assert (f.answers_offered, f.solved_by_answer) == (4, 1)
    assert (f.deflection_rate, f.answer_rate, f.answer_success) == (0.1, 0.4, 0.25)
    assert f.rules_never_helped == [("printer", 3)]  # rare was offered too few times to tell
    line = answers_line(f)
    assert "offered to 4 of 10 requests (40%)" in line and "solved 1 (deflection 10%, 25% of those offered)" in line
    assert "Never helped: `printer` (3 times)" in line


@pytest.mark.parametrize("kind", ["daily", "weekly"])
def test_reports_carry_the_answers_line_only_when_answers_were_offered(kind):
    with_answers = figures_from(aggs())
    report = Report(kind, "C1", "support", "2026-11-16", "w", "UTC", 60, with_answers, past_target=0)
    assert "deflection 10%" in json.dumps(blocks(report))
    assert report.to_json()["figures"]["deflection_rate"] == 0.1
    without = Figures(3, 2, 1, 4, 2, None, None, None, None, None, [], [])
    assert "Automatic answers" not in json.dumps(blocks(Report(kind, "C1", "s", "d", "l", "UTC", 60, without, 0)))

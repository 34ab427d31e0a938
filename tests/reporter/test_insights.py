"""The weekly report's common requests and team velocity, from known conversation documents
in the real Elasticsearch; every figure counted by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from elasticsearch import helpers
from threadline_testing.lens import panel_rows

from threadline_common.channels import load_channels
from threadline_reporter import reports
from threadline_reporter.documents import doc_id, question_terms
from threadline_reporter.indices import Names, ensure_indices
from threadline_reporter.kibana.objects import for_prefix, saved_objects
from threadline_reporter.posting import Reporter

pytestmark = pytest.mark.integration
CH = "C0SUPPORT"
WEEK = dt.date(2026, 11, 16)  # a Monday; UTC, Mon-Fri 9-17, target 60 min (channels_file)


def conversation(i: int, question: str, channel: str = CH, **more: Any) -> dict[str, Any]:
    return {
        "_id": doc_id(f"c{i}"),
        "conversation_id": f"c{i}",
        "channel_id": channel,
        "status": "new",
        "is_open": True,
        "opened_at": "2026-11-17T10:00:00.000Z",
        "question": question,
        "question_terms": question_terms(question),  # as the indexer's fold makes them
        **more,
    }


def solved(by: list[str], ttfr_minutes: float, ttr_minutes: float) -> dict[str, Any]:
    return {
        "status": "solved",
        "is_open": False,
        "responders": by,
        "first_response_at": "2026-11-17T11:00:00.000Z",
        "resolved_at": "2026-11-18T10:00:00.000Z",
        "time_to_first_response_business_seconds": ttfr_minutes * 60,
        "time_to_resolution_business_seconds": ttr_minutes * 60,
    }


@pytest.fixture
def names(es, es_index_prefix) -> Names:
    names = Names(es_index_prefix)
    ensure_indices(es, names)
    es.indices.create(index=f"{names.prefix}events-2026.11")  # no events: the busiest-responders list is empty
    docs = [
        # This week in #support: the VPN, four times.
        conversation(1, "The VPN drops every hour", **solved(["U0ANA"], 10, 120)),
        conversation(2, "VPN will not connect from home", **solved(["U0ANA", "U0BOB"], 30, 240)),
        conversation(3, "Is the VPN down?", **solved(["U0BOB"], 90, 60)),  # late: 90 > 60 min
        conversation(4, "vpn certificate expired"),
        conversation(5, "How do I reset the password", **solved(["U0ANA"], 50, 600)),
        # Elsewhere and earlier: the background that makes "the" and "password" ordinary.
        *[conversation(10 + i, f"The printer on floor {i} is jammed", channel="C0INFRA") for i in range(6)],
        *[conversation(20 + i, "I forgot the password again", opened_at="2026-11-02T10:00:00.000Z") for i in range(6)],
    ]
    helpers.bulk(es, [{"_index": names.conversations_index, **d} for d in docs], refresh=True)
    return names


def test_common_requests_are_the_weeks_stand_out_question_terms(es, names, channels_file):
    report = Reporter(es, names, load_channels(channels_file), None).build("weekly", CH, WEEK)
    terms = {t.term: t.questions for t in report.common_requests}
    assert terms.get("vpn") == 4
    assert "the" not in terms and "password" not in terms  # common everywhere, not this week's request
    assert "vpn (4)" in reports.common_requests_text(report)


def test_the_common_requests_panel_shows_the_reports_terms(es, names, channels_file):
    """The dashboard's Common requests table, run as the aggregation Kibana sends (significant_terms
    over the questions' words, per channel), lists the report's terms with the report's counts:
    those in three questions or more (Kibana sends no min_doc_count; the report lists from two)."""
    report = Reporter(es, names, load_channels(channels_file), None).build("weekly", CH, WEEK)
    objects = for_prefix(saved_objects(), names.prefix)
    week = {"range": {"opened_at": {"gte": "2026-11-16T00:00:00Z", "lt": "2026-11-23T00:00:00Z"}}}
    rows = panel_rows(es, objects, f"{names.prefix}common-requests", time_filter=week)
    panel = {r["term"]: r["questions"] for r in rows if r["channel"] == CH}
    reported = {t.term: t.questions for t in report.common_requests}
    assert panel == {"vpn": 4}  # four of the week's five questions; "the" is everywhere
    assert panel == {term: n for term, n in reported.items() if n >= 3}
    infra = {r["term"]: r["questions"] for r in rows if r["channel"] == "C0INFRA"}
    assert infra["printer"] == 6 and "the" not in infra  # each channel its own


def test_common_requests_say_so_when_no_text_is_kept(es, names, channels_file):
    report = Reporter(es, names, load_channels(channels_file), None, text_kept=False).build("weekly", CH, WEEK)
    assert report.common_requests == []
    assert "keeps no question text" in reports.common_requests_text(report)


def test_team_velocity_per_responder_in_business_hours_against_the_target(es, names, channels_file):
    report = Reporter(es, names, load_channels(channels_file), None).build("weekly", CH, WEEK)
    by = {v.responder_id: v for v in report.velocity}
    ana, bob = by["U0ANA"], by["U0BOB"]
    # Ana answered in 1, 2 and 5: first responses 10, 30, 50 min; resolutions 2 h, 4 h, 10 h.
    assert (ana.solved, ana.median_first_response_business_seconds, ana.median_resolution_business_seconds) == (
        3,
        30 * 60,
        240 * 60,
    )
    assert ana.past_target == 0
    # Bob answered in 2 and 3; 3 waited 90 min, past the 60 min target.
    assert (bob.solved, bob.past_target) == (2, 1)
    assert [v.responder_id for v in report.velocity] == ["U0ANA", "U0BOB"]
    text = reports.velocity_text(report)
    assert "U0ANA · 3 solved · first response 30m · resolution 4h 00m · 0 past target" in text
    blocks = str(reports.blocks(report))
    assert "Team velocity" in blocks and "Common requests" in blocks


def test_the_velocity_panel_shows_the_reports_numbers(es, names, channels_file):
    """The dashboard's velocity table, run as the aggregation Kibana sends, agrees with the report."""
    report = Reporter(es, names, load_channels(channels_file), None).build("weekly", CH, WEEK)
    objects = for_prefix(saved_objects(), names.prefix)
    rows = {r["responder"]: r for r in panel_rows(es, objects, f"{names.prefix}velocity") if r["channel"] == CH}
    for v in report.velocity:
        row = rows[v.responder_id]
        assert row["solved"] == v.solved
        assert row["ttfr"] == pytest.approx(v.median_first_response_business_seconds, abs=0.1)
        assert row["ttr"] == pytest.approx(v.median_resolution_business_seconds, abs=0.1)
    assert (rows["U0BOB"]["solved"], rows["U0BOB"]["ttfr"]) == (2, 60 * 60)  # median of 30 and 90 min

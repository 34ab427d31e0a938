"""Daily and weekly reports (pure): periods, Elasticsearch query bodies, the report model built
from the query results, and its Block Kit rendering.

Periods are local days of the channel's timezone. Every figure comes from a query on the
conversation or event aliases, the same documents Kibana shows. A past period's report does not
change as time goes on: "first responses" are those given within the period, "still open"
means open at the end of the period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from threadline_common import to_slack
from threadline_common.business_hours import Calendar
from threadline_common.times import format_time

if TYPE_CHECKING:
    from threadline_reporter.insights import CommonTerm, Velocity

Kind = Literal["daily", "weekly"]
REPORT_EVENT_TYPE = "threadline_report"
RULES_LISTED = 100  # answer rules whose fate a report looks at
# A rule offered at least this often in the period that never solved a request "never helps".
NEVER_HELPED_AFTER = 3


@dataclass(frozen=True)
class Period:
    kind: Kind
    channel_id: str
    start_date: dt.date  # local date of the channel
    timezone: str

    @property
    def days(self) -> int:
        return 1 if self.kind == "daily" else 7

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.start_date, dt.time(0), tzinfo=Calendar(self.timezone).tz)

    @property
    def end(self) -> dt.datetime:
        end_date = self.start_date + dt.timedelta(days=self.days)
        return dt.datetime.combine(end_date, dt.time(0), tzinfo=Calendar(self.timezone).tz)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.channel_id}:{self.start_date.isoformat()}"

    def previous(self) -> Period:
        return Period(self.kind, self.channel_id, self.start_date - dt.timedelta(days=self.days), self.timezone)

    def label(self) -> str:
        if self.kind == "daily":
            return f"{self.start_date:%a %d %b %Y}"
        last = self.start_date + dt.timedelta(days=6)
        return f"{self.start_date:%d %b} - {last:%d %b %Y}"


def _range(field_name: str, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    return {"range": {field_name: {"gte": format_time(start), "lt": format_time(end)}}}


def _channel(channel_id: str) -> dict[str, Any]:
    return {"term": {"channel_id": channel_id}}


def _percentiles(field_name: str) -> dict[str, Any]:
    return {"percentiles": {"field": field_name, "percents": [50, 90]}}


def _per_day(field_name: str, period: Period) -> dict[str, Any]:
    """A bucket for each day of the period in its timezone, empty days included."""
    return {
        "date_histogram": {
            "field": field_name,
            "calendar_interval": "day",
            "time_zone": period.timezone,
            "min_doc_count": 0,
            "extended_bounds": {
                "min": format_time(period.start),
                "max": format_time(period.end - dt.timedelta(milliseconds=1)),
            },
        }
    }


def conversation_query(period: Period, oldest_listed: int) -> dict[str, Any]:
    """One search on the conversations alias: filters aggregations for every figure of the period."""
    start, end = period.start, period.end
    open_at_end = {
        "bool": {
            "filter": [{"range": {"opened_at": {"lt": format_time(end)}}}],
            "must_not": [{"range": {"resolved_at": {"lt": format_time(end)}}}],
        }
    }
    aggs: dict[str, Any] = {
        "opened": {
            "filter": _range("opened_at", start, end),
            "aggs": {
                "resolved": {"filter": {"range": {"resolved_at": {"lt": format_time(end)}}}},
                "per_day": _per_day("opened_at", period),
                # Automatic answers: offered, solved by one (deflection), and how each rule fared.
                "answered": {"filter": {"term": {"answer_offered": True}}},
                "deflected": {"filter": {"term": {"solved_by_answer": True}}},
                "rules": {
                    "terms": {"field": "answer_rules", "size": RULES_LISTED},
                    "aggs": {"helped": {"filter": {"term": {"solved_by_answer": True}}}},
                },
            },
        },
        "solved": {
            "filter": _range("resolved_at", start, end),
            "aggs": {"ttr": _percentiles("time_to_resolution_seconds")},
        },
        "responded": {
            "filter": _range("first_response_at", start, end),
            "aggs": {
                "ttfr": _percentiles("time_to_first_response_seconds"),
                "ttfr_business": _percentiles("time_to_first_response_business_seconds"),
                "per_day": {
                    **_per_day("first_response_at", period),
                    "aggs": {"ttfr": {"percentiles": {"field": "time_to_first_response_seconds", "percents": [50]}}},
                },
            },
        },
        "open_at_end": {
            "filter": open_at_end,
            "aggs": {
                "oldest": {
                    "top_hits": {
                        "size": oldest_listed,
                        "sort": [{"opened_at": "asc"}, {"conversation_id": "asc"}],
                        "_source": ["conversation_id", "opened_at", "ticket_id", "thread_ts", "channel_id", "status"],
                    }
                }
            },
        },
    }
    return {
        "size": 0,
        "track_total_hits": False,
        "query": {"bool": {"filter": [_channel(period.channel_id)]}},
        "aggs": aggs,
    }


def past_target_query(period: Period, target_seconds: float, waiting_before: dt.datetime | None) -> dict[str, Any]:
    """Counts, as filter aggregations, the two kinds of conversations past the response target:
    first responses given within the period later than the target (business hours), and
    conversations still waiting at the end of the period that were opened before
    `waiting_before` (Calendar.past_target_before: their wait is past the target)."""
    end = format_time(period.end)
    late = {
        "bool": {
            "filter": [
                _range("first_response_at", period.start, period.end),
                {"range": {"time_to_first_response_business_seconds": {"gt": target_seconds}}},
            ]
        }
    }
    waiting: dict[str, Any] = {"bool": {"must_not": [{"match_all": {}}]}}  # nobody can be waiting too long
    if waiting_before is not None:
        waiting = {
            "bool": {
                "filter": [{"range": {"opened_at": {"lt": format_time(min(waiting_before, period.end))}}}],
                "must_not": [
                    {"range": {"first_response_at": {"lt": end}}},
                    {"range": {"resolved_at": {"lt": end}}},
                ],
            }
        }
    return {
        "size": 0,
        "track_total_hits": False,
        "query": {"bool": {"filter": [_channel(period.channel_id)]}},
        "aggs": {"late": {"filter": late}, "waiting": {"filter": waiting}},
    }


def responders_query(period: Period, bridge_actor_ids: frozenset[str], size: int = 5) -> dict[str, Any]:
    """Public messages by responders and agents within the period, per person (events alias)."""
    return {
        "size": 0,
        "query": {
            "bool": {
                "filter": [
                    _channel(period.channel_id),
                    _range("occurred_at", period.start, period.end),
                    {"terms": {"type": ["message", "reply", "comment"]}},
                    {"term": {"public": True}},
                    {"terms": {"actor.role": ["responder", "agent"]}},
                ],
                "must_not": [{"terms": {"actor.id": sorted(bridge_actor_ids)}}] if bridge_actor_ids else [],
            }
        },
        "aggs": {
            "people": {
                "terms": {"field": "actor.id", "size": size, "order": [{"_count": "desc"}, {"_key": "asc"}]},
                "aggs": {"name": {"terms": {"field": "actor.name", "size": 1}}},
            }
        },
    }


# --- the model ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenConversation:
    conversation_id: str
    opened_at: str
    ticket_id: int | None
    thread_ts: str | None
    status: str
    link: str | None = None


@dataclass(frozen=True)
class Responder:
    id: str
    messages: int
    name: str | None = None


@dataclass(frozen=True)
class Figures:
    opened: int
    solved: int
    resolved_of_opened: int
    open_at_end: int
    first_responses: int
    median_ttfr_seconds: float | None
    p90_ttfr_seconds: float | None
    median_ttfr_business_seconds: float | None
    median_ttr_seconds: float | None
    p90_ttr_seconds: float | None
    per_day_opened: list[tuple[str, int]]
    per_day_median_ttfr_seconds: list[tuple[str, float | None]]
    # Automatic answers among the requests opened: offered one, solved by one, and the rules
    # offered at least NEVER_HELPED_AFTER times that never solved one (rule id, times offered).
    answers_offered: int = 0
    solved_by_answer: int = 0
    rules_never_helped: list[tuple[str, int]] = field(default_factory=list)

    @property
    def resolution_rate(self) -> float | None:
        return None if not self.opened else self.resolved_of_opened / self.opened

    @property
    def deflection_rate(self) -> float | None:
        """The share of requests an automatic answer solved."""
        return None if not self.opened else self.solved_by_answer / self.opened

    @property
    def answer_rate(self) -> float | None:
        """The share of requests that were offered an automatic answer."""
        return None if not self.opened else self.answers_offered / self.opened

    @property
    def answer_success(self) -> float | None:
        """The share of offered answers that solved the request."""
        return None if not self.answers_offered else self.solved_by_answer / self.answers_offered


@dataclass(frozen=True)
class Report:
    kind: Kind
    channel_id: str
    channel_name: str
    period_start: str
    period_label: str
    timezone: str
    response_target_minutes: int
    figures: Figures
    past_target: int
    oldest_open: list[OpenConversation] = field(default_factory=list)
    previous: Figures | None = None
    responders: list[Responder] = field(default_factory=list)
    # Weekly only (insights.py). No terms when the reporter keeps no question text (TEXT_MODE).
    text_kept: bool = True
    common_requests: list[CommonTerm] = field(default_factory=list)
    velocity: list[Velocity] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name, figures in (("figures", self.figures), ("previous", self.previous)):
            if figures is not None:
                data[name]["resolution_rate"] = figures.resolution_rate
                data[name]["deflection_rate"] = figures.deflection_rate
                data[name]["answer_rate"] = figures.answer_rate
                data[name]["answer_success"] = figures.answer_success
        return data


def _pct(agg: dict[str, Any], which: str) -> float | None:
    value = (agg.get("values") or {}).get(which)
    return None if value is None else round(float(value), 1)


def _day(bucket: dict[str, Any]) -> str:
    return str(bucket["key_as_string"])[:10]


def figures_from(aggs: dict[str, Any]) -> Figures:
    opened, solved, responded = aggs["opened"], aggs["solved"], aggs["responded"]
    return Figures(
        opened=int(opened["doc_count"]),
        solved=int(solved["doc_count"]),
        resolved_of_opened=int(opened["resolved"]["doc_count"]),
        open_at_end=int(aggs["open_at_end"]["doc_count"]),
        first_responses=int(responded["doc_count"]),
        median_ttfr_seconds=_pct(responded["ttfr"], "50.0"),
        p90_ttfr_seconds=_pct(responded["ttfr"], "90.0"),
        median_ttfr_business_seconds=_pct(responded["ttfr_business"], "50.0"),
        median_ttr_seconds=_pct(solved["ttr"], "50.0"),
        p90_ttr_seconds=_pct(solved["ttr"], "90.0"),
        per_day_opened=[(_day(b), int(b["doc_count"])) for b in opened["per_day"]["buckets"]],
        per_day_median_ttfr_seconds=[(_day(b), _pct(b["ttfr"], "50.0")) for b in responded["per_day"]["buckets"]],
        answers_offered=int((opened.get("answered") or {}).get("doc_count", 0)),
        solved_by_answer=int((opened.get("deflected") or {}).get("doc_count", 0)),
        rules_never_helped=[
            (str(b["key"]), int(b["doc_count"]))
            for b in (opened.get("rules") or {}).get("buckets", [])
            if int(b["doc_count"]) >= NEVER_HELPED_AFTER and not int(b["helped"]["doc_count"])
        ],
    )


def oldest_from(aggs: dict[str, Any]) -> list[OpenConversation]:
    hits = aggs["open_at_end"]["oldest"]["hits"]["hits"]
    return [
        OpenConversation(
            conversation_id=h["_source"]["conversation_id"],
            opened_at=h["_source"]["opened_at"],
            ticket_id=h["_source"].get("ticket_id"),
            thread_ts=h["_source"].get("thread_ts"),
            status=h["_source"].get("status") or "new",
        )
        for h in hits
    ]


def past_target_from(aggs: dict[str, Any]) -> int:
    """Late first responses within the period plus conversations still waiting past the target."""
    return int(aggs["late"]["doc_count"]) + int(aggs["waiting"]["doc_count"])


def responders_from(response: dict[str, Any]) -> list[Responder]:
    buckets = response["aggregations"]["people"]["buckets"]
    people = []
    for b in buckets:
        names = b["name"]["buckets"]
        people.append(
            Responder(id=str(b["key"]), messages=int(b["doc_count"]), name=names[0]["key"] if names else None)
        )
    return people


# --- Block Kit ------------------------------------------------------------------------------


def duration(seconds: float | None) -> str:
    """Short and readable on a phone: 45s, 12m, 3h 05m, 2d 4h."""
    if seconds is None:
        return "-"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def _change(now: float | None, before: float | None, percent: bool = False) -> str:
    if now is None or before is None:
        return ""
    diff = now - before
    if percent:
        return f" ({diff * 100:+.0f} pts)"
    if not before:
        return f" ({diff:+.0f})"
    return f" ({diff / before * 100:+.0f}%)"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def fallback_text(report: Report) -> str:
    f = report.figures
    what = "Daily" if report.kind == "daily" else "Weekly"
    return (
        f"{what} support report for #{report.channel_name} ({report.period_label}): {f.opened} opened, "
        f"{f.solved} solved, {f.open_at_end} open, median first response {duration(f.median_ttfr_seconds)}"
    )


def answers_line(f: Figures) -> str:
    """Automatic answers in one line: deflection (requests solved by an answer), hit rate, and
    the rules that never helped; nothing when no answer was offered."""
    if not f.answers_offered:
        return ""
    offered = f"offered to {f.answers_offered} of {f.opened} requests ({_rate(f.answer_rate)})"
    share = f"deflection {_rate(f.deflection_rate)}, {_rate(f.answer_success)} of those offered"
    solved = f"solved {f.solved_by_answer} ({share})"
    line = f":bulb: Automatic answers: {offered}; {solved}"
    if f.rules_never_helped:
        never = ", ".join(f"`{rule}` ({times} times)" for rule, times in f.rules_never_helped)
        line += f". Never helped: {never}"
    return line + "."


def blocks(report: Report) -> list[dict[str, Any]]:
    f, p = report.figures, report.previous
    title = "Daily" if report.kind == "daily" else "Weekly"
    out: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{title} report · #{report.channel_name}"}},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"{report.period_label} ({report.timezone})"}],
        },
    ]
    if report.kind == "daily":
        fields = [
            f"*Opened*\n{f.opened}",
            f"*Solved*\n{f.solved}",
            f"*Still open*\n{f.open_at_end}",
            f"*Median first response*\n{duration(f.median_ttfr_seconds)}",
            f"*Past {report.response_target_minutes}m target*\n{report.past_target}",
            f"*First responses*\n{f.first_responses}",
        ]
    else:
        fields = [
            f"*Volume*\n{f.opened}{_change(f.opened, p.opened if p else None)}",
            f"*Resolution rate*\n{_rate(f.resolution_rate)}"
            f"{_change(f.resolution_rate, p.resolution_rate if p else None, True)}",
            f"*First response p50 / p90*\n{duration(f.median_ttfr_seconds)} / {duration(f.p90_ttfr_seconds)}"
            f"{_change(f.median_ttfr_seconds, p.median_ttfr_seconds if p else None)}",
            f"*Resolution p50 / p90*\n{duration(f.median_ttr_seconds)} / {duration(f.p90_ttr_seconds)}"
            f"{_change(f.median_ttr_seconds, p.median_ttr_seconds if p else None)}",
            f"*Solved*\n{f.solved}",
            f"*Past {report.response_target_minutes}m target*\n{report.past_target}",
        ]
    out.append({"type": "section", "fields": [{"type": "mrkdwn", "text": t} for t in fields]})
    answered = answers_line(f)
    if answered:
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": answered}]})
    if report.kind == "daily" and report.oldest_open:
        lines = []
        for c in report.oldest_open:
            label = f"#{c.ticket_id}" if c.ticket_id else c.conversation_id
            name = f"<{c.link}|{label}>" if c.link else label
            lines.append(f"• {name} · {c.status} · opened {c.opened_at[:16].replace('T', ' ')} UTC")
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": "*Oldest open*\n" + "\n".join(lines)}})
    if report.kind == "weekly" and report.responders:
        # Names are people's own words (Slack profiles): text, never markup (to_slack).
        lines = [f"• {to_slack.escape(r.name or r.id)} · {r.messages}" for r in report.responders]
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": "*Busiest responders*\n" + "\n".join(lines)}})
    if report.kind == "weekly":
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": common_requests_text(report)}})
        if report.velocity:
            out.append({"type": "section", "text": {"type": "mrkdwn", "text": velocity_text(report)}})
    if p is not None and report.kind == "weekly":
        out.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "Changes are against the previous week."}]}
        )
    return out


def common_requests_text(report: Report) -> str:
    """The week's stand-out question terms, or why there are none."""
    if not report.text_kept:
        return "*Common requests*\nNot available: the reporter keeps no question text (TEXT_MODE)."
    if not report.common_requests:
        return "*Common requests*\nNo term stood out in this week's questions."
    # Terms are people's words: escaped, never markup.
    terms = ", ".join(f"{to_slack.escape(t.term)} ({t.questions})" for t in report.common_requests)
    return f"*Common requests*\n{terms}"


def velocity_text(report: Report) -> str:
    """One line per responder: solved, median first response and resolution (business hours), late."""
    lines = [
        f"• {to_slack.escape(v.name or v.responder_id)} · {v.solved} solved · first response "
        f"{duration(v.median_first_response_business_seconds)} · resolution "
        f"{duration(v.median_resolution_business_seconds)} · {v.past_target} past target"
        for v in report.velocity
    ]
    header = f"*Team velocity* (business hours, target {report.response_target_minutes}m)"
    return header + "\n" + "\n".join(lines)

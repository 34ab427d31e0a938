"""What a channel's users asked and how the team kept up (pure): the weekly report's "Common
requests" and "Team velocity" sections, as Elasticsearch query bodies and the model read back.

Common requests are the terms of the week's questions that stand out against every question
the index holds (significant_text: "vpn" is common here this week, "the" is common everywhere).
Team velocity counts, per responder, the conversations solved in the period they answered in,
with their median first response and resolution in business hours (the channel's calendar, as
the indexer computed them) and how many first responses came later than the channel's target,
the same test as the report's "past target" figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from threadline_reporter.reports import Period, _channel, _range

COMMON_TERMS = 5  # terms listed per channel
# A term must occur in this many of the week's questions to be listed: one person's typo is no trend.
COMMON_MIN_DOCS = 2
VELOCITY_RESPONDERS = 10


@dataclass(frozen=True)
class CommonTerm:
    term: str
    questions: int  # the week's questions that hold it


@dataclass(frozen=True)
class Velocity:
    responder_id: str
    solved: int
    median_first_response_business_seconds: float | None
    median_resolution_business_seconds: float | None
    past_target: int  # of those solved, first responses later than the channel's target
    name: str | None = None


def common_requests_query(period: Period) -> dict[str, Any]:
    """Questions opened in the period; the background is the whole conversations index."""
    return {
        "size": 0,
        "track_total_hits": False,
        "query": {"bool": {"filter": [_channel(period.channel_id), _range("opened_at", period.start, period.end)]}},
        "aggs": {
            "terms": {
                # `sampler` keeps significant_text cheap on a busy channel (it reads the text again).
                "sampler": {"shard_size": 500},
                "aggs": {
                    "significant": {
                        "significant_text": {
                            "field": "question",
                            "size": COMMON_TERMS,
                            "min_doc_count": COMMON_MIN_DOCS,
                            # Pasted templates and quoted replies would otherwise dominate.
                            "filter_duplicate_text": True,
                        }
                    }
                },
            }
        },
    }


def common_requests_from(aggs: dict[str, Any]) -> list[CommonTerm]:
    buckets = aggs["terms"]["significant"]["buckets"]
    return [CommonTerm(str(b["key"]), int(b["doc_count"])) for b in buckets]


def velocity_query(period: Period, target_seconds: float) -> dict[str, Any]:
    """Conversations solved in the period, per responder who answered in them."""
    return {
        "size": 0,
        "track_total_hits": False,
        "query": {"bool": {"filter": [_channel(period.channel_id), _range("resolved_at", period.start, period.end)]}},
        "aggs": {
            "people": {
                "terms": {
                    "field": "responders",
                    "size": VELOCITY_RESPONDERS,
                    "order": [{"_count": "desc"}, {"_key": "asc"}],
                },
                "aggs": {
                    "ttfr": {"percentiles": {"field": "time_to_first_response_business_seconds", "percents": [50]}},
                    "ttr": {"percentiles": {"field": "time_to_resolution_business_seconds", "percents": [50]}},
                    "late": {"filter": {"range": {"time_to_first_response_business_seconds": {"gt": target_seconds}}}},
                },
            }
        },
    }


def _median(agg: dict[str, Any]) -> float | None:
    value = (agg.get("values") or {}).get("50.0")
    return None if value is None else round(float(value), 1)


def velocity_from(aggs: dict[str, Any]) -> list[Velocity]:
    return [
        Velocity(
            responder_id=str(b["key"]),
            solved=int(b["doc_count"]),
            median_first_response_business_seconds=_median(b["ttfr"]),
            median_resolution_business_seconds=_median(b["ttr"]),
            past_target=int(b["late"]["doc_count"]),
        )
        for b in aggs["people"]["buckets"]
    ]

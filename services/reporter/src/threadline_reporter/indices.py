"""Index names, templates and aliases, created idempotently at start, and retention.

    <prefix>events-YYYY.MM        one index per month (UTC) of events, alias <prefix>events
    <prefix>conversations-v1      one document per conversation, alias <prefix>conversations
    <prefix>reports-v1            one marker per posted report, alias <prefix>reports

Readers (Kibana, the reports) use the aliases; a new mapping version is a new concrete index
behind the same alias.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch, helpers
from elasticsearch.exceptions import BadRequestError

from threadline_common.times import format_time

log = logging.getLogger(__name__)

_KEYWORD = {"type": "keyword"}
_PERSON = {"properties": {"id": _KEYWORD, "name": _KEYWORD, "email_hash": _KEYWORD}}

EVENT_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "event_id": _KEYWORD,
        "type": _KEYWORD,
        "conversation_id": _KEYWORD,
        # Slack times carry microseconds; date_nanos keeps messages a few microseconds apart in order.
        "occurred_at": {"type": "date_nanos"},
        "channel_id": _KEYWORD,
        "thread_ts": _KEYWORD,
        "ticket_id": {"type": "long"},
        "source": _KEYWORD,
        "actor": {"properties": {**_PERSON["properties"], "role": _KEYWORD}},
        "text": {"type": "text"},
        "public": {"type": "boolean"},
        "status": _KEYWORD,
        "previous_status": _KEYWORD,
        "via": _KEYWORD,
        "tags": _KEYWORD,
        "reaction": _KEYWORD,
        "target_event_id": _KEYWORD,
        "deleted": {"type": "boolean"},
        "edited": {"type": "boolean"},
        # answer_offered / answer_feedback (threadline.activity v2)
        "answer": {
            "properties": {
                "rule_ids": _KEYWORD,
                "similar": {"type": "integer"},
                "articles": {"type": "integer"},
                "feedback": _KEYWORD,
            }
        },
    },
}

_SECONDS = {"type": "double"}
_COUNT = {"type": "integer"}
CONVERSATION_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "conversation_id": _KEYWORD,
        # Every id its events carry: an emailed ticket's `zd:<ticket>` and its thread's id.
        "conversation_ids": _KEYWORD,
        "team_id": _KEYWORD,
        "channel_id": _KEYWORD,
        "thread_ts": _KEYWORD,
        "ticket_id": {"type": "long"},
        "ticket_ids": {"type": "long"},
        "source": _KEYWORD,
        "status": _KEYWORD,
        "is_open": {"type": "boolean"},
        "opened_at": {"type": "date"},
        "first_response_at": {"type": "date"},
        "first_responder_id": _KEYWORD,
        "first_resolved_at": {"type": "date"},
        "resolved_at": {"type": "date"},
        "reopened_count": _COUNT,
        "last_activity_at": {"type": "date"},
        "requester": _PERSON,
        "responders": _KEYWORD,
        "responder_count": _COUNT,
        "message_count": _COUNT,
        "requester_message_count": _COUNT,
        "response_count": _COUNT,
        "internal_note_count": _COUNT,
        "event_count": _COUNT,
        "tags": _KEYWORD,
        # The question and the last public answer (absent when the reporter indexes no text):
        # what the similar-solved search matches.
        "question": {"type": "text"},
        # The question's words (documents.question_terms): what a Kibana panel can rank by
        # significance (significant_terms), as the weekly report does with significant_text.
        "question_terms": _KEYWORD,
        "answer": {"type": "text"},
        "solved_source": _KEYWORD,
        "timezone": _KEYWORD,
        "time_to_first_response_seconds": _SECONDS,
        "time_to_first_response_business_seconds": _SECONDS,
        "time_to_resolution_seconds": _SECONDS,
        "time_to_resolution_business_seconds": _SECONDS,
        # Automatic answers: offered at all, which rules, how many suggestions, the requester's
        # answer, and whether that answer is what solved the request (deflection).
        "answer_offered": {"type": "boolean"},
        "answer_rules": _KEYWORD,
        "answer_suggestions": _COUNT,
        "answer_feedback": _KEYWORD,
        "solved_by_answer": {"type": "boolean"},
    },
}

REPORT_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "kind": _KEYWORD,
        "channel_id": _KEYWORD,
        "period": _KEYWORD,
        "state": _KEYWORD,
        "claimed_at": {"type": "date"},
        "posted_at": {"type": "date"},
        "slack_channel": _KEYWORD,
        "slack_ts": _KEYWORD,
        "owner": _KEYWORD,
    },
}


@dataclass(frozen=True)
class Names:
    prefix: str

    @property
    def events(self) -> str:
        return f"{self.prefix}events"

    @property
    def conversations(self) -> str:
        return f"{self.prefix}conversations"

    @property
    def conversations_index(self) -> str:
        return f"{self.prefix}conversations-v1"

    @property
    def reports(self) -> str:
        return f"{self.prefix}reports"

    @property
    def reports_index(self) -> str:
        return f"{self.prefix}reports-v1"

    def templates(self) -> dict[str, dict[str, Any]]:
        settings = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s"}
        return {
            self.events: {
                "index_patterns": [f"{self.prefix}events-*"],
                "priority": 200,
                "template": {"settings": settings, "mappings": EVENT_MAPPING, "aliases": {self.events: {}}},
                "_meta": {"managed_by": "threadline-reporter"},
            },
            self.conversations: {
                "index_patterns": [f"{self.prefix}conversations-*"],
                "priority": 200,
                "template": {
                    "settings": settings,
                    "mappings": CONVERSATION_MAPPING,
                    "aliases": {self.conversations: {}},
                },
                "_meta": {"managed_by": "threadline-reporter"},
            },
            self.reports: {
                "index_patterns": [f"{self.prefix}reports-*"],
                "priority": 200,
                "template": {"settings": settings, "mappings": REPORT_MAPPING, "aliases": {self.reports: {}}},
                "_meta": {"managed_by": "threadline-reporter"},
            },
        }


def ensure_indices(es: Elasticsearch, names: Names) -> None:
    """Templates (PUT is idempotent), then the single-index kinds; monthly event indices appear on
    first write. Indices made by an earlier release get the fields added since (a mapping only
    grows within a version; a field that changed type needs a new `-vN` index and fails here)."""
    for name, body in names.templates().items():
        es.indices.put_index_template(name=name, **body)
    for index in (names.conversations_index, names.reports_index):
        if es.indices.exists(index=index):
            continue
        try:
            es.indices.create(index=index)
        except BadRequestError as exc:
            if exc.error != "resource_already_exists_exception":  # another replica was first
                raise
    for pattern, mapping in (
        (f"{names.prefix}events-*", EVENT_MAPPING),
        (names.conversations_index, CONVERSATION_MAPPING),
        (names.reports_index, REPORT_MAPPING),
    ):
        es.indices.put_mapping(index=pattern, properties=mapping["properties"], allow_no_indices=True)


_MONTHLY = re.compile(r"events-(\d{4})\.(\d{2})$")


def expired_event_indices(indices: list[str], prefix: str, now: dt.datetime, months: int) -> list[str]:
    """Monthly event indices older than `months` whole months: the current month and the `months`
    before it stay."""
    current = now.year * 12 + now.month - 1
    expired = []
    for index in indices:
        if not index.startswith(prefix):
            continue
        match = _MONTHLY.search(index[len(prefix) :])
        if match and int(match.group(1)) * 12 + int(match.group(2)) - 1 < current - months:
            expired.append(index)
    return sorted(expired)


def retention_cutoff(now: dt.datetime, months: int) -> dt.datetime:
    """The first instant that is kept: the start of the oldest month still kept."""
    index = now.year * 12 + now.month - 1 - months
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


def apply_retention(es: Elasticsearch, names: Names, now: dt.datetime, months: int) -> list[str]:
    """Delete expired event indices, and conversations whose last activity is before the cutoff."""
    found = list(es.indices.get(index=f"{names.prefix}events-*", allow_no_indices=True, expand_wildcards="open"))
    expired = expired_event_indices(found, names.prefix, now, months)
    for index in expired:
        log.info("retention: deleting index %s", index)
        es.indices.delete(index=index)
    cutoff = format_time(retention_cutoff(now, months))
    old = helpers.scan(
        es,
        index=names.conversations,
        query={"query": {"range": {"last_activity_at": {"lt": cutoff}}}, "_source": False},
    )
    deletions = ({"_op_type": "delete", "_index": hit["_index"], "_id": hit["_id"]} for hit in old)
    deleted, _ = helpers.bulk(es, deletions, raise_on_error=False, refresh=True)
    if deleted:
        log.info("retention: deleted %d conversations last active before %s", deleted, cutoff)
    return expired

"""Similar solved conversations (pure): the one Elasticsearch query, and what each hit answers.

A new question is matched against the conversation documents' `question` and `answer` (what
the fold keeps of the opener and of the last public answer) within the asker's team and
channel, among solved or closed conversations that have a ticket to link to, never the asking
conversation itself: `more_like_this` (the question's most telling terms by tf-idf, half of
those the index knows, two at least), and at least two of the question's own words, since
more_like_this drops the words no conversation has and one common word left would match.

Measured on tests/reporter/test_similar.py's conversations with 8 labelled questions (top 3):
    more_like_this 30% (its default)           9 right, 9 wrong, 0 missed
    more_like_this 2<50%                       9 right, 3 wrong, 0 missed
    more_like_this 2<50% + two words (this)    9 right, 2 wrong, 0 missed
    multi_match (or)                           9 right, 10 wrong, 0 missed
    multi_match 2<50%                          6 right, 0 wrong, 3 missed (paraphrases: "remote access")
The two wrong ones share only "how do I" / "my" with a question; with a channel's real history
those words weigh little.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# What a hit needs of its document: nothing more leaves Elasticsearch.
SOURCE = (
    "conversation_id",
    "ticket_id",
    "channel_id",
    "thread_ts",
    "question",
    "answer",
    "resolved_at",
    "solved_source",
)
MAX_LINE = 150


def first_line(text: str | None, limit: int = MAX_LINE) -> str | None:
    """The first line that says something, trimmed to `limit` characters (with an ellipsis)."""
    line = next((stripped for raw in (text or "").splitlines() if (stripped := raw.strip())), None)
    if line is None:
        return None
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def similar_query(team_id: str, channel_id: str, text: str, exclude: str | None, limit: int) -> dict[str, Any]:
    """The search body: one query, `limit` hits, only SOURCE of each."""
    must_not: list[dict[str, Any]] = [{"term": {"conversation_ids": exclude}}] if exclude else []
    return {
        "size": limit,
        "_source": list(SOURCE),
        "query": {
            "bool": {
                "must": [
                    {
                        "more_like_this": {
                            "fields": ["question", "answer"],
                            "like": text,
                            # A channel's conversations are few next to a web corpus: a term seen in
                            # one of them (or once in the question) still tells them apart.
                            "min_term_freq": 1,
                            "min_doc_freq": 1,
                            "max_query_terms": 25,
                            "minimum_should_match": "2<50%",
                        }
                    },
                    {
                        "multi_match": {
                            "query": text,
                            "fields": ["question", "answer"],
                            "type": "cross_fields",
                            "minimum_should_match": "2",
                        }
                    },
                ],
                "filter": [
                    {"term": {"team_id": team_id}},
                    {"term": {"channel_id": channel_id}},
                    {"term": {"is_open": False}},
                    {"exists": {"field": "ticket_id"}},
                ],
                "must_not": must_not,
            }
        },
    }


@dataclass(frozen=True)
class SimilarConversation:
    conversation_id: str
    ticket_id: int
    channel_id: str
    thread_ts: str | None
    question: str  # its first line
    answer: str | None  # the first line of the last public answer, if any
    solved_at: str | None
    solved_source: str | None  # "zendesk" or "slack"
    score: float


def from_hits(hits: list[dict[str, Any]]) -> list[SimilarConversation]:
    found = []
    for hit in hits:
        doc = hit["_source"]
        question = first_line(doc.get("question"))
        if question is None or doc.get("ticket_id") is None:
            continue
        found.append(
            SimilarConversation(
                conversation_id=doc["conversation_id"],
                ticket_id=int(doc["ticket_id"]),
                channel_id=doc["channel_id"],
                thread_ts=doc.get("thread_ts"),
                question=question,
                answer=first_line(doc.get("answer")),
                solved_at=doc.get("resolved_at"),
                solved_source=doc.get("solved_source"),
                score=float(hit.get("_score") or 0.0),
            )
        )
    return found

"""Activity records -> Elasticsearch documents (pure).

`decode_activity` checks a record against its contract; `event_document` makes the event
document; `index_actions` adds what an edit or a deletion does to the message it names; and
`fold_conversation` derives a conversation document from all of its events, after
`merge_conversations` has put an emailed ticket's `zd:` events with its thread's. Both read
only the events, in a fixed order, so indexing them again, in any order or batching, gives
the same conversation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from threadline_common.business_hours import Calendar
from threadline_common.dlq import PoisonMessage
from threadline_common.models import ACTIVITY_V2_FIELDS, ACTIVITY_V2_KINDS
from threadline_common.models.generated.activity_v2 import Activity, Actor
from threadline_common.schemas import _RFC3339, SchemaViolation, validate
from threadline_common.tickets import DONE_STATUSES, OPEN_STATUSES
from threadline_common.times import format_time, parse_time

ACTIVITY = "threadline.activity"
# What a person says in a conversation (a reaction, an edit or a join is not a message).
MESSAGE_TYPES = frozenset({"message", "reply", "comment"})
RESPONDER_ROLES = frozenset({"responder", "agent"})
# A conversation document keeps this much of its question and of its last answer (for the
# similar-solved search and its suggestion's first line); the fold state keeps no more of any text.
TEXT_CHARS = 300

# A question's words as Elasticsearch's standard analyzer makes them of plain text: lower case,
# letters and digits, with the apostrophes and dots inside a word kept ("don't", "5.2").
_WORD = re.compile(r"\w+(?:['.]\w+)*")
QUESTION_TERMS = 50  # a 300-character question has fewer words

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"\+?\d[\d \-().]{5,}\d")


@dataclass(frozen=True)
class Privacy:
    text_mode: Literal["keep", "redact", "drop"] = "keep"
    hash_emails: bool = True
    salt: bytes = b""

    def email(self, value: str | None) -> str | None:
        if not value:
            return None
        if not self.hash_emails:
            return value.strip().lower()
        digest = hmac.new(self.salt, value.strip().lower().encode(), hashlib.sha256).hexdigest()
        return f"sha256:{digest}"

    def text(self, value: str | None) -> str | None:
        if value is None or self.text_mode == "drop":
            return None
        if self.text_mode == "redact":
            value = _EMAIL.sub("[email]", value)
            return _NUMBER.sub("[number]", value)
        return value


_ACTIVITY_FIELDS = frozenset(Activity.__struct_fields__)
_ACTOR_FIELDS = frozenset(Actor.__struct_fields__)


def _plainly_valid(value: bytes) -> dict[str, Any] | None:
    """The record, when the generated msgspec struct takes it as it is; else None (then the JSON
    Schema decides). jsonschema's Draft 2020-12 validator costs ~0.3 ms a record, more than the
    rest of indexing together; msgspec checks the same shape in microseconds. What it takes the
    schema takes too (no unknown key, the same required fields, types, enums and lengths; the
    schema's date-time pattern, and a real date and time: what the schema's strptime check takes,
    at a tenth of its cost); what it refuses (e.g. a ticket id written 5.0, NaN, a 70-bit integer,
    a leap second) goes to `validate`, so the verdict on every record is the schema's."""
    try:
        record = msgspec.json.decode(value)
        # keys() <= set compares in place; frozenset.issuperset(a dict) builds a set of its keys first.
        if not isinstance(record, dict) or not record.keys() <= _ACTIVITY_FIELDS:
            return None
        actor = record.get("actor")
        if not isinstance(actor, dict) or not actor.keys() <= _ACTOR_FIELDS:
            return None
        msgspec.convert(record, Activity)  # v2: reads every v1 record too
        v2_only = record.get("type") in ACTIVITY_V2_KINDS or not ACTIVITY_V2_FIELDS.isdisjoint(record)
        if record.get("schema_version") == 1 and v2_only:
            return None  # v2's additions in a v1 record: the v1 schema says why not
        if not _RFC3339.fullmatch(record["occurred_at"]):
            return None
        parse_time(record["occurred_at"])
    except (msgspec.MsgspecError, ValueError):
        return None
    return record


def _schema_version(record: Any) -> int:
    """The version a record claims (v1 or v2), checked against that version's schema; anything
    else is checked against the newest, which names what is wrong with it."""
    version = record.get("schema_version") if isinstance(record, dict) else None
    return version if type(version) is int and version in (1, 2) else 2


def decode_activity(value: bytes | None) -> dict[str, Any]:
    """Raw record -> activity dict; anything that is not a valid v1 or v2 activity is a PoisonMessage."""
    fast = _plainly_valid(value) if value else None
    if fast is not None:
        return fast
    try:
        record = json.loads(value or b"")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested too deep
        raise PoisonMessage(f"not JSON: {exc}") from exc
    try:
        validate(ACTIVITY, _schema_version(record), record)
    except SchemaViolation as exc:
        raise PoisonMessage(str(exc)) from exc
    try:
        parse_time(record["occurred_at"])
    except ValueError as exc:
        raise PoisonMessage(f"occurred_at: {exc}") from exc
    return dict(record)


def doc_id(event_id: str) -> str:
    """Event ids are short and stable; a hash keeps every _id within limits whatever the source."""
    return hashlib.sha256(event_id.encode()).hexdigest()[:40]


def target_message(record: dict[str, Any]) -> tuple[str, dt.datetime] | None:
    """For a Slack edit or deletion: the event id of the message it changes and that message's time
    (slack-edit:<channel>:<ts>:<edit ts>, slack-delete:<channel>:<ts> -> slack:<channel>:<ts>)."""
    if record["type"] not in ("edit", "delete"):
        return None
    parts = record["event_id"].split(":")
    if len(parts) < 3 or parts[0] not in ("slack-edit", "slack-delete"):
        return None
    channel, ts = parts[1], parts[2]
    try:
        when = dt.datetime.fromtimestamp(float(ts), tz=dt.UTC)
    except (ValueError, OverflowError, OSError):  # "1e999", "nan", out of the platform's range
        return None
    return f"slack:{channel}:{ts}", when


def event_time(record: dict[str, Any]) -> dt.datetime:
    return parse_time(record["occurred_at"])


def event_document(record: dict[str, Any], privacy: Privacy, when: dt.datetime | None = None) -> dict[str, Any]:
    """`when`: the record's time, when the caller has already read it (event_time)."""
    actor = record["actor"]
    target = target_message(record)
    text = privacy.text(record.get("text"))
    kind = record["type"]
    # The text of an edit lives on the message it edits, so that deleting the message removes it.
    if kind in ("edit", "delete"):
        text = None
    if when is None:
        when = event_time(record)
    return {
        "event_id": record["event_id"],
        "type": kind,
        "conversation_id": record["conversation_id"],
        "occurred_at": format_time(when, timespec="microseconds"),
        "channel_id": record["channel_id"],
        "thread_ts": record.get("thread_ts"),
        "ticket_id": record.get("ticket_id"),
        "source": record["source"],
        "actor": {
            "id": actor.get("id"),
            "name": actor.get("name"),
            "email_hash": privacy.email(actor.get("email")),
            "role": actor["role"],
        },
        "text": text,
        "public": bool(record.get("public", True)),
        "status": record.get("status"),
        "previous_status": record.get("previous_status"),
        "via": record.get("via"),
        "tags": sorted(set(record.get("tags") or [])),
        "reaction": record.get("reaction"),
        "target_event_id": target[0] if target else None,
        "deleted": False,
        "edited": False,
        **({"answer": _answer(record["answer"])} if record.get("answer") else {}),
    }


def _answer(answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "rule_ids": list(answer.get("rule_ids") or []),
        "similar": answer.get("similar"),
        "articles": answer.get("articles"),
        "feedback": answer.get("feedback"),
    }


def events_index(prefix: str, when: dt.datetime) -> str:
    """Monthly event indices (UTC), so that retention drops whole indices."""
    utc = when.astimezone(dt.UTC)
    return f"{prefix}events-{utc.year:04d}.{utc.month:02d}"  # not strftime: a tenth of its cost


def index_actions(record: dict[str, Any], privacy: Privacy, prefix: str) -> list[dict[str, Any]]:
    """Bulk actions for one record: the event itself, and for an edit or a deletion the partial
    update of the message it names (a missing message is fine: nothing left to change)."""
    when = event_time(record)
    doc = event_document(record, privacy, when)
    actions: list[dict[str, Any]] = [
        {"_op_type": "index", "_index": events_index(prefix, when), "_id": doc_id(doc["event_id"]), **doc}
    ]
    target = target_message(record)
    if target is not None:
        target_id, target_time = target
        if record["type"] == "delete":
            change: dict[str, Any] = {"text": None, "deleted": True}
        else:
            change = {"text": privacy.text(record.get("text")), "edited": True}
        actions.append(
            {
                "_op_type": "update",
                "_index": events_index(prefix, target_time),
                "_id": doc_id(target_id),
                "doc": change,
            }
        )
    return actions


def email_ticket(conversation_id: str) -> int | None:
    """The ticket of an emailed conversation's first id (`zd:<ticket id>`), else None."""
    prefix, _, ticket = conversation_id.partition(":")
    return int(ticket) if prefix == "zd" and ticket.isdigit() else None


def team_of(conversation_id: str) -> str | None:
    """The Slack team of a thread's conversation (`<team>:<channel>:<thread ts>`); None for an
    emailed ticket's own `zd:<ticket>`."""
    parts = conversation_id.split(":")
    return parts[0] if len(parts) == 3 and parts[0] != "zd" else None


def merge_conversations(events: Iterable[dict[str, Any]]) -> tuple[dict[str, list[dict[str, Any]]], set[str]]:
    """Event documents of several conversations -> the events of each conversation as analysts
    count it, and the ids that were merged into another one.

    The router records an emailed ticket's first activity under `zd:<ticket id>` and, once
    Threadline has opened a Slack thread for it, the rest under the thread's id with the same
    ticket_id: both are one conversation, kept under the thread's id. It depends only on which
    events exist, so any order or batching of them gives the same result."""
    by_conversation: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for doc in events:
        if doc["type"] != "join":
            by_conversation[doc["conversation_id"]].append(doc)
    thread_of_ticket: dict[int, str] = {}
    for conversation_id in sorted(by_conversation, reverse=True):  # the smallest id wins, should two claim it
        if email_ticket(conversation_id) is not None:
            continue
        for doc in by_conversation[conversation_id]:
            if doc["ticket_id"] is not None:
                thread_of_ticket[doc["ticket_id"]] = conversation_id
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    merged: set[str] = set()
    for conversation_id, docs in by_conversation.items():
        ticket = email_ticket(conversation_id)
        home = thread_of_ticket.get(ticket, conversation_id) if ticket is not None else conversation_id
        if home != conversation_id:
            merged.add(conversation_id)
        groups[home].extend(docs)
    return dict(groups), merged


def question_terms(question: str | None) -> list[str]:
    """The distinct words of a question (sorted): the keyword array the dashboard's Common requests
    panel ranks by significance, since a Kibana panel cannot run significant_text over the text."""
    if not question:
        return []
    return sorted(list(dict.fromkeys(_WORD.findall(question.lower())))[:QUESTION_TERMS])


def is_message(doc: dict[str, Any], bridge_actor_ids: frozenset[str]) -> bool:
    """A public message someone wrote, counted once: a Slack message or reply, a Zendesk comment,
    or the e-mail that opened an emailed ticket. Not a bot's post, nor a comment by Threadline's
    own Zendesk user (`bridge_actor_ids`): that is the copy of a Slack reply, counted in Slack."""
    kind = doc["type"]
    written = kind in MESSAGE_TYPES or (kind == "ticket_created" and doc["source"] == "email")
    actor = doc["actor"]
    return written and doc["public"] and actor["role"] != "bot" and actor["id"] not in bridge_actor_ids


def is_real_activity(doc: dict[str, Any]) -> bool:
    """What makes a conversation: a ticket, or a message, reply or comment someone wrote.
    Reactions, edits, deletions, status changes and joins alone make none, nor does a message
    without an author (what Slack's hidden notices, `message_replied` and the like, looked like
    once they reached the activity stream): no phantom open conversation in the reports."""
    if doc["type"] == "ticket_created":
        return True
    return doc["type"] in MESSAGE_TYPES and doc["actor"]["id"] is not None


def fold_conversation(
    events: Iterable[dict[str, Any]],
    calendar: Calendar,
    bridge_actor_ids: frozenset[str] = frozenset(),
    conversation_id: str | None = None,
) -> dict[str, Any] | None:
    """All event documents of one conversation -> its conversation document (None: not a conversation).
    `conversation_id`: the id it is kept under when it merges several (merge_conversations);
    default: the id its events carry.

    opened: the first message or ticket creation. First response: the first public message by a
    responder or agent other than the requester (bots, the system and Threadline's own Zendesk
    user never count). Resolved: the last time the ticket became solved or closed, if it still
    is; a move from solved/closed back to an open status counts as a reopening. Messages are
    counted once (`is_message`).
    """
    # Each time read once (the fold runs for every conversation a batch touches).
    timed = sorted(((parse_time(d["occurred_at"]), d["event_id"], d) for d in events if d["type"] != "join"),
                   key=lambda t: (t[0], t[1]))  # fmt: skip
    docs = [d for _, _, d in timed]
    at = {id(d): when for when, _, d in timed}
    if not any(is_real_activity(d) for d in docs):
        return None
    first = docs[0]
    openers = [d for d in docs if d["type"] in ("message", "ticket_created")]
    opener = openers[0] if openers else first
    opened_at = at[id(opener)]

    requester = next((d["actor"] for d in docs if d["actor"]["role"] == "requester"), None)
    requester_id = requester["id"] if requester else None

    def responding(d: dict[str, Any]) -> bool:
        actor = d["actor"]
        return (
            d["type"] in MESSAGE_TYPES
            and d["public"]
            and actor["role"] in RESPONDER_ROLES
            and actor["id"] is not None
            and actor["id"] != requester_id
            and actor["id"] not in bridge_actor_ids
        )

    responses = [d for d in docs if responding(d) and at[id(d)] >= opened_at]
    first_response = responses[0] if responses else None

    status = "new"
    resolved_at: dt.datetime | None = None
    resolver: dict[str, Any] | None = None  # the event that solved it, while it stays solved
    first_resolved_at: dt.datetime | None = None
    reopened = 0
    ticket_ids: list[int] = []
    tags: set[str] = set()
    changed_tickets: set[int] = set()  # tickets whose status a status change already told
    for d in docs:
        if d["ticket_id"] is not None and d["ticket_id"] not in ticket_ids:
            ticket_ids.append(d["ticket_id"])
        tags.update(d.get("tags") or [])
        new = d.get("status")
        if d["type"] not in ("status_change", "ticket_created") or not new:
            continue
        if d["type"] == "status_change":
            changed_tickets.add(d["ticket_id"])
        elif d["ticket_id"] in changed_tickets:
            # The router notes a creation when zendesk-sync's result reaches it, which can be after
            # an agent already solved the ticket: its "new" is not a reopening.
            continue
        when = at[id(d)]
        if new in DONE_STATUSES and status not in DONE_STATUSES:
            resolved_at, resolver = when, d
            first_resolved_at = first_resolved_at or when
        elif new in OPEN_STATUSES and status in DONE_STATUSES:
            reopened += 1
            resolved_at = resolver = None
        status = new

    def seconds(end: dt.datetime | None) -> float | None:
        return None if end is None else max(0.0, (end - opened_at).total_seconds())

    def business(end: dt.datetime | None) -> float | None:
        return None if end is None else calendar.business_seconds(opened_at, end)

    offers = [d for d in docs if d["type"] == "answer_offered" and d.get("answer")]
    feedback = next((d["answer"] for d in docs if d["type"] == "answer_feedback" and d.get("answer")), None)
    answer_rules = sorted(
        {r for d in offers for r in d["answer"]["rule_ids"]} | set((feedback or {}).get("rule_ids") or [])
    )
    feedback_said = (feedback or {}).get("feedback")
    first_response_at = at[id(first_response)] if first_response else None
    # What similar-solved search reads: the question (the opener's text, else the requester's
    # first words) and the last public answer. A deleted or edited message gives neither: its
    # delete or edit event is among the events, while the fold state's copy of the message still
    # has the words it was written with (the edit's text lives on the message in Elasticsearch
    # only), and what someone took back must not stay searchable here.
    changed = {d.get("target_event_id") for d in docs if d["type"] in ("delete", "edit")}

    def said(d: dict[str, Any]) -> str | None:
        text = (d.get("text") or "").strip()
        return text[:TEXT_CHARS] if text and not d.get("deleted") and d["event_id"] not in changed else None

    asked = [d for d in docs if d["actor"]["role"] == "requester" and d["type"] in (*MESSAGE_TYPES, "ticket_created")]
    question = next((t for t in map(said, [opener, *asked]) if t), None)
    answer = next((t for t in map(said, reversed(responses)) if t), None)
    public_messages = [d for d in docs if is_message(d, bridge_actor_ids)]
    responders = sorted({d["actor"]["id"] for d in responses})
    return {
        "conversation_id": conversation_id or first["conversation_id"],
        "conversation_ids": sorted({d["conversation_id"] for d in docs}),
        "team_id": team_of(conversation_id or first["conversation_id"]),
        "channel_id": opener["channel_id"],
        "thread_ts": next((d["thread_ts"] for d in docs if d["thread_ts"]), None),
        "ticket_id": ticket_ids[-1] if ticket_ids else None,
        "ticket_ids": ticket_ids,
        # Where it started: an emailed ticket stays "email" after its Slack thread opens.
        "source": opener["source"],
        "status": status,
        "is_open": status not in DONE_STATUSES,
        "opened_at": format_time(opened_at),
        "first_response_at": format_time(first_response_at) if first_response_at else None,
        "first_responder_id": first_response["actor"]["id"] if first_response else None,
        "first_resolved_at": format_time(first_resolved_at) if first_resolved_at else None,
        "resolved_at": format_time(resolved_at) if resolved_at else None,
        "reopened_count": reopened,
        "last_activity_at": format_time(at[id(docs[-1])]),
        "requester": {
            "id": requester_id,
            "name": requester.get("name") if requester else None,
            "email_hash": requester.get("email_hash") if requester else None,
        },
        "responders": responders,
        "responder_count": len(responders),
        "message_count": len(public_messages),
        "requester_message_count": sum(1 for d in public_messages if d["actor"]["role"] == "requester"),
        "response_count": len(responses),
        "internal_note_count": sum(1 for d in docs if d["type"] == "internal_note"),
        "event_count": len(docs),
        "tags": sorted(tags),
        "question": question,
        "question_terms": question_terms(question),
        "answer": answer,
        # Where the solve happened: "zendesk" (an agent), "slack" (a button or reaction in the thread).
        "solved_source": resolver["source"] if resolver else None,
        "timezone": calendar.timezone,
        "time_to_first_response_seconds": seconds(first_response_at),
        "time_to_first_response_business_seconds": business(first_response_at),
        "time_to_resolution_seconds": seconds(resolved_at),
        "time_to_resolution_business_seconds": business(resolved_at),
        "answer_offered": bool(offers) or feedback is not None,
        "answer_rules": answer_rules,
        "answer_suggestions": sum(
            (d["answer"].get("similar") or 0) + (d["answer"].get("articles") or 0) for d in offers
        ),
        "answer_feedback": feedback_said,
        # Deflection: the requester said the answer solved it, and the request is still solved.
        "solved_by_answer": feedback_said == "solved" and status in DONE_STATUSES,
    }

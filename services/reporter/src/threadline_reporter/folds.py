"""What the indexer keeps to fold conversation documents without reading back what it just wrote.

A conversation document is `fold_conversation` of all of the conversation's events (after
`merge_conversations`). Rather than refresh the events index and search it at every flush (what
made indexing ~6x slower than the bulk helper), the indexer keeps, for the conversations whose
records it reads, every event it has indexed, in a bounded LRU (`FoldState`): complete sets,
read once from Elasticsearch on a miss (the first time a conversation is seen after a start or a
rebalance, or after it was evicted), then kept up to date from the records themselves.

Why this and not scripted upserts (a painless script folding one event into the stored
document): the fold is not incremental (the requester decides who responds, a late event
re-orders, an emailed ticket merges with its thread, business seconds need the channel's
calendar), so a script would have to re-implement `fold_conversation` in painless and keep the
event ids it applied; keeping the events here reuses the one pure fold, and the documents stay
exactly what a fold of the events gives (the rebuild test compares them).

Only the fields the fold and the merge read are kept (of a text, its first TEXT_CHARS
characters), so a conversation costs well under a kilobyte an event. Conversations the indexer
does not own (an emailed ticket's `zd:` conversation or a thread on another partition, found
through a ticket) are read from
Elasticsearch each time and not kept: another replica may be changing them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from threadline_reporter.documents import TEXT_CHARS, email_ticket

# Rounds of reading related conversations: an emailed ticket and its thread need two.
MERGE_ROUNDS = 4
# Events kept in all (~0.5 kB each, up to 0.8 with a text): a bound on memory whatever the conversations' lengths.
MAX_EVENTS = 200_000

# What fold_conversation and merge_conversations read of an event document.
FOLD_FIELDS = (
    "event_id",
    "type",
    "conversation_id",
    "occurred_at",
    "channel_id",
    "thread_ts",
    "ticket_id",
    "source",
    "actor",
    "public",
    "status",
    "via",
    "tags",
    # The question and answer of the conversation document (at most TEXT_CHARS of each text),
    # and which message a deletion removed.
    "text",
    "target_event_id",
    "deleted",
    "answer",  # automatic answers: offered, which rules, the requester's feedback
)

Doc = dict[str, Any]
# (conversation ids, ticket ids) -> the event documents of those conversations or with those
# tickets, from Elasticsearch.
Reader = Callable[[set[str], set[int]], Iterable[tuple[str, Doc]]]


def slim(doc: Doc) -> Doc:
    # zip and map, not a comprehension: half the cost, and slim runs for every event indexed.
    kept = dict(zip(FOLD_FIELDS, map(doc.get, FOLD_FIELDS), strict=True))
    if kept["text"]:
        kept["text"] = kept["text"][:TEXT_CHARS]
    return kept


class FoldState:
    """Per owned conversation, every event document indexed for it (by _id), least recently used
    first out."""

    def __init__(self, max_events: int = MAX_EVENTS) -> None:
        self.max_events = max_events
        self._events: OrderedDict[str, dict[str, Doc]] = OrderedDict()
        self._by_ticket: dict[int, set[str]] = {}
        self._count = 0

    def __contains__(self, conversation_id: str) -> bool:
        return conversation_id in self._events

    def __len__(self) -> int:
        return len(self._events)

    def events(self, conversation_id: str) -> dict[str, Doc]:
        self._events.move_to_end(conversation_id)
        return self._events[conversation_id]

    def with_ticket(self, ticket_id: int) -> set[str]:
        return set(self._by_ticket.get(ticket_id, ()))

    def put(self, conversation_id: str, docs: dict[str, Doc]) -> None:
        """The complete set of a conversation's events (read from Elasticsearch)."""
        self.forget([conversation_id])
        self._events[conversation_id] = {}
        self.add(conversation_id, docs)

    def add(self, conversation_id: str, docs: dict[str, Doc]) -> None:
        """Events of a kept conversation, as they are indexed (the same _id twice counts once)."""
        kept = self.events(conversation_id)
        for _id, doc in docs.items():
            if _id not in kept:
                self._count += 1
            kept[_id] = slim(doc)
            if doc.get("ticket_id") is not None:
                self._by_ticket.setdefault(doc["ticket_id"], set()).add(conversation_id)
        while self._count > self.max_events and len(self._events) > 1:
            oldest = next(iter(self._events))
            self.forget([oldest])

    def discard(self, conversation_id: str, ids: Iterable[str]) -> None:
        """Events Elasticsearch refused: they were never indexed."""
        if conversation_id in self._events:
            kept = self._events[conversation_id]
            for _id in ids:
                doc = kept.pop(_id, None)
                if doc is None:
                    continue
                self._count -= 1
                ticket = doc.get("ticket_id")
                if ticket is not None and all(d.get("ticket_id") != ticket for d in kept.values()):
                    self._by_ticket.get(ticket, set()).discard(conversation_id)

    def forget(self, conversation_ids: Iterable[str]) -> None:
        for conversation_id in conversation_ids:
            docs = self._events.pop(conversation_id, None)
            if docs is None:
                continue
            self._count -= len(docs)
            for doc in docs.values():
                holders = self._by_ticket.get(doc.get("ticket_id"))  # type: ignore[arg-type]
                if holders is not None:
                    holders.discard(conversation_id)
                    if not holders:
                        del self._by_ticket[doc["ticket_id"]]

    def clear(self) -> None:
        self._events.clear()
        self._by_ticket.clear()
        self._count = 0


def related_events(state: FoldState, batch: dict[str, dict[str, Doc]], read: Reader) -> list[Doc]:
    """Every event of the conversations a batch touches (`batch`: conversation id -> its new
    event documents by _id) and of those they merge with (an emailed ticket's `zd:<ticket>` and
    the thread that carries the same ticket), from the state, or from Elasticsearch for what the
    state does not hold. The batch's conversations are owned: they are kept in the state, read
    whole on a miss."""
    found: dict[str, dict[str, Doc]] = {}

    def tickets_in(docs: Iterable[dict[str, Doc]]) -> set[int]:
        return {d["ticket_id"] for kept in docs for d in kept.values() if d["ticket_id"] is not None}

    def made_in_slack(docs: Iterable[dict[str, Doc]]) -> set[int]:
        """Tickets Threadline opened from a Slack thread (their ticket_created, from Slack, is in
        the thread): never emailed, so no `zd:<ticket>` conversation holds anything of theirs (the
        router starts one only for a ticket created by e-mail without an external id)."""
        return {
            d["ticket_id"]
            for kept in docs
            for d in kept.values()
            if d["type"] == "ticket_created"
            and d["source"] == "slack"
            and d["ticket_id"] is not None
            and email_ticket(d["conversation_id"]) is None
        }

    wanted_conversations = set(batch)
    wanted_tickets = tickets_in(batch.values())
    # Known without a search: what the batch and the state hold of the batch's conversations.
    slack_tickets = made_in_slack([*batch.values(), *(state.events(c) for c in batch if c in state)])
    read_conversations: set[str] = set()
    read_tickets: set[int] = set()
    for _ in range(MERGE_ROUNDS):
        emailed_homes = {f"zd:{t}" for t in wanted_tickets - slack_tickets}
        conversations = (wanted_conversations | emailed_homes) - read_conversations
        emailed = {email_ticket(c) for c in wanted_conversations | read_conversations | conversations}
        tickets = {t for t in emailed if t is not None} - read_tickets
        if not conversations and not tickets:
            break
        # One search a round for all that the state does not hold: the batch's misses, and the
        # conversations it does not own.
        missing = {c for c in conversations if c not in state}
        new: dict[str, dict[str, Doc]] = {c: {} for c in missing}
        if missing or tickets:
            for _id, doc in read(missing, tickets):
                conversation_id = doc["conversation_id"]
                if conversation_id in new:
                    new[conversation_id][_id] = doc
                elif doc["type"] != "join":
                    wanted_conversations.add(conversation_id)  # through its ticket: read whole next round
        for conversation_id in conversations:
            if conversation_id in batch:  # owned: kept from now on, with the batch's events
                if conversation_id in missing:
                    state.put(conversation_id, new[conversation_id])
                state.add(conversation_id, batch[conversation_id])
                found[conversation_id] = state.events(conversation_id)
            elif conversation_id in state:
                found[conversation_id] = state.events(conversation_id)
            else:
                found[conversation_id] = new[conversation_id]
        for ticket in tickets:
            wanted_conversations |= state.with_ticket(ticket)
        read_conversations |= conversations
        read_tickets |= tickets
        wanted_tickets |= tickets_in(found[c] for c in conversations)
        slack_tickets |= made_in_slack(found[c] for c in conversations)
    # Only conversations read whole make documents (a longer chain than MERGE_ROUNDS is not one
    # the router makes; the next flush touching it goes on from there).
    return [d for c in read_conversations for d in found[c].values()]

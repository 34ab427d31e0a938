"""Decode topic records into the typed events the rules understand.

Pure: bytes in, one `Inbound` (or None for records that mean nothing to the router) out. A
record that cannot be decoded raises PoisonMessage and goes to the dead-letter topic.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import msgspec

from threadline_common.dlq import PoisonMessage
from threadline_common.models import SyncResultV2 as SyncResult
from threadline_common.slack_messages import message_kind
from threadline_common.tickets import TICKET_STATUSES
from threadline_router.conversation import conversation_key


@dataclass(frozen=True)
class SlackMessage:
    event_id: str
    team_id: str
    channel_id: str
    ts: str
    thread_ts: str | None
    user: str | None
    bot_id: str | None
    text: str
    subtype: str | None = None
    files: tuple[dict[str, Any], ...] = ()
    # Sent by `threadline-ops backfill` (history read from Slack), not delivered by Slack.
    backfill: bool = False
    # Backfill: the operator named this thread, so it opens a ticket whatever the channel's rule.
    explicit: bool = False
    # Backfill: the message's reactions as Slack lists them ({name, users, count}).
    reactions: tuple[dict[str, Any], ...] = ()

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def root_ts(self) -> str:
        return self.thread_ts or self.ts


@dataclass(frozen=True)
class SlackEdit:
    event_id: str
    team_id: str
    channel_id: str
    ts: str
    root_ts: str
    user: str | None
    text: str
    edited_ts: str


@dataclass(frozen=True)
class SlackDelete:
    event_id: str
    team_id: str
    channel_id: str
    ts: str
    root_ts: str
    user: str | None


@dataclass(frozen=True)
class SlackReaction:
    event_id: str
    team_id: str
    channel_id: str
    item_ts: str
    user: str
    reaction: str
    added: bool
    item_user: str | None = None  # the author of the message reacted to


@dataclass(frozen=True)
class SlackJoin:
    """Someone joined a channel (member_joined_channel)."""

    event_id: str
    team_id: str
    channel_id: str
    user: str


@dataclass(frozen=True)
class ReminderTick:
    """The router's timer found a conversation that may be due a reminder (threadline.router.inbound)."""

    conversation_id: str
    at: str


@dataclass(frozen=True)
class ZendeskTicketEvent:
    """A Zendesk event webhook about one ticket: created, comment added, status changed."""

    event_id: str
    kind: str  # created | comment | status
    ticket_id: int
    external_id: str | None
    status: str | None
    previous_status: str | None = None
    via_channel: str | None = None
    group_id: int | None = None
    subject: str = ""
    description: str = ""
    requester_id: int | None = None
    comment_id: int | None = None
    comment_body: str = ""
    comment_html: str = ""  # the comment's html_body, when Zendesk sends it (preferred for Slack)
    comment_public: bool = True
    author_id: int | None = None
    author_name: str = ""
    author_is_staff: bool = False
    occurred_at: str | None = None  # when Zendesk says it happened (the webhook's `time`)


@dataclass(frozen=True)
class OperatorAction:
    """An operator's correction sent by `threadline-ops` (relink, unlink) for the router to apply,
    so that the links table stays the router's and the change is in its changelog."""

    kind: str  # relink | unlink
    action_id: str  # unique per run of the command: the seen key and command ids derive from it
    conversation_id: str
    by: str
    at: str
    team_id: str = ""
    channel_id: str = ""
    thread_ts: str | None = None
    ticket_id: int | None = None
    ticket_url: str | None = None
    ticket_status: str | None = None
    requester_slack_id: str | None = None


Inbound: TypeAlias = (
    SlackMessage
    | SlackEdit
    | SlackDelete
    | SlackReaction
    | SlackJoin
    | ZendeskTicketEvent
    | SyncResult
    | ReminderTick
    | OperatorAction
)


def _json(value: bytes | str | dict[str, Any] | None) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if value is None:
        raise PoisonMessage("no value (a tombstone)")
    try:
        decoded = json.loads(value)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested too deep
        raise PoisonMessage(f"not JSON: {type(exc).__name__}") from exc
    if not isinstance(decoded, dict):
        raise PoisonMessage("not a JSON object")
    return decoded


def _opt_int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise PoisonMessage(f"not an integer id: {value!r}") from exc


# The record kinds each input topic's contract allows (schemas/json/*.v1.schema.json). A record of
# another kind is dead-lettered; a Zendesk event type we do not handle is not: Zendesk adds types.
SLACK_KINDS = frozenset({"event_callback", "interaction", "slash_command"})
ZENDESK_KINDS = frozenset({"event_webhook", "legacy_trigger"})
RESULT_KINDS = frozenset({"ticket_created", "thread_opened", "failed", "thread_gone"})


def decode_slack(record: bytes | str | dict[str, Any]) -> Inbound | None:
    """A threadline.slack.events record -> Inbound, or None when the router has nothing to do."""
    envelope = _json(record)
    kind = envelope.get("kind")
    if kind not in SLACK_KINDS:  # the contract's kinds; anything else was not written by ingest
        raise PoisonMessage(f"unknown slack.events kind {kind!r}")
    if kind != "event_callback":
        return None  # interactions and slash commands are not conversation events
    body = envelope.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("event"), dict):
        raise PoisonMessage("event_callback without body.event")
    event: dict[str, Any] = body["event"]
    event_id = str(envelope.get("event_id") or body.get("event_id") or "")
    team_id = str(envelope.get("team_id") or body.get("team_id") or "")
    etype = event.get("type")
    if etype == "message":
        return _decode_message(event, event_id, team_id)
    if etype in ("reaction_added", "reaction_removed"):
        item = event.get("item") or {}
        if item.get("type") != "message" or not item.get("channel") or not item.get("ts"):
            return None
        return SlackReaction(
            event_id=event_id,
            team_id=team_id,
            channel_id=str(item["channel"]),
            item_ts=str(item["ts"]),
            user=str(event.get("user") or ""),
            reaction=str(event.get("reaction") or ""),
            added=etype == "reaction_added",
            item_user=event.get("item_user") or None,
        )
    if etype == "member_joined_channel":
        if not event.get("channel") or not event.get("user"):
            return None
        return SlackJoin(event_id, team_id, str(event["channel"]), str(event["user"]))
    return None


def _decode_message(event: dict[str, Any], event_id: str, team_id: str) -> Inbound | None:
    channel = event.get("channel")
    kind = message_kind(event)  # the one rule of what is conversation (threadline_common)
    if not channel or kind == "ignored":
        return None
    subtype = event.get("subtype")
    if kind == "edit":
        message = event.get("message") or {}
        previous = event.get("previous_message") or {}
        ts = str(message.get("ts") or previous.get("ts") or "")
        if not ts or message.get("bot_id"):
            return None
        if message.get("text") == previous.get("text"):
            return None  # unfurls and other non-text changes
        return SlackEdit(
            event_id=event_id,
            team_id=team_id,
            channel_id=str(channel),
            ts=ts,
            root_ts=str(message.get("thread_ts") or previous.get("thread_ts") or ts),
            user=message.get("user") or previous.get("user"),
            text=str(message.get("text") or ""),
            edited_ts=str((message.get("edited") or {}).get("ts") or event.get("event_ts") or ts),
        )
    if kind == "delete":
        # message_deleted, or a tombstone (message_changed whose message is the deleted parent of
        # a thread that keeps its replies): either way the message as it was is in previous_message.
        message = event.get("message") or {}
        previous = event.get("previous_message") or {}
        ts = str(event.get("deleted_ts") or message.get("ts") or previous.get("ts") or "")
        if not ts or previous.get("bot_id"):
            return None
        return SlackDelete(
            event_id=event_id,
            team_id=team_id,
            channel_id=str(channel),
            ts=ts,
            root_ts=str(message.get("thread_ts") or previous.get("thread_ts") or ts),
            user=previous.get("user") or message.get("user"),
        )
    if not event.get("ts"):
        raise PoisonMessage("message event without ts")
    return SlackMessage(
        event_id=event_id,
        team_id=team_id,
        channel_id=str(channel),
        ts=str(event["ts"]),
        thread_ts=str(event["thread_ts"]) if event.get("thread_ts") else None,
        user=event.get("user"),
        bot_id=event.get("bot_id"),
        text=str(event.get("text") or ""),
        subtype=subtype,
        files=tuple(f for f in event.get("files") or () if isinstance(f, dict)),
    )


_ZENDESK_KINDS = {
    "zen:event-type:ticket.created": "created",
    "zen:event-type:ticket.comment_added": "comment",
    "zen:event-type:ticket.status_changed": "status",
}


def decode_zendesk(record: bytes | str | dict[str, Any]) -> Inbound | None:
    """A threadline.zendesk.events record -> ZendeskTicketEvent, or None for other events."""
    envelope = _json(record)
    if envelope.get("kind") not in ZENDESK_KINDS:
        raise PoisonMessage(f"unknown zendesk.events kind {envelope.get('kind')!r}")
    body = envelope.get("body")
    if not isinstance(body, dict):
        raise PoisonMessage("zendesk record without body")
    if envelope.get("kind") == "legacy_trigger":
        return _decode_legacy(envelope, body)
    kind = _ZENDESK_KINDS.get(str(body.get("type")))
    if kind is None:
        return None
    detail = body.get("detail") or {}
    event = body.get("event") or {}
    ticket_id = _opt_int(detail.get("id")) or _opt_int(str(body.get("subject", "")).rpartition(":")[2])
    if ticket_id is None:
        raise PoisonMessage("zendesk event without a ticket id")
    via = detail.get("via") or {}
    common: dict[str, Any] = {
        "event_id": str(body.get("id") or envelope.get("event_id") or ""),
        "kind": kind,
        "ticket_id": ticket_id,
        "external_id": detail.get("external_id") or None,
        "status": str(detail.get("status") or "").lower() or None,
        "via_channel": via.get("channel") if isinstance(via, dict) else None,
        "group_id": _opt_int(detail.get("group_id")),
        "subject": str(detail.get("subject") or ""),
        "description": str(detail.get("description") or ""),
        "requester_id": _opt_int(detail.get("requester_id")),
        "occurred_at": body["time"] if isinstance(body.get("time"), str) and body["time"] else None,
    }
    if kind == "comment":
        comment = event.get("comment") or {}
        author = comment.get("author") or {}
        common.update(
            comment_id=_opt_int(comment.get("id")),
            comment_body=str(comment.get("body") or comment.get("plain_body") or ""),
            comment_html=str(comment.get("html_body") or ""),
            comment_public=bool(comment.get("is_public", True)),
            author_id=_opt_int(author.get("id")),
            author_name=str(author.get("name") or ""),
            author_is_staff=bool(author.get("is_staff", False)),
        )
        if common["comment_id"] is None:
            raise PoisonMessage("comment_added event without comment id")
    elif kind == "status":
        common["status"] = str(event.get("current") or common["status"] or "").lower() or None
        common["previous_status"] = str(event.get("previous") or "").lower() or None
    return ZendeskTicketEvent(**common)


def _decode_legacy(envelope: dict[str, Any], body: dict[str, Any]) -> Inbound | None:
    """Trigger/target bodies: only the fields a trigger template can carry; comments only."""
    ticket_id = _opt_int(body.get("ticket_id") or body.get("id") or envelope.get("ticket_id"))
    if ticket_id is None:
        return None
    comment_id = _opt_int(body.get("comment_id"))
    text = body.get("latest_comment") or body.get("comment") or body.get("latest_public_comment")
    if comment_id is None or not text:
        return None
    return ZendeskTicketEvent(
        event_id=str(envelope.get("event_id") or ""),
        kind="comment",
        ticket_id=ticket_id,
        external_id=body.get("external_id") or None,
        status=str(body.get("status") or "").lower() or None,
        comment_id=comment_id,
        comment_body=str(text),
        comment_public=str(body.get("is_public", "true")).lower() != "false",
        author_name=str(body.get("author_name") or body.get("current_user_name") or ""),
        author_is_staff=True,
    )


# sync.results v2 reads every v1 result: one decoder, validating in C.
_RESULTS = msgspec.json.Decoder(SyncResult)


def decode_result(record: bytes | str | dict[str, Any]) -> SyncResult:
    """A threadline.sync.results record (v1 or v2) -> the generated SyncResult struct."""
    if record is None:
        raise PoisonMessage("no value (a tombstone)")
    try:
        if isinstance(record, dict):
            return msgspec.convert(record, SyncResult)
        return _RESULTS.decode(record)
    except msgspec.ValidationError as exc:
        raise PoisonMessage(f"not a sync result: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise PoisonMessage(f"not JSON: {exc}") from exc


def decode_tick(record: bytes | str | dict[str, Any]) -> ReminderTick:
    data = _json(record)
    if data.get("kind") != "reminder_tick" or not data.get("conversation_id") or not data.get("at"):
        raise PoisonMessage("not a reminder tick")
    return ReminderTick(str(data["conversation_id"]), str(data["at"]))


def tick_record(conversation_id: str, at: str) -> bytes:
    return json.dumps({"kind": "reminder_tick", "conversation_id": conversation_id, "at": at}).encode()


# threadline-source header of records threadline-ops writes to threadline.router.inbound.
OPS_SOURCE = "ops"
OPS_ACTIONS = ("relink", "unlink")


def backfill_record(team_id: str, channel_id: str, root_ts: str, message: dict[str, Any], explicit: bool) -> bytes:
    """One message of a thread read from Slack (conversations.replies / history) as an ops record."""
    return json.dumps(
        {
            "kind": "backfill_message",
            "team_id": team_id,
            "channel_id": channel_id,
            "root_ts": root_ts,
            "explicit": explicit,
            "message": {
                k: message[k]
                for k in ("ts", "thread_ts", "user", "bot_id", "text", "subtype", "files", "reactions")
                if message.get(k) is not None
            },
        }
    ).encode()


def action_record(action: OperatorAction) -> bytes:
    return json.dumps({"kind": action.kind, **{k: v for k, v in action.__dict__.items() if k != "kind"}}).encode()


def decode_ops(record: bytes | str | dict[str, Any]) -> Inbound:
    """A threadline-ops record from threadline.router.inbound -> SlackMessage (backfill) or OperatorAction."""
    data = _json(record)
    kind = data.get("kind")
    if kind == "backfill_message":
        message = data.get("message")
        if not isinstance(message, dict) or not message.get("ts"):
            raise PoisonMessage("backfill_message without message.ts")
        if not data.get("team_id") or not data.get("channel_id") or not data.get("root_ts"):
            raise PoisonMessage("backfill_message without team_id, channel_id or root_ts")
        ts, root = str(message["ts"]), str(data["root_ts"])
        return SlackMessage(
            event_id=f"backfill:{data['channel_id']}:{ts}",
            team_id=str(data["team_id"]),
            channel_id=str(data["channel_id"]),
            ts=ts,
            thread_ts=root if root != ts else None,
            user=message.get("user"),
            bot_id=message.get("bot_id"),
            text=str(message.get("text") or ""),
            subtype=message.get("subtype"),
            files=tuple(f for f in message.get("files") or () if isinstance(f, dict)),
            backfill=True,
            explicit=bool(data.get("explicit")),
            reactions=tuple(r for r in message.get("reactions") or () if isinstance(r, dict)),
        )
    if kind in OPS_ACTIONS:
        if not data.get("action_id") or not data.get("conversation_id"):
            raise PoisonMessage(f"{kind} without action_id or conversation_id")
        status = data.get("ticket_status")
        if status is not None and status not in TICKET_STATUSES:
            raise PoisonMessage(f"{kind}: unknown ticket_status {status!r}")
        ticket_id = _opt_int(data.get("ticket_id"))
        if kind == "relink" and ticket_id is None:
            raise PoisonMessage("relink without ticket_id")
        return OperatorAction(
            kind=str(kind),
            action_id=str(data["action_id"]),
            conversation_id=str(data["conversation_id"]),
            by=str(data.get("by") or "an operator"),
            at=str(data.get("at") or ""),
            team_id=str(data.get("team_id") or ""),
            channel_id=str(data.get("channel_id") or ""),
            thread_ts=data.get("thread_ts") or None,
            ticket_id=ticket_id,
            ticket_url=data.get("ticket_url") or None,
            ticket_status=status,
            requester_slack_id=data.get("requester_slack_id") or None,
        )
    raise PoisonMessage(f"not a threadline-ops record: kind {kind!r}")


def conversation_of(event: Inbound) -> str:
    """The conversation an event belongs to: the table key the router groups by."""
    match event:
        case SlackMessage():
            return conversation_key(event.team_id, event.channel_id, event.root_ts)
        case SlackEdit() | SlackDelete():
            return conversation_key(event.team_id, event.channel_id, event.root_ts)
        case SlackReaction():
            return conversation_key(event.team_id, event.channel_id, event.item_ts)
        case SlackJoin():
            # Not a conversation: its own key, so joins never touch a thread's row.
            return f"{event.team_id}:{event.channel_id}:join:{event.user}"
        case ReminderTick():
            return event.conversation_id
        case ZendeskTicketEvent():
            if event.external_id:
                # Follow-up tickets carry "<conversation>#<generation>".
                return event.external_id.split("#", 1)[0]
            return f"zd:{event.ticket_id}"
        case SyncResult():
            return event.conversation_id
        case OperatorAction():
            return event.conversation_id
    raise TypeError(f"not an inbound event: {event!r}")


# What a record of the right kind but the wrong shape (a string where an object belongs, a list
# for a field) raises inside a decoder: a poison message like any other, never a crash.
MALFORMED = (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError, UnicodeDecodeError)


def guarded(decode: Callable[[Any], Inbound | None]) -> Callable[[Any], Inbound | None]:
    """`decode`, raising only PoisonMessage, whatever the bytes."""

    def run(record: Any) -> Inbound | None:
        try:
            return decode(record)
        except PoisonMessage:
            raise
        except MALFORMED as exc:
            raise PoisonMessage(f"malformed record ({type(exc).__name__}: {str(exc)[:200]})") from exc

    run.__name__ = getattr(decode, "__name__", "decode")
    return run

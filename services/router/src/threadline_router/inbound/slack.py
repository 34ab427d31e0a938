"""threadline.slack.events records -> messages, edits, deletions, reactions and joins; slash
commands, interactions and App Home visits are decoded in `interactions`."""

from __future__ import annotations

from typing import Any

from threadline_common.dlq import PoisonMessage
from threadline_common.installations import enterprise_of
from threadline_common.slack_messages import message_kind
from threadline_router.inbound.events import Inbound, SlackDelete, SlackEdit, SlackJoin, SlackMessage, SlackReaction
from threadline_router.inbound.interactions import decode_home_opened, decode_interaction, decode_slash_command
from threadline_router.inbound.records import json_record

# The record kinds each input topic's contract allows (schemas/json/*.v1.schema.json). A record of
# another kind is dead-lettered; a Zendesk event type we do not handle is not: Zendesk adds types.
SLACK_KINDS = frozenset({"event_callback", "interaction", "slash_command"})


def decode_slack(record: bytes | str | dict[str, Any]) -> Inbound | None:
    """A threadline.slack.events record -> Inbound, or None when the router has nothing to do."""
    envelope = json_record(record)
    kind = envelope.get("kind")
    if kind not in SLACK_KINDS:  # the contract's kinds; anything else was not written by ingest
        raise PoisonMessage(f"unknown slack.events kind {kind!r}")
    if kind == "slash_command":
        return decode_slash_command(envelope)
    if kind == "interaction":
        return decode_interaction(envelope)
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
    if etype == "app_home_opened":
        return decode_home_opened(event, event_id, team_id)
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


def enterprise_of_record(record: bytes | str | dict[str, Any] | None) -> str | None:
    """The Enterprise Grid organisation a threadline.slack.events record's install is for
    (threadline_common.installations.enterprise_of), None outside Enterprise Grid. The commands it
    causes carry it to zendesk-sync, which finds an org-wide install by it."""
    if isinstance(record, bytes | str) and "enterprise" not in (
        record.decode(errors="replace") if isinstance(record, bytes) else record
    ):
        return None  # most records: no need to read the JSON a second time
    try:
        envelope = json_record(record)
    except PoisonMessage:
        return None
    return enterprise_of(str(envelope.get("kind")), envelope.get("body"))

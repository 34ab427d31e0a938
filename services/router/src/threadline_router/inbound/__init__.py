"""Decode topic records into the typed events the rules understand.

Pure: bytes in, one `Inbound` (or None for records that mean nothing to the router) out. A
record that cannot be decoded raises PoisonMessage and goes to the dead-letter topic. One
module per input: `slack`, `zendesk`, `results` (and reminder ticks), `ops` (threadline-ops'
records); `events` holds the events themselves and the conversation each belongs to.
"""

from __future__ import annotations

from threadline_router.conversation import conversation_key
from threadline_router.inbound.events import (
    BlockAction,
    FollowNote,
    HomeOpened,
    Inbound,
    MessageShortcut,
    OperatorAction,
    ReminderTick,
    SlackDelete,
    SlackEdit,
    SlackJoin,
    SlackMessage,
    SlackReaction,
    SlashCommand,
    SyncResult,
    ViewSubmission,
    ZendeskTicketEvent,
    also_for,
    conversation_of,
)
from threadline_router.inbound.follows import FOLLOWS_SOURCE, decode_follow_note, note_record
from threadline_router.inbound.interactions import command_key, person_key, ticket_key
from threadline_router.inbound.ops import OPS_ACTIONS, OPS_SOURCE, action_record, backfill_record, decode_ops
from threadline_router.inbound.records import MALFORMED, guarded
from threadline_router.inbound.results import RESULT_KINDS, decode_result, decode_tick, tick_record
from threadline_router.inbound.slack import SLACK_KINDS, decode_slack
from threadline_router.inbound.zendesk import ZENDESK_KINDS, decode_zendesk

__all__ = [
    "FOLLOWS_SOURCE",
    "MALFORMED",
    "OPS_ACTIONS",
    "OPS_SOURCE",
    "RESULT_KINDS",
    "SLACK_KINDS",
    "ZENDESK_KINDS",
    "BlockAction",
    "FollowNote",
    "HomeOpened",
    "Inbound",
    "MessageShortcut",
    "OperatorAction",
    "ReminderTick",
    "SlackDelete",
    "SlackEdit",
    "SlackJoin",
    "SlackMessage",
    "SlackReaction",
    "SlashCommand",
    "SyncResult",
    "ViewSubmission",
    "ZendeskTicketEvent",
    "action_record",
    "also_for",
    "backfill_record",
    "command_key",
    "conversation_key",
    "conversation_of",
    "decode_follow_note",
    "decode_ops",
    "decode_result",
    "decode_slack",
    "decode_tick",
    "decode_zendesk",
    "guarded",
    "note_record",
    "person_key",
    "tick_record",
    "ticket_key",
]

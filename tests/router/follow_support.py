"""The router's two tables without Kafka, for the rules of `/support` and following: events are
decided by the row their key names (links or follows), notes go to the rows they name, and every
command is checked against its contract."""

from __future__ import annotations

from typing import Any

import msgspec

from threadline_common.models import CommandV4
from threadline_common.schemas import validate
from threadline_router.follow_rows import FollowRow, decode_follow_row, encode_follow_row, is_follow_key
from threadline_router.inbound import (
    FollowNote,
    Inbound,
    SyncResult,
    also_for,
    conversation_of,
    decode_follow_note,
    decode_slack,
    decode_zendesk,
    note_record,
)
from threadline_router.rules import Context, route, route_follow_row

TEAM = "T1"


def slash(text: str, user: str = "U0CAROL", channel: str = "C1", event_id: str | None = None) -> dict[str, Any]:
    """A threadline.slack.events record of `/support <text>`, as ingest stores it."""
    return {
        "schema_version": 1,
        "kind": "slash_command",
        "received_at": "2026-11-23T10:00:00Z",
        "source": "http",
        "team_id": TEAM,
        "event_id": event_id or f"cmd-{abs(hash((text, user, channel))) % 10**8}",
        "retry_num": None,
        "retry_reason": None,
        "conversation_key": None,
        "body": {
            "team_id": TEAM,
            "channel_id": channel,
            "user_id": user,
            "user_name": user.lower(),
            "command": "/support",
            "text": text,
            "response_url": f"https://hooks.slack.com/commands/{TEAM}/1/{user}",
            "trigger_id": "1.2.3",
        },
    }


def press(action_id: str, value: str, user: str = "U0CAROL", event_id: str = "press-1") -> dict[str, Any]:
    """A button press (block_actions) in a DM, as ingest stores it."""
    return {
        "schema_version": 1,
        "kind": "interaction",
        "received_at": "2026-11-23T10:00:00Z",
        "source": "http",
        "team_id": TEAM,
        "event_id": event_id,
        "retry_num": None,
        "retry_reason": None,
        "conversation_key": None,
        "body": {
            "type": "block_actions",
            "team": {"id": TEAM},
            "user": {"id": user, "username": user.lower()},
            "container": {"type": "message", "channel_id": "D0DM", "message_ts": "5.5"},
            "channel": {"id": "D0DM"},
            "message": {"ts": "5.5", "text": "update"},
            "response_url": f"https://hooks.slack.com/actions/{TEAM}/1/{user}",
            "trigger_id": "1.2.3",
            "actions": [{"action_id": action_id, "value": value, "type": "button", "action_ts": "6.6"}],
        },
    }


def checked(command: Any, sees_thread: bool = True) -> SyncResult:
    """zendesk-sync's follower_checked for a zendesk.check_follower command it allowed."""
    choices = msgspec.to_builtins(command.choices)
    return msgspec.convert(
        {
            "schema_version": 3,
            "kind": "follower_checked",
            "conversation_id": command.conversation_id,
            "command_id": command.command_id,
            "command_type": "zendesk.check_follower",
            "ticket_id": command.ticket_id,
            "ticket_url": f"https://acme.zendesk.com/agent/tickets/{command.ticket_id}",
            "follower": {
                "team_id": command.team_id,
                "user": command.user,
                "sees_thread": sees_thread,
                "choices": choices,
            },
        },
        SyncResult,
    )


class Router:
    """Both tables, in memory; `send` decides an event (and any notes it leads to) and returns
    the commands, each valid against the commands contract."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.links: dict[str, Any] = {}
        self.follows: dict[str, bytes] = {}

    def row(self, key: str) -> FollowRow | None:
        raw = self.follows.get(key)
        return decode_follow_row(raw) if raw else None

    def send(self, record: dict[str, Any] | Inbound) -> list[CommandV4]:
        if isinstance(record, dict):
            event = decode_slack(record) if record.get("kind") != "event_webhook" else decode_zendesk(record)
            assert event is not None
        else:
            event = record
        out: list[CommandV4] = []
        for key in (conversation_of(event), *also_for(event)):
            out += self._decide(event, key)
        return out

    def _decide(self, event: Inbound, key: str) -> list[CommandV4]:
        notes: list[FollowNote]
        if is_follow_key(key):
            decision = route_follow_row(event, self.row(key), key, self.ctx)
            if decision.row is not None:
                record = msgspec.to_builtins(decision.row)
                validate("threadline.follows", 1, record)
                self.follows[key] = encode_follow_row(decision.row)
            commands, notes = decision.commands, decision.notes
        else:
            plain = route(event, self.links.get(key), self.ctx)
            if plain.state is not None:
                self.links[key] = plain.state
            commands, notes = plain.commands, plain.notes
        for command in commands:
            record = msgspec.to_builtins(command)
            validate("threadline.commands", 3, record)
        out = list(commands)
        for note in notes:
            out += self._decide(decode_follow_note(note_record(note)), conversation_of(note))
        return out

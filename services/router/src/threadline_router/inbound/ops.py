"""The records threadline-ops writes to threadline.router.inbound (backfilled messages, relink,
unlink), written and decoded."""

from __future__ import annotations

import json
from typing import Any

from threadline_common.dlq import PoisonMessage
from threadline_common.tickets import TICKET_STATUSES
from threadline_router.inbound.events import Inbound, OperatorAction, SlackMessage
from threadline_router.inbound.records import json_record, opt_int

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
    data = json_record(record)
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
        ticket_id = opt_int(data.get("ticket_id"))
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

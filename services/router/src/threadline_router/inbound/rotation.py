"""The router's own hand-over ticks on threadline.router.inbound (threadline-source: rotation),
keyed rotation:<channel>: the leader's timer asks each channel with a rotating fireman's row
whether a hand-over is due its announcement (rules.fireman.on_handover_tick)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from threadline_common.dlq import PoisonMessage
from threadline_router.inbound.records import json_record

ROTATION_SOURCE = "rotation"


@dataclass(frozen=True)
class HandoverTick:
    channel_id: str
    at: str  # the timer's clock: the instant the hand-over is decided at


def handover_tick_record(channel_id: str, at: str) -> bytes:
    return json.dumps({"kind": "handover_tick", "channel_id": channel_id, "at": at}).encode()


def decode_handover_tick(record: bytes | str | dict[str, Any]) -> HandoverTick:
    data = json_record(record)
    if data.get("kind") != "handover_tick" or not isinstance(data.get("channel_id"), str) or not data.get("at"):
        raise PoisonMessage("not a hand-over tick")
    return HandoverTick(data["channel_id"], str(data["at"]))

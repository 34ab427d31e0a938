"""The router's notes to its own follows rows (threadline.router.inbound, threadline-source
`follows`), written and decoded."""

from __future__ import annotations

import json
from typing import Any

from threadline_common.dlq import PoisonMessage
from threadline_router.inbound.events import FollowNote
from threadline_router.inbound.records import json_record, opt_int

FOLLOWS_SOURCE = "follows"
NOTE_KINDS = frozenset({"followed", "unfollowed", "unfollow"})


def note_record(note: FollowNote) -> bytes:
    fields = {k: v for k, v in note.__dict__.items() if k != "kind"}
    return json.dumps({"kind": "follow_note", "note": note.kind, **fields}).encode()


def decode_follow_note(record: bytes | str | dict[str, Any]) -> FollowNote:
    data = json_record(record)
    if data.get("kind") != "follow_note":
        raise PoisonMessage("not a follow note")
    note, ticket_id = data.get("note"), opt_int(data.get("ticket_id"))
    if note not in NOTE_KINDS or ticket_id is None:
        raise PoisonMessage(f"follow note of kind {note!r} or without a ticket id")
    if not data.get("note_id") or not data.get("team_id") or not data.get("user"):
        raise PoisonMessage("follow note without note_id, team_id or user")
    return FollowNote(
        kind=str(note),
        note_id=str(data["note_id"]),
        team_id=str(data["team_id"]),
        user=str(data["user"]),
        ticket_id=ticket_id,
        at=str(data.get("at") or ""),
        response_url=str(data["response_url"]) if data.get("response_url") else None,
        ticket_url=str(data["ticket_url"]) if data.get("ticket_url") else None,
    )

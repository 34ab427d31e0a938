"""An emailed ticket as the router records it (schemas/examples/threadline.activity/1/13 and
threadline.links/1/email_conversation_waiting_for_thread): its first activity under `zd:4020`,
the rest under the Slack thread Threadline opened for it, with the same ticket_id."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "threadline.activity" / "1"
TICKET = 4020
EMAIL = f"zd:{TICKET}"
THREAD_TS = "1795773710.000200"
THREAD = f"T0001:C0SUPPORT:{THREAD_TS}"
BRIDGE = "8447388090001"  # Threadline's own Zendesk user
AGENT = "8447388090494"
REQUESTER = "8447388090111"


def _record(event_id: str, kind: str, when: str, conversation: str, actor: dict[str, Any], **more: Any) -> dict:
    in_thread = not conversation.startswith("zd:")
    return {
        "schema_version": 1,
        "event_id": event_id,
        "type": kind,
        "conversation_id": conversation,
        "occurred_at": when,
        "channel_id": "C0SUPPORT",
        "thread_ts": THREAD_TS if in_thread else None,
        "ticket_id": more.pop("ticket", TICKET),
        "source": more.pop("source", "zendesk"),
        "text": more.pop("text", None),
        "public": more.pop("public", True),
        "status": more.pop("status", None),
        "previous_status": more.pop("previous_status", None),
        "reaction": None,
        "actor": actor,
        **more,
    }


def email_records() -> list[dict[str, Any]]:
    """Before the thread: the e-mail (the contract example) and an agent's answer, held for the thread."""
    created = json.loads((EXAMPLES / "13_email_ticket_created.json").read_text())
    assert created["conversation_id"] == EMAIL and created["ticket_id"] == TICKET
    comment = _record(
        "zd-comment:30000000009",
        "comment",
        "2026-11-23T10:01:45.100Z",
        EMAIL,
        {"id": AGENT, "name": "Agent Ann", "email": None, "role": "agent"},
        text="We are looking into it.",
    )
    return [created, comment]


def thread_records() -> list[dict[str, Any]]:
    """In the thread: the ticket opens, a Slack reply and its copy in Zendesk (written by
    Threadline's own user), Dana answers by e-mail, an internal note, the ticket is solved."""
    system = {"id": None, "role": "system"}
    return [
        _record(
            "zd-status:4020:7f6f0c1e-0001",
            "status_change",
            "2026-11-23T10:01:46.000Z",
            THREAD,
            system,
            status="open",
            previous_status="new",
        ),
        _record(
            f"slack:C0SUPPORT:{float(THREAD_TS) + 400:.6f}",
            "reply",
            "2026-11-23T10:08:30.000200Z",
            THREAD,
            {"id": "U0SRE", "role": "responder"},
            source="slack",
            text="Which VPN client version?",
        ),
        _record(
            "zd-comment:30000000010",
            "comment",
            "2026-11-23T10:08:31.500Z",
            THREAD,
            {"id": BRIDGE, "name": "Threadline", "role": "agent"},
            text="Sam wrote in Slack:\n\nWhich VPN client version?",
        ),
        _record(
            "zd-comment:30000000011",
            "comment",
            "2026-11-23T10:20:00.000Z",
            THREAD,
            {"id": REQUESTER, "name": "Dana", "email": "dana@example.com", "role": "requester"},
            text="5.2, on macOS.",
        ),
        _record(
            "zd-comment:30000000012",
            "internal_note",
            "2026-11-23T10:25:00.000Z",
            THREAD,
            {"id": AGENT, "role": "agent"},
            public=False,
        ),
        _record(
            "zd-status:4020:7f6f0c1e-0002",
            "status_change",
            "2026-11-23T10:31:39.426Z",
            THREAD,
            system,
            status="solved",
            previous_status="open",
        ),
    ]


def renumbered(records: list[dict[str, Any]], ticket: int, thread_ts: str) -> list[dict[str, Any]]:
    """The same story for another emailed ticket and its own thread."""
    thread = f"T0001:C0SUPPORT:{thread_ts}"
    out = []
    for r in records:
        email = r["conversation_id"] == EMAIL
        out.append(
            {
                **r,
                "event_id": f"{r['event_id']}-{ticket}",
                "conversation_id": f"zd:{ticket}" if email else thread,
                "thread_ts": None if email else thread_ts,
                "ticket_id": ticket,
            }
        )
    return out

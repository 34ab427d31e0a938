"""Builders of Slack interactivity payloads (block_actions, message_action, view_submission) and
of the threadline.slack.events records ingest publishes for them, for tests."""

from __future__ import annotations

import json
from typing import Any


def interaction_record(payload: dict[str, Any], event_id: str) -> dict[str, Any]:
    """What ingest publishes for an interactivity payload (threadline.slack.events v1)."""
    return {
        "schema_version": 1,
        "kind": "interaction",
        "received_at": "2026-11-23T10:00:00Z",
        "source": "http",
        "team_id": "T1",
        "event_id": event_id,
        "retry_num": None,
        "retry_reason": None,
        "conversation_key": None,
        "body": payload,
    }


def press(
    action_id: str,
    value: str,
    user: str,
    *,
    channel: str = "C1",
    message_ts: str = "100.000200",
    thread_ts: str = "100.000100",
    trigger_id: str = "trig-1",
) -> dict[str, Any]:
    """A block_actions payload: a press on a button of a message in a thread."""
    return {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": user, "username": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "trigger_id": trigger_id,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
            "thread_ts": thread_ts,
        },
        "channel": {"id": channel, "name": "support"},
        "message": {"type": "message", "ts": message_ts, "thread_ts": thread_ts, "bot_id": "BBOT", "text": "t"},
        "response_url": f"https://hooks.slack.invalid/actions/T1/{trigger_id}",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "threadline.ticket_actions",
                "value": value,
                "action_ts": "1764583300.000300",
            }
        ],
    }


def shortcut(
    callback_id: str,
    user: str,
    *,
    channel: str = "C1",
    ts: str = "100.000100",
    thread_ts: str | None = None,
    author: str = "U1",
    text: str = "My printer is on fire",
    trigger_id: str = "trig-2",
) -> dict[str, Any]:
    """A message_action payload: a message shortcut used on a message."""
    message: dict[str, Any] = {"type": "message", "user": author, "ts": ts, "text": text}
    if thread_ts:
        message["thread_ts"] = thread_ts
    return {
        "type": "message_action",
        "callback_id": callback_id,
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": user, "name": user.lower(), "team_id": "T1"},
        "channel": {"id": channel, "name": "support"},
        "message_ts": ts,
        "message": message,
        "response_url": f"https://hooks.slack.invalid/app/T1/{trigger_id}",
        "trigger_id": trigger_id,
    }


def submission(view: dict[str, Any], user: str, values: dict[str, Any], view_id: str = "V1") -> dict[str, Any]:
    """A view_submission payload of `view` (as Threadline opened it) with the inputs filled:
    block_id -> text, or ("option", value) for a select."""
    state: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        given = values.get(block["block_id"])
        if element["type"] == "static_select":
            chosen = given if given is not None else (element.get("initial_option") or {}).get("value")
            entry: dict[str, Any] = {
                "type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": chosen}, "value": chosen}
                if chosen
                else None,
            }
        else:
            text = given if given is not None else element.get("initial_value")
            entry = {"type": element["type"], "value": text}
        state[block["block_id"]] = {element["action_id"]: entry}
    return {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": user, "username": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "trig-sub",
        "view": {
            **view,
            "id": view_id,
            "team_id": "T1",
            "state": {"values": state},
            "hash": "1.abc",
            "private_metadata": view.get("private_metadata", "{}"),
        },
        "response_urls": [],
    }


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    return json.loads(view["private_metadata"])

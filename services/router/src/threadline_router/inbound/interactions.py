"""threadline.slack.events records of Threadline's own surface -> slash commands, button presses,
message shortcuts, modal submissions and App Home visits.

Which conversation (router row) decides each, so that it is decided in order with that row:

- a button of Threadline's carries the row's key as its `value` (set when the message was built);
- a message shortcut belongs to the thread of the message it was used on;
- a modal submission names its row in the view's `private_metadata` (`{"conversation": ...}`);
- a slash command about one ticket (`status 42`, `follow 42`) belongs to `ticket:<id>`, about a
  thread (a thread link) to that thread; `following` to the person (`person:<team>:<user>`);
  anything else to the person in that channel (`<team>:<channel>:command:<user>`), no row.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from threadline_common.dlq import PoisonMessage
from threadline_common.ticket_form import view_values  # shared with ingest's validator
from threadline_router.conversation import conversation_key

# Threadline's own action ids, callback ids and view callback ids start with this.
PREFIX = "threadline."
# A ticket named in a command: "42", "#42", or the ticket's agent or Help Center URL.
_TICKET = re.compile(r"^#?(\d{1,12})$")
_TICKET_URL = re.compile(r"/(?:agent/)?tickets/(\d{1,12})(?:[/?#]|$)|/requests/(\d{1,12})(?:[/?#]|$)")
# A Slack message link: https://<ws>.slack.com/archives/<channel>/p<ts without dot>[?thread_ts=<ts>]
_ARCHIVES = re.compile(r"/archives/([A-Z0-9]+)/p(\d{10})(\d{6})")


def ticket_key(ticket_id: int) -> str:
    """The row of one ticket's followers (and of commands about a ticket by number)."""
    return f"ticket:{ticket_id}"


def person_key(team_id: str, user: str) -> str:
    """The row of one person: the tickets they follow (and their App Home)."""
    return f"person:{team_id}:{user}"


def command_key(team_id: str, channel_id: str, user: str) -> str:
    """A command that needs no row: its own key, so it never touches a thread's row."""
    return f"{team_id}:{channel_id}:command:{user}"


@dataclass(frozen=True)
class SlashCommand:
    """`/support <verb> <args>` as typed. Slack does not allow slash commands in threads."""

    event_id: str
    team_id: str
    channel_id: str
    user: str
    user_name: str
    command: str  # e.g. /support
    text: str  # everything after the command, as typed
    response_url: str
    trigger_id: str
    verb: str  # the first word, lower case; "" when nothing was typed
    args: tuple[str, ...]  # the words after it
    ticket_id: int | None = None  # a ticket the arguments name (#42, 42, a ticket URL)
    thread: str | None = None  # the conversation of a Slack thread link among the arguments


@dataclass(frozen=True)
class BlockAction:
    """A press on one of Threadline's buttons (or a choice in its menus)."""

    event_id: str
    team_id: str
    user: str
    user_name: str
    action_id: str  # threadline.<verb>
    value: str  # the row key the button names
    channel_id: str | None
    message_ts: str | None  # the message the button is on (None in a modal or the Home tab)
    thread_ts: str | None
    container: str  # message | view | ...
    is_ephemeral: bool
    response_url: str | None
    trigger_id: str
    view_id: str | None = None
    message: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class MessageShortcut:
    """A message shortcut of Threadline's used on a message (callback_id threadline.<verb>)."""

    event_id: str
    team_id: str
    user: str
    user_name: str
    callback_id: str
    channel_id: str
    message_ts: str
    thread_ts: str | None
    message_user: str | None
    message_text: str
    response_url: str
    trigger_id: str
    message: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def root_ts(self) -> str:
        return self.thread_ts or self.message_ts


@dataclass(frozen=True)
class ViewSubmission:
    """A modal of Threadline's submitted; ingest has already validated its fields."""

    event_id: str
    team_id: str
    user: str
    user_name: str
    callback_id: str
    view_id: str
    conversation: str  # from private_metadata
    metadata: dict[str, Any]  # private_metadata, decoded
    values: dict[str, Any]  # block_id -> the value of its one input (str, list or None)


@dataclass(frozen=True)
class HomeOpened:
    """Someone opened Threadline's Home tab (app_home_opened, tab home)."""

    event_id: str
    team_id: str
    user: str


def decode_slash_command(envelope: dict[str, Any]) -> SlashCommand | None:
    body = envelope.get("body")
    if not isinstance(body, dict):
        raise PoisonMessage("slash_command without a form body")
    team = str(body.get("team_id") or envelope.get("team_id") or "")
    channel, user = str(body.get("channel_id") or ""), str(body.get("user_id") or "")
    if not (team and channel and user):
        raise PoisonMessage("slash_command without team_id, channel_id or user_id")
    text = str(body.get("text") or "").strip()
    words = text.split()
    verb, args = (words[0].lower(), tuple(words[1:])) if words else ("", ())
    return SlashCommand(
        event_id=str(envelope.get("event_id") or body.get("trigger_id") or ""),
        team_id=team,
        channel_id=channel,
        user=user,
        user_name=str(body.get("user_name") or ""),
        command=str(body.get("command") or ""),
        text=text,
        response_url=str(body.get("response_url") or ""),
        trigger_id=str(body.get("trigger_id") or ""),
        verb=verb,
        args=args,
        ticket_id=next((t for t in map(ticket_of, args) if t is not None), None),
        thread=next((c for c in (thread_of(team, a) for a in args) if c is not None), None),
    )


def ticket_of(word: str) -> int | None:
    """A ticket number from `42`, `#42` or a Zendesk ticket URL; None for anything else."""
    match = _TICKET.match(word.strip("<>"))
    if match:
        return int(match.group(1))
    found = _TICKET_URL.search(word.strip("<>").split("|", 1)[0])
    if found:
        return int(found.group(1) or found.group(2))
    return None


def thread_of(team_id: str, word: str) -> str | None:
    """The conversation of a Slack message link (Slack wraps links as <url> or <url|label>)."""
    url = word.strip("<>").split("|", 1)[0]
    found = _ARCHIVES.search(url)
    if not found:
        return None
    ts = f"{found.group(2)}.{found.group(3)}"
    thread_ts = parse_qs(urlparse(url).query).get("thread_ts", [ts])[0]
    return conversation_key(team_id, found.group(1), thread_ts)


def decode_interaction(envelope: dict[str, Any]) -> BlockAction | MessageShortcut | ViewSubmission | None:
    payload = envelope.get("body")
    if not isinstance(payload, dict):
        raise PoisonMessage("interaction without a payload")
    kind = payload.get("type")
    user_obj = payload.get("user") or {}
    team = str((payload.get("team") or {}).get("id") or user_obj.get("team_id") or envelope.get("team_id") or "")
    user = str(user_obj.get("id") or "")
    user_name = str(user_obj.get("username") or user_obj.get("name") or "")
    event_id = str(envelope.get("event_id") or payload.get("trigger_id") or "")
    if not (team and user):
        raise PoisonMessage(f"{kind} interaction without team or user")
    if kind == "block_actions":
        return _block_action(payload, event_id, team, user, user_name)
    if kind == "message_action":
        callback = str(payload.get("callback_id") or "")
        message = payload.get("message") or {}
        channel = str((payload.get("channel") or {}).get("id") or "")
        ts = str(message.get("ts") or payload.get("message_ts") or "")
        if not callback.startswith(PREFIX):
            return None  # another app's shortcut on the same request URL
        if not (channel and ts):
            raise PoisonMessage("message_action without channel or message ts")
        return MessageShortcut(
            event_id=event_id,
            team_id=team,
            user=user,
            user_name=user_name,
            callback_id=callback,
            channel_id=channel,
            message_ts=ts,
            thread_ts=str(message["thread_ts"]) if message.get("thread_ts") else None,
            message_user=message.get("user"),
            message_text=str(message.get("text") or ""),
            response_url=str(payload.get("response_url") or ""),
            trigger_id=str(payload.get("trigger_id") or ""),
            message=message,
        )
    if kind == "view_submission":
        view = payload.get("view") or {}
        callback = str(view.get("callback_id") or "")
        if not callback.startswith(PREFIX):
            return None
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
        except ValueError as exc:
            raise PoisonMessage("view_submission whose private_metadata is not JSON") from exc
        if not isinstance(metadata, dict) or not isinstance(metadata.get("conversation"), str):
            raise PoisonMessage("view_submission without a conversation in private_metadata")
        return ViewSubmission(
            event_id=event_id or str(view.get("id") or ""),
            team_id=team,
            user=user,
            user_name=user_name,
            callback_id=callback,
            view_id=str(view.get("id") or ""),
            conversation=metadata["conversation"],
            metadata=metadata,
            values=view_values(view),
        )
    return None  # view_closed, block_suggestion, shortcut (global): nothing the router decides yet


def _block_action(payload: dict[str, Any], event_id: str, team: str, user: str, user_name: str) -> BlockAction | None:
    actions = [a for a in payload.get("actions") or () if isinstance(a, dict)]
    ours = [a for a in actions if str(a.get("action_id") or "").startswith(PREFIX)]
    if not ours:
        return None  # a link button (Slack sends block_actions for those too) or another app's
    action = ours[0]
    container = payload.get("container") or {}
    message = payload.get("message") or {}
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    if not value:
        raise PoisonMessage(f"{action.get('action_id')} pressed without a value")
    channel = container.get("channel_id") or (payload.get("channel") or {}).get("id")
    message_ts = container.get("message_ts") or message.get("ts")
    return BlockAction(
        event_id=event_id or str(action.get("action_ts") or ""),
        team_id=team,
        user=user,
        user_name=user_name,
        action_id=str(action["action_id"]),
        value=str(value),
        channel_id=str(channel) if channel else None,
        message_ts=str(message_ts) if message_ts else None,
        thread_ts=str(container.get("thread_ts") or message.get("thread_ts") or "") or None,
        container=str(container.get("type") or ""),
        is_ephemeral=bool(container.get("is_ephemeral")),
        response_url=str(payload.get("response_url")) if payload.get("response_url") else None,
        trigger_id=str(payload.get("trigger_id") or ""),
        view_id=str((payload.get("view") or {}).get("id") or "") or None,
        message=message,
    )


def decode_home_opened(event: dict[str, Any], event_id: str, team_id: str) -> HomeOpened | None:
    if event.get("tab", "home") != "home" or not event.get("user"):
        return None  # the Messages tab, or no one
    return HomeOpened(event_id=event_id, team_id=team_id, user=str(event["user"]))


def interaction_conversation(event: SlashCommand | BlockAction | MessageShortcut | ViewSubmission | HomeOpened) -> str:
    """The row that decides an interaction (see the module docstring)."""
    match event:
        case SlashCommand():
            if event.verb in ("status", "follow", "unfollow"):
                if event.thread:
                    return event.thread
                if event.ticket_id is not None:
                    return ticket_key(event.ticket_id)
            if event.verb == "following":
                return person_key(event.team_id, event.user)
            return command_key(event.team_id, event.channel_id, event.user)
        case BlockAction():
            return event.value.split("|", 1)[0]  # "<row key>" or "<row key>|<argument>"
        case MessageShortcut():
            return conversation_key(event.team_id, event.channel_id, event.root_ts)
        case ViewSubmission():
            return event.conversation
        case HomeOpened():
            return person_key(event.team_id, event.user)
    raise TypeError(f"not an interaction: {event!r}")

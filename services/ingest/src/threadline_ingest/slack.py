"""What ingest does with a verified Slack request: accept or drop it, under which key, as which
record (threadline.slack.events v1). Pure: no I/O, the same input always gives the same answer.

Record keys keep one thread in order: `<team_id>:<channel_id>:<thread root ts>`, where team_id is
the workspace that installed Threadline (Slack Connect: not necessarily the author's). Requests
about no message are keyed by the team alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from threadline_common.models import SlackEventRecord
from threadline_common.slack_messages import DELETE, EDIT, REPLIED
from threadline_ingest.bodies import BadRequest, body_id, canonical_json
from threadline_ingest.records import received_at

Kind = Literal["event_callback", "interaction", "slash_command"]
Source = Literal["http", "socket_mode"]

# Published whatever channel or workspace they name: Threadline must learn that it lost access.
ALWAYS_PUBLISHED = frozenset({"app_uninstalled", "tokens_revoked"})
# Events that concern a workspace, not a channel: never dropped by the channel filter.
NOT_CHANNEL_EVENTS = frozenset({"app_home_opened"})

_TS = re.compile(r"[0-9]+\.[0-9]+")


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    """A non-empty id as a string; None for anything else (missing, null, an object)."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


@dataclass(frozen=True)
class SlackPolicy:
    """Which requests Threadline takes. Empty sets accept everything."""

    team_ids: frozenset[str] = frozenset()
    app_ids: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    # Direct messages to the app (private requests): taken whatever `channels` says.
    direct_messages: bool = False


@dataclass(frozen=True)
class Accept:
    team_id: str | None
    key: str | None
    conversation_key: str | None


@dataclass(frozen=True)
class Drop:
    reason: Literal["app", "workspace", "channel"]


def conversation_key(team_id: str | None, channel: str | None, root_ts: str | None) -> str | None:
    """`team:channel:root_ts`, or None unless all three are there and well-formed."""
    if not (team_id and channel and root_ts) or ":" in team_id or ":" in channel or not _TS.fullmatch(root_ts):
        return None
    return f"{team_id}:{channel}:{root_ts}"


def event_thread(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """The channel and thread root ts an Events API inner event is about.

    - messages and app mentions: thread_ts (a reply) or ts (a top-level message is its own root);
    - message_changed / message_replied: the message's thread_ts, else its ts (event.ts is the
      time of the change, not of the message);
    - message_deleted: previous_message.thread_ts, else the deleted message's ts;
    - reactions: item.ts. A reaction on a reply names only the reply, not its thread: it is keyed
      by the reply's ts, so it keeps order with the thread only when it is on the root message.
    """
    etype = event.get("type")
    item = _obj(event.get("item"))
    channel = _str(event.get("channel")) or _str(_obj(event.get("channel")).get("id")) or _str(event.get("channel_id"))
    if etype in ("reaction_added", "reaction_removed"):
        if item.get("type") not in (None, "message"):
            return _str(item.get("channel")), None  # a file or file comment: no thread
        return _str(item.get("channel")) or channel, _str(item.get("ts"))
    message = _obj(event.get("message"))
    previous = _obj(event.get("previous_message"))
    subtype = event.get("subtype")
    if subtype in (EDIT, REPLIED):
        root = (
            _str(message.get("thread_ts"))
            or _str(previous.get("thread_ts"))
            or _str(message.get("ts"))
            or _str(previous.get("ts"))
        )
        return channel, root
    if subtype == DELETE:
        root = _str(previous.get("thread_ts")) or _str(event.get("deleted_ts")) or _str(previous.get("ts"))
        return channel, root
    return channel, _str(event.get("thread_ts")) or _str(event.get("ts"))


def envelope_teams(body: dict[str, Any]) -> set[str]:
    """Every workspace or organisation an envelope speaks for: its own team and enterprise, the
    context ones (Slack Connect: the installing org) and those of its authorizations."""
    team = _obj(body.get("team"))
    user = _obj(body.get("user"))
    enterprise = _obj(body.get("enterprise"))
    candidates = [
        body.get("team_id"),
        body.get("enterprise_id"),
        body.get("context_team_id"),
        body.get("context_enterprise_id"),
        team.get("id"),
        team.get("enterprise_id"),
        user.get("team_id"),
        enterprise.get("id"),
    ]
    for auth in body.get("authorizations") or ():
        if isinstance(auth, dict):
            candidates += [auth.get("team_id"), auth.get("enterprise_id")]
    return {t for t in map(_str, candidates) if t}


def installing_team(body: dict[str, Any], allowed: frozenset[str]) -> str | None:
    """The workspace Threadline is installed in, for an Events API envelope.

    Slack Connect: `team_id` is the author's organisation. `context_team_id` names ours when
    Slack sends it; older envelopes only say it in `authorizations` (then the one we accept)."""
    context = _str(body.get("context_team_id"))
    if context:
        return context
    team = _str(body.get("team_id"))
    if not allowed or (team and team in allowed):
        return team
    for auth in body.get("authorizations") or ():
        auth_team = _str(_obj(auth).get("team_id"))
        if auth_team and auth_team in allowed:
            return auth_team
    return team


def _accepts_app(body: dict[str, Any], policy: SlackPolicy) -> bool:
    return not policy.app_ids or _str(body.get("api_app_id")) in policy.app_ids


def _accepts_workspace(body: dict[str, Any], policy: SlackPolicy) -> bool:
    return not policy.team_ids or bool(envelope_teams(body) & policy.team_ids)


def route_event(body: dict[str, Any], policy: SlackPolicy) -> Accept | Drop:
    """Accept (with key) or drop an Events API envelope of type event_callback."""
    event = _obj(body.get("event"))
    etype = event.get("type")
    always = etype in ALWAYS_PUBLISHED
    if not always and not _accepts_app(body, policy):
        return Drop("app")
    if not always and not _accepts_workspace(body, policy):
        return Drop("workspace")
    channel, root = event_thread(event)
    monitored = not policy.channels or channel is None or channel in policy.channels
    if policy.direct_messages and (event.get("channel_type") == "im" or (channel or "").startswith("D")):
        monitored = True  # a direct message to the app: a private request
    if not always and etype not in NOT_CHANNEL_EVENTS and not monitored:
        return Drop("channel")
    team = installing_team(body, policy.team_ids)
    key = conversation_key(team, channel, root)
    return Accept(team_id=team, key=key or team, conversation_key=key)


def interaction_thread(payload: dict[str, Any]) -> tuple[str | None, str | None]:
    """The message an interaction is about (a button in it, a message shortcut on it)."""
    container = _obj(payload.get("container"))
    message = _obj(payload.get("message"))
    channel = _str(container.get("channel_id")) or _str(_obj(payload.get("channel")).get("id"))
    root = (
        _str(message.get("thread_ts"))
        or _str(container.get("thread_ts"))
        or _str(container.get("message_ts"))
        or _str(message.get("ts"))
        or _str(payload.get("message_ts"))
    )
    return channel, root


def interaction_team(payload: dict[str, Any]) -> str | None:
    return _str(_obj(payload.get("team")).get("id")) or _str(_obj(payload.get("user")).get("team_id"))


def route_interaction(payload: dict[str, Any], policy: SlackPolicy) -> Accept | Drop:
    """Someone used Threadline's own UI: never dropped by channel, so they always get an answer."""
    if not _accepts_app(payload, policy):
        return Drop("app")
    if not _accepts_workspace(payload, policy):
        return Drop("workspace")
    channel, root = interaction_thread(payload)
    team = interaction_team(payload)
    key = conversation_key(team, channel, root)
    return Accept(team_id=team, key=key or team, conversation_key=key)


def route_command(form: dict[str, str], policy: SlackPolicy) -> Accept | Drop:
    """Slash commands answer the person who typed them, wherever: never dropped by channel."""
    if not _accepts_app(form, policy):
        return Drop("app")
    if not _accepts_workspace(form, policy):
        return Drop("workspace")
    team = _str(form.get("team_id"))
    return Accept(team_id=team, key=team, conversation_key=None)


def check_event_callback(body: dict[str, Any]) -> None:
    """The envelope fields the topic contract relies on (Slack always sends them)."""
    event = body.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise BadRequest("event_callback without an event type")
    event_id = body.get("event_id")
    if event_id is not None and (not isinstance(event_id, str) or not event_id):
        raise BadRequest("event_id is not a string")
    for name, kind in (("team_id", str), ("api_app_id", str), ("authorizations", list)):
        if name in body and not isinstance(body[name], kind):
            raise BadRequest(f"{name} has the wrong type")
    if "context_team_id" in body and not isinstance(body["context_team_id"], str | None):
        raise BadRequest("context_team_id has the wrong type")
    if "event_time" in body and (not isinstance(body["event_time"], int) or isinstance(body["event_time"], bool)):
        raise BadRequest("event_time is not an integer")
    if "is_ext_shared_channel" in body and not isinstance(body["is_ext_shared_channel"], bool):
        raise BadRequest("is_ext_shared_channel is not a boolean")
    if any(not isinstance(a, dict) for a in body.get("authorizations") or ()):
        raise BadRequest("authorizations must be objects")


def check_interaction(payload: dict[str, Any]) -> None:
    if not isinstance(payload.get("type"), str):
        raise BadRequest("interaction payload without a type")


def check_command(form: dict[str, str]) -> None:
    missing = [f for f in ("command", "team_id", "channel_id", "user_id") if not form.get(f)]
    if missing or not form["command"].startswith("/"):
        raise BadRequest("not a slash command: " + ", ".join(missing or ["command"]))


def event_id_of(kind: Kind, body: dict[str, Any], raw: bytes | None) -> str:
    """Slack's event_id for events; otherwise a stable id of the request as received."""
    if kind == "event_callback" and _str(body.get("event_id")):
        return str(body["event_id"])
    return body_id(raw if raw is not None else canonical_json(body))


def slack_record(
    *,
    kind: Kind,
    body: dict[str, Any],
    event_id: str,
    accepted: Accept,
    now: float,
    source: Source,
    retry_num: int | None = None,
    retry_reason: str | None = None,
) -> SlackEventRecord:
    return SlackEventRecord(
        schema_version=1,
        kind=kind,
        received_at=received_at(now),
        source=source,
        team_id=accepted.team_id,
        event_id=event_id,
        retry_num=retry_num,
        retry_reason=retry_reason or None,
        conversation_key=accepted.conversation_key,
        body=body,
    )


def retry_number(header: str | None) -> int | None:
    """X-Slack-Retry-Num (or Socket Mode's retry_attempt); None for a first delivery."""
    if header is None:
        return None
    text = str(header)
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number or None

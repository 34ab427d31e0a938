"""A Slack workspace on localhost that the unmodified slack_sdk cannot tell from Slack.

Web API methods at `<base>/api/<method>` (form or JSON bodies, Bearer or `token` auth, Slack's
`{"ok": ...}` shapes and each method's documented error codes, 429 with Retry-After), a workspace
seeded from YAML, and Events API callbacks signed with the v0 scheme and retried as Slack
retries them. Membership rules as in Slack: the app hears only conversations its bot is in, a
bot reads only those, and a private channel does not exist for a non-member. What a human
does with a user token (post, reply, edit, delete, react, join, share a file) becomes the event
Slack would send; so do the bot's own posts, with `bot_id`, as in Slack. The interactive surface
(slash commands, buttons, shortcuts, modals, the Home tab, DMs, response_url) is in interactive.py.
tests/sandboxes/test_conformance.py holds every method to Slack's published specification.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import queue
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from threadline_sandbox.common import BackgroundServer
from threadline_sandbox.slack import interactive, oauth
from threadline_sandbox.slack.errors import SlackError
from threadline_sandbox.slack.interactive import Interactive, InteractiveState

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "slack_workspace.yaml"
MAX_TEXT = 40000
VERIFICATION_TOKEN = "sandbox-verification-token"
TS = re.compile(r"\d+\.\d+")


# The arguments each method requires, and the error Slack answers when one is missing. Most
# methods answer the generic `invalid_arguments`; where a method's documentation names its own
# error for the argument (`channel_not_found` for a channel, `no_text`, `users_not_found`...), that one.
REQUIRED: dict[str, tuple[tuple[str, str], ...]] = {
    "chat.postMessage": (("channel", "channel_not_found"),),
    "chat.postEphemeral": (("channel", "channel_not_found"), ("user", "user_not_in_channel")),
    "chat.update": (("channel", "channel_not_found"), ("ts", "message_not_found")),
    "chat.delete": (("channel", "channel_not_found"), ("ts", "message_not_found")),
    "chat.getPermalink": (("channel", "channel_not_found"), ("message_ts", "message_not_found")),
    "conversations.history": (("channel", "channel_not_found"),),
    "conversations.replies": (("channel", "channel_not_found"), ("ts", "invalid_arguments")),
    "conversations.info": (("channel", "channel_not_found"),),
    "conversations.members": (("channel", "channel_not_found"),),
    "conversations.join": (("channel", "channel_not_found"),),
    "conversations.rename": (("channel", "channel_not_found"), ("name", "invalid_name_required")),
    "conversations.setTopic": (("channel", "channel_not_found"), ("topic", "invalid_arguments")),
    "users.info": (("user", "user_not_found"),),
    "users.lookupByEmail": (("email", "users_not_found"),),
    "reactions.add": (("channel", "no_item_specified"), ("timestamp", "no_item_specified"), ("name", "invalid_name")),
    "reactions.remove": (
        ("name", "invalid_name"),
        ("channel", "no_item_specified"),
        ("timestamp", "no_item_specified"),
    ),
    "reactions.get": (("channel", "no_item_specified"), ("timestamp", "no_item_specified")),
    "files.getUploadURLExternal": (("filename", "invalid_arguments"), ("length", "invalid_arguments")),
    "files.completeUploadExternal": (("files", "invalid_arguments"),),
    "files.info": (("file", "file_not_found"),),
    "usergroups.users.list": (("usergroup", "invalid_arguments"),),
    **interactive.REQUIRED,
}


def missing_argument(method: str, params: dict[str, Any]) -> SlackError | None:
    """The documented error for the first required argument the call left out, if any."""
    for name, error in REQUIRED.get(method, ()):
        if params.get(name) in (None, ""):
            detail = [f"[ERROR] missing required field: {name}"] if error == "invalid_arguments" else None
            return SlackError(error, messages=detail)
    return None


@dataclass
class Knobs:
    """Faults for tests and benchmarks, changeable while running."""

    latency_seconds: float = 0.0
    error_rate: float = 0.0
    # Calls per minute allowed per method; 0 = unlimited. Over it: 429 ratelimited.
    rate_limit_per_minute: int = 0
    retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0)  # Slack: about immediately, 1 min, 5 min
    delivery_timeout: float = 3.0
    # While set (e.g. "thread_not_found"), every call that names a thread or a message by its ts
    # answers this error, as Slack does once a thread's parent is gone.
    thread_error: str = ""
    # The bot's posts per minute allowed in a channel (channel id -> limit), as Slack limits a busy channel;
    # over it: 429 ratelimited with Retry-After. Other channels are not affected.
    channel_posts_per_minute: dict[str, int] = field(default_factory=dict)
    # The window those limits count in (Slack's is a minute; a drill may shorten it).
    channel_posts_window_seconds: float = 60.0
    # The interactive surface: how long Slack waits for the app's answer to a slash command or an
    # interaction, how long a trigger_id lasts, and a response_url's uses and lifetime.
    interactive_timeout: float = 3.0
    trigger_ttl_seconds: float = 3.0
    response_url_uses: int = 5
    response_url_ttl_seconds: float = 1800.0


@dataclass
class Delivery:
    event_id: str
    attempt: int
    status: int | None
    body: dict[str, Any]


@dataclass
class Workspace:
    team_id: str
    team_name: str
    domain: str
    users: dict[str, dict[str, Any]]
    channels: dict[str, dict[str, Any]]
    bot: dict[str, Any]
    app_id: str
    tokens: dict[str, str]  # token -> user id
    scopes: dict[str, list[str]] = field(default_factory=dict)  # token -> scopes granted (x-oauth-scopes)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel -> messages
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending_uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    usergroups: dict[str, dict[str, Any]] = field(default_factory=dict)  # S... -> {"users": [...], "disabled": bool}
    # Teams the app was installed to through OAuth (oauth.py), and which team each issued token
    # acts in; a token not listed (the seed's) acts in the seed team.
    teams: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_teams: dict[str, str] = field(default_factory=dict)
    # Further workspaces (add_workspace), installed or not: id -> {id, name, enterprise_id}.
    workspaces: dict[str, dict[str, Any]] = field(default_factory=dict)


def load_workspace(path: Path = SEED) -> Workspace:
    seed = yaml.safe_load(path.read_text())
    users = {u["id"]: u for u in seed["users"]}
    bot = seed["bot"]
    users[bot["user_id"]] = {
        "id": bot["user_id"],
        "name": bot["name"],
        "real_name": bot["name"],
        "is_bot": True,
        "bot_id": bot["bot_id"],
    }
    tokens = {u["token"]: uid for uid, u in users.items() if u.get("token")}
    tokens[bot["token"]] = bot["user_id"]
    channels = {c["id"]: {**c, "members": list(c.get("members", []))} for c in seed["channels"]}
    return Workspace(
        team_id=seed["team"]["id"],
        team_name=seed["team"]["name"],
        domain=seed["team"]["domain"],
        users=users,
        channels=channels,
        bot=bot,
        app_id=seed["app_id"],
        tokens=tokens,
        scopes={u["token"]: list(u["scopes"]) for u in [*seed["users"], bot] if u.get("scopes")},
        messages={cid: [] for cid in channels},
        usergroups={
            g["id"]: {"users": list(g.get("users", [])), "disabled": False} for g in seed.get("usergroups") or []
        },
    )


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return f"v0={digest}"


class SlackSandbox(Interactive):
    """The sandbox as an object: `start()` serves it on a free port in a background thread.
    `commands_url` and `interactivity_url` are the app's Request URLs for slash commands and
    for interactivity (see interactive.py for what a person does there)."""

    def __init__(
        self,
        signing_secret: str = "sandbox-signing-secret",
        events_urls: list[str] | None = None,
        seed: Path = SEED,
        port: int = 0,
        commands_url: str | None = None,
        interactivity_url: str | None = None,
        oauth_app: oauth.OAuthApp | None = None,
    ) -> None:
        self.oauth_app = oauth_app or oauth.OAuthApp()
        self.oauth_grants: dict[str, oauth.Grant] = {}
        self._acting_team: str | None = None  # the team of the token of the call being handled
        self.signing_secret = signing_secret
        self.events_urls = list(events_urls or [])
        self.commands_url = commands_url
        self.interactivity_url = interactivity_url
        self.ui = InteractiveState()
        self.ws = load_workspace(seed)
        self.knobs = Knobs()
        self.deliveries: list[Delivery] = []
        self._lock = threading.RLock()
        self._clock = itertools.count(1)
        self._calls: dict[str, list[float]] = {}
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._server = BackgroundServer(self._app(), port)
        self._worker = threading.Thread(target=self._deliver_loop, name="slack-events", daemon=True)

    # --- lifecycle and handles --------------------------------------------------------------

    def start(self) -> SlackSandbox:
        self._server.start()
        self._worker.start()
        return self

    def stop(self) -> None:
        self._events.put(None)
        self._server.stop()

    @property
    def base_url(self) -> str:
        return self._server.url

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    @property
    def bot_token(self) -> str:
        return str(self.ws.bot["token"])

    @property
    def bot_user_id(self) -> str:
        return str(self.ws.bot["user_id"])

    @property
    def bot_id(self) -> str:
        return str(self.ws.bot["bot_id"])

    @property
    def team_id(self) -> str:
        """The team the current Web API call acts in (its token's), else the seed team."""
        return self._acting_team or self.ws.team_id

    def team_info(self, team_id: str) -> dict[str, Any]:
        return (
            self.ws.teams.get(team_id)
            or self.ws.workspaces.get(team_id)
            or {"id": self.ws.team_id, "name": self.ws.team_name, "enterprise_id": None}
        )

    def add_workspace(self, team_id: str, name: str | None = None, enterprise_id: str | None = None) -> None:
        """Another workspace (of the organisation `enterprise_id`, on Enterprise Grid), with or
        without the app installed: its channels (add_channel) are its own."""
        with self._lock:
            self.ws.workspaces[team_id] = {"id": team_id, "name": name or team_id, "enterprise_id": enterprise_id}

    def add_channel(
        self, channel_id: str, name: str, team_id: str, members: list[str] | None = None, is_private: bool = False
    ) -> None:
        """A channel of workspace `team_id` alone. Slack answers `channel_not_found` to a token of
        any other workspace (a bot token of its own team, or its organisation's org-wide token,
        sees it). The seed's channels stay visible to every team, as Slack Connect channels are."""
        with self._lock:
            self.ws.channels[channel_id] = {
                "id": channel_id,
                "name": name,
                "is_private": is_private,
                "context_team_id": team_id,
                "shared_team_ids": [team_id],
                "members": list(members or []),
            }
            self.ws.messages[channel_id] = []

    def person_token(self, team_id: str, user: str, scopes: tuple[str, ...] = ("chat:write",)) -> str:
        """A token of person `user` signed in to workspace `team_id` (to post there as them)."""
        token = f"xoxp-{team_id}-{uuid.uuid4().hex[:12]}"
        with self._lock:
            self.ws.tokens[token] = user
            self.ws.scopes[token] = list(scopes)
            self.ws.token_teams[token] = team_id
            self.ws.users.setdefault(user, {"id": user, "name": user.lower(), "real_name": user, "team_id": team_id})
        return token

    def sees(self, acting: str, channel: dict[str, Any]) -> bool:
        """Whether a token acting in `acting` (a team, or an organisation for an org-wide install)
        reaches the channel at all."""
        teams = channel.get("shared_team_ids")
        if not teams or acting in teams:
            return True
        return any(self.team_info(t).get("enterprise_id") == acting for t in teams if t in self.ws.workspaces)

    def teams_of_user(self, user: str) -> set[str]:
        """The workspaces person `user` is in: their own (the seed's when the seed says none), and
        each one they hold a token of (the installer of an install, people added with
        person_token)."""
        own = str((self.ws.users.get(user) or {}).get("team_id") or self.ws.team_id)
        held = (self.ws.token_teams[t] for t, u in self.ws.tokens.items() if u == user and t in self.ws.token_teams)
        return {own, *held}

    def reaches_user(self, acting: str, user: str) -> bool:
        """Whether a token acting in `acting` (a team, or an organisation for an org-wide install)
        may address person `user` (views.publish): one of its workspace's people, or of a
        workspace of its organisation. A person of a workspace the sandbox does not model (the
        seed's Slack Connect guest) is reachable as before."""
        teams = self.teams_of_user(user)
        modelled = {self.ws.team_id, *self.ws.workspaces, *self.ws.teams}
        if acting in teams or not teams & modelled:
            return True
        return any(self.team_info(t).get("enterprise_id") == acting for t in teams if t in modelled)

    def authorization(self, team_id: str) -> dict[str, Any]:
        """The install an event of workspace `team_id` is delivered for (the envelope's
        `authorizations[0]`): its own, else its organisation's org-wide one (`team_id` null,
        `is_enterprise_install` true, as Slack sends it), else the seed's."""
        team = self.team_info(team_id)
        enterprise = team.get("enterprise_id")
        org = self.ws.teams.get(enterprise or "")
        if team_id not in self.ws.teams and org is not None and org.get("is_enterprise_install"):
            return {"enterprise_id": enterprise, "team_id": None, "is_enterprise_install": True}
        if team.get("is_enterprise_install"):
            return {"enterprise_id": enterprise, "team_id": None, "is_enterprise_install": True}
        return {"enterprise_id": enterprise, "team_id": team["id"], "is_enterprise_install": False}

    def approve_install(self, authorize_url: str, team_id: str, team_name: str | None = None, **kw: Any) -> str:
        """A person approves the app's install to `team_id` on the authorize page: returns the
        redirect (the app's redirect_uri with `code` and `state`)."""
        return oauth.approve(self, authorize_url, team_id, team_name, **kw)

    def user_token(self, name: str) -> str:
        for user in self.ws.users.values():
            if user.get("name") == name:
                return str(user["token"])
        raise KeyError(name)

    def channel_id(self, name: str) -> str:
        for cid, channel in self.ws.channels.items():
            if channel["name"] == name:
                return cid
        raise KeyError(name)

    def set_usergroup(
        self, group_id: str, users: list[str], disabled: bool = False, team_id: str | None = None
    ) -> None:
        """Who is in a user group from now on (as an admin would change it in Slack). `team_id`:
        the group is that workspace's (added with add_workspace): to a token of any other,
        usergroups.users.list answers no_such_subteam, as Slack does; else every team sees it."""
        with self._lock:
            self.ws.usergroups[group_id] = {"users": list(users), "disabled": disabled, "team_id": team_id}

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m) for m in self.ws.messages[channel] if m["ts"] == ts or m.get("thread_ts") == ts]

    def channel_messages(self, channel: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m) for m in self.ws.messages[channel]]

    def messages_since(self, channel: str, start: int) -> list[dict[str, Any]]:
        """The channel's messages from position `start` on, in the order they were posted (for
        watchers that read only what is new)."""
        with self._lock:
            return [dict(m) for m in self.ws.messages[channel][start:]]

    def wait_for_deliveries(self, timeout: float = 10.0) -> None:
        """Until every event so far has been delivered (or given up on), not merely taken from
        the queue: the one being posted counts until its POST is done."""
        deadline = time.monotonic() + timeout
        while self._events.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)

    # --- HTTP ------------------------------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/oauth.v2.access", self._oauth_access, methods=["GET", "POST"]),
                Route("/api/{method}", self._api, methods=["GET", "POST"]),
                Route("/oauth/v2/authorize", self._oauth_authorize, methods=["GET", "POST"]),
                Route("/upload/{file_id}", self._upload, methods=["POST"]),
                Route("/files/{file_id}/{name}", self._download, methods=["GET"]),
                Route("/hooks/{kind}/{team}/{hook_id}/{secret}", self._response_url, methods=["POST"]),
                Route("/_sandbox/state", self._state, methods=["GET"]),
                Route("/_sandbox/knobs", self._set_knobs, methods=["POST"]),
            ]
        )

    async def _oauth_access(self, request: Request) -> Response:
        return await oauth.oauth_v2_access(self, request)

    async def _oauth_authorize(self, request: Request) -> Response:
        if request.method == "POST":
            return await oauth.authorize_decision(self, request)
        return await oauth.authorize_page(self, request)

    async def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query_params)
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("application/json"):
            body = await request.body()
            if body:
                params.update(json.loads(body))
        elif request.method == "POST":
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params

    def _token(self, request: Request, params: dict[str, Any]) -> str | None:
        header = request.headers.get("authorization", "")
        return header[7:] if header.lower().startswith("bearer ") else params.get("token")

    def _auth(self, request: Request, params: dict[str, Any]) -> str:
        token = self._token(request, params)
        if not token:
            raise SlackError("not_authed")
        user = self.ws.tokens.get(str(token))
        if user is None:
            raise SlackError("invalid_auth")
        return user

    def _faults(self, method: str) -> None:
        if self.knobs.latency_seconds:
            time.sleep(self.knobs.latency_seconds)
        if self.knobs.rate_limit_per_minute:
            now = time.monotonic()
            with self._lock:
                recent = [t for t in self._calls.get(method, []) if now - t < 60]
                if len(recent) >= self.knobs.rate_limit_per_minute:
                    retry = max(1, int(60 - (now - recent[0])) + 1)
                    raise SlackError("ratelimited", 429, {"Retry-After": str(retry)})
                self._calls[method] = [*recent, now]
        if self.knobs.error_rate and random.random() < self.knobs.error_rate:
            raise SlackError("fatal_error", 500)

    def _channel_faults(self, method: str, params: dict[str, Any]) -> None:
        limit = self.knobs.channel_posts_per_minute.get(str(params.get("channel", "")))
        if not limit or method not in ("chat.postMessage", "chat.postEphemeral"):
            return
        now = time.monotonic()
        key = f"{method}:{params['channel']}"
        window = self.knobs.channel_posts_window_seconds
        with self._lock:
            recent = [t for t in self._calls.get(key, []) if now - t < window]
            if len(recent) >= limit:
                retry = max(1, int(window - (now - recent[0])) + 1)
                raise SlackError("ratelimited", 429, {"Retry-After": str(retry)})
            self._calls[key] = [*recent, now]

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        handler = METHODS.get(method)
        try:
            if handler is None:
                raise SlackError("unknown_method")
            params = await self._params(request)
            self._faults(method)
            actor = self._auth(request, params)
            missing = missing_argument(method, params)
            if missing:
                raise missing
            if self._is_bot(actor):
                self._channel_faults(method, params)
            scopes = self.ws.scopes.get(str(self._token(request, params)), [])
            needed = SCOPE_CHECKED.get(method)
            if needed and needed not in scopes:
                raise SlackError("missing_scope", extra={"needed": needed, "provided": ",".join(scopes)})
            with self._lock:
                self._acting_team = self.ws.token_teams.get(str(self._token(request, params)))
                try:
                    result = handler(self, actor, params)
                finally:
                    self._acting_team = None
            granted = ",".join(scopes)
            return JSONResponse({"ok": True, **result}, headers={"x-oauth-scopes": granted})
        except SlackError as exc:
            return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    async def _upload(self, request: Request) -> Response:
        file_id = request.path_params["file_id"]
        with self._lock:
            pending = self.ws.pending_uploads.get(file_id)
            if pending is None:
                return Response("unknown upload", status_code=404)
            pending["content"] = await request.body()
        return Response(f"OK - {len(pending['content'])}", media_type="text/plain")

    async def _download(self, request: Request) -> Response:
        try:
            self._auth(request, {})
        except SlackError:
            return Response("not authorised", status_code=403)
        f = self.ws.files.get(request.path_params["file_id"])
        if f is None:
            return Response("not found", status_code=404)
        return Response(f["_content"], media_type=f["mimetype"])

    async def _state(self, request: Request) -> Response:
        with self._lock:
            return JSONResponse({"team_id": self.ws.team_id, "messages": self.ws.messages})

    async def _set_knobs(self, request: Request) -> Response:
        for key, value in (await request.json()).items():
            if hasattr(self.knobs, key):
                setattr(self.knobs, key, value)
        return JSONResponse({"ok": True})

    # --- workspace rules -------------------------------------------------------------------

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._clock):06d}"

    def _channel(self, channel_id: Any) -> dict[str, Any]:
        channel = self.ws.channels.get(str(channel_id))
        if channel is None or not self.sees(self.team_id, channel):
            raise SlackError("channel_not_found")
        return channel

    def _visible(self, user: str, channel_id: Any) -> dict[str, Any]:
        """The channel as `user` may see it: to a non-member a private channel (or a DM) does not exist,
        so every method answers `channel_not_found` for it, as Slack does."""
        channel = self._channel(channel_id)
        if (channel.get("is_private") or channel.get("type") == "im") and user not in channel["members"]:
            raise SlackError("channel_not_found")
        return channel

    def _readable(self, user: str, channel_id: Any) -> dict[str, Any]:
        """The channel whose messages `user` may read (conversations.history / .replies). A bot
        reads only conversations it is in: in a public one it is not in, `not_in_channel`.
        (People may read any public channel of their workspace.)"""
        channel = self._visible(user, channel_id)
        if self._is_bot(user) and user not in channel["members"]:
            raise SlackError("not_in_channel")
        return channel

    def _app_receives(self, event: dict[str, Any], channel: str | None) -> bool:
        """Slack sends the app events of a conversation (message.channels / message.groups,
        member_joined_channel, reactions) only while its bot is a member of it."""
        if channel is None:
            return True
        return self.bot_user_id in self.ws.channels[channel]["members"]

    def _message(self, channel: str, ts: Any, missing: str = "message_not_found") -> dict[str, Any]:
        """The message `ts` of `channel`; `missing` is the method's documented error when there is none."""
        if self.knobs.thread_error:
            raise SlackError(self.knobs.thread_error)
        for message in self.ws.messages[channel]:
            if message["ts"] == str(ts):
                return message
        raise SlackError(missing)

    def _is_bot(self, user: str) -> bool:
        return user == self.bot_user_id

    def _public(self, message: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in message.items() if not k.startswith("_")}

    def _emit(self, event: dict[str, Any], channel: str | None, team_id: str | None = None) -> None:
        if not self.events_urls or not self._app_receives(event, channel):
            return
        # The event is the workspace's whose channel it happened in (the acting token's team for
        # the seed's shared channels), or `team_id`'s (a person's own, for their App Home).
        where = team_id or (self.ws.channels.get(channel or "") or {}).get("context_team_id")
        team = self.team_info(where or self.team_id)
        authorization = self.authorization(team["id"])
        body = {
            "token": VERIFICATION_TOKEN,
            "team_id": team["id"],
            "context_team_id": team["id"],
            "context_enterprise_id": team.get("enterprise_id"),
            **({"enterprise_id": team["enterprise_id"]} if team.get("enterprise_id") else {}),
            "api_app_id": self.ws.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": authorization["enterprise_id"],
                    "team_id": authorization["team_id"],
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": authorization["is_enterprise_install"],
                }
            ],
            "is_ext_shared_channel": bool(channel and self.ws.channels[channel].get("is_ext_shared")),
            "event_context": f"4-sandbox-{channel or ''}",
        }
        self._events.put(body)

    def _deliver_loop(self) -> None:
        # One worker: events leave in the order they happened, as Slack's do for one app.
        with httpx.Client(timeout=self.knobs.delivery_timeout) as client:
            while True:
                body = self._events.get()
                if body is None:
                    return
                try:
                    for url in self.events_urls:
                        self._deliver(client, url, body)
                finally:
                    self._events.task_done()

    def retry_event(self, event_id: str, reason: str = "http_timeout") -> list[int]:
        """Slack delivering an event it already delivered once more, as it does when the app's
        answer was late or lost: the same body (same event_id), with `x-slack-retry-num` and
        `x-slack-retry-reason`. The statuses the app answered, per events URL."""
        body = next(d.body for d in self.deliveries if d.event_id == event_id)
        attempts = 1 + max(d.attempt for d in self.deliveries if d.event_id == event_id)
        raw = json.dumps(body).encode()
        statuses = []
        with httpx.Client(timeout=self.knobs.delivery_timeout) as client:
            for url in self.events_urls:
                ts = str(int(time.time()))
                headers = {
                    "content-type": "application/json",
                    "x-slack-request-timestamp": ts,
                    "x-slack-signature": sign(self.signing_secret, ts, raw),
                    "x-slack-retry-num": str(attempts),
                    "x-slack-retry-reason": reason,
                }
                response = client.post(url, content=raw, headers=headers)
                self.deliveries.append(Delivery(event_id, attempts, response.status_code, body))
                statuses.append(response.status_code)
        return statuses

    def _deliver(self, client: httpx.Client, url: str, body: dict[str, Any]) -> None:
        """POST one callback; retry as Slack does when the answer is not 2xx or is late."""
        raw = json.dumps(body).encode()
        reason = ""
        for attempt in range(len(self.knobs.retry_delays) + 1):
            ts = str(int(time.time()))
            headers = {
                "content-type": "application/json",
                "x-slack-request-timestamp": ts,
                "x-slack-signature": sign(self.signing_secret, ts, raw),
            }
            if attempt:
                headers["x-slack-retry-num"] = str(attempt)
                headers["x-slack-retry-reason"] = reason
            status: int | None = None
            try:
                response = client.post(url, content=raw, headers=headers, timeout=self.knobs.delivery_timeout)
                status = response.status_code
                done = 200 <= status < 300 or response.headers.get("x-slack-no-retry") == "1"
                reason = "http_error"
            except httpx.TimeoutException:
                done, reason = False, "http_timeout"
            except httpx.HTTPError:
                done, reason = False, "connection_failed"
            self.deliveries.append(Delivery(body["event_id"], attempt, status, body))
            if done:
                return
            if attempt < len(self.knobs.retry_delays):
                time.sleep(self.knobs.retry_delays[attempt])


# --- Web API methods: (sandbox, acting user id, params) -> result fields ------------------------


def auth_test(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    team = s.team_info(s.team_id)
    result = {
        "url": f"https://{s.ws.domain if team['id'] == s.ws.team_id else team['id'].lower()}.slack.com/",
        "team": team["name"],
        "user": s.ws.users[user]["name"],
        "team_id": team["id"],
        "user_id": user,
        "is_enterprise_install": bool(team.get("is_enterprise_install")),
    }
    if team.get("enterprise_id"):
        result["enterprise_id"] = team["enterprise_id"]
    if s._is_bot(user):
        result["bot_id"] = s.bot_id
    return result


def auth_teams_list(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    """auth.teams.list: the workspaces an org-wide app was approved for (every workspace of the
    organisation, here); a workspace's token lists its own workspace."""
    if p.get("cursor"):
        raise SlackError("invalid_cursor")  # one page always: no cursor was ever handed out
    acting = s.team_info(s.team_id)
    if acting.get("is_enterprise_install"):
        teams = [w for w in s.ws.workspaces.values() if w.get("enterprise_id") == acting["id"]]
    else:
        teams = [acting]
    return {"teams": [{"id": t["id"], "name": t["name"]} for t in teams], "response_metadata": {"next_cursor": ""}}


def _blocks_text(p: dict[str, Any]) -> tuple[str, list[Any] | None]:
    blocks = p.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    text = str(p.get("text") or "")
    if not text and not blocks:
        raise SlackError("no_text")
    if len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    return text, blocks


def chat_post_message(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    text, blocks = _blocks_text(p)
    return _post(s, user, {**p, "channel": interactive.dm_channel_for(s, user, str(p["channel"]))}, text, blocks)


def _post(
    s: SlackSandbox,
    user: str,
    p: dict[str, Any],
    text: str,
    blocks: list[Any] | None,
    files: list[dict[str, Any]] | None = None,
    member_check: bool = True,
) -> dict[str, Any]:
    """A message by `user` (chat.postMessage, or a file share with `files`), and its event.
    Without `member_check`: the app answering a slash command in a channel it is not in."""
    channel_id = str(p.get("channel", ""))
    channel = s._visible(user, channel_id)
    if member_check and user not in channel["members"]:
        raise SlackError("not_in_channel")
    ts = s._next_ts()
    # `team`: the channel's workspace for a channel of one; `_token_team`: whose token posted it.
    team = channel.get("context_team_id") or s.team_id
    message: dict[str, Any] = {"type": "message", "user": user, "text": text, "ts": ts, "team": team}
    message["_token_team"] = s.team_id
    if blocks:
        message["blocks"] = blocks
    metadata = p.get("metadata")
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    if metadata:
        message["metadata"] = metadata
    broadcast_root: dict[str, Any] | None = None
    thread_ts = p.get("thread_ts")
    if thread_ts:
        if not TS.fullmatch(str(thread_ts)):
            raise SlackError("invalid_thread_ts")
        parent = s._message(channel_id, thread_ts, "thread_not_found")
        if parent.get("thread_ts") not in (None, parent["ts"]):
            parent = s._message(channel_id, parent["thread_ts"], "thread_not_found")
        message["thread_ts"] = parent["ts"]
        message["parent_user_id"] = parent.get("user")
        parent.setdefault("thread_ts", parent["ts"])
        parent["reply_count"] = parent.get("reply_count", 0) + 1
        parent["reply_users"] = sorted({*parent.get("reply_users", []), user})
        parent["reply_users_count"] = len(parent["reply_users"])
        parent["latest_reply"] = ts
        if str(p.get("reply_broadcast", "")).lower() in ("1", "true"):
            message["subtype"] = "thread_broadcast"
            broadcast_root = parent
    if s._is_bot(user):
        message["bot_id"] = s.bot_id
        message["app_id"] = s.ws.app_id
        message["bot_profile"] = {
            "id": s.bot_id,
            "deleted": False,
            "name": s.ws.bot["name"],
            "updated": 1_600_000_000,
            "app_id": s.ws.app_id,
            "icons": {f"image_{n}": f"https://avatars.sandbox.invalid/{s.bot_id}_{n}.png" for n in (36, 48, 72)},
            "team_id": s.team_id,
        }
        for override in ("username", "icon_url", "icon_emoji"):
            if p.get(override):
                message[override] = p[override]
    else:
        message["client_msg_id"] = str(uuid.uuid4())
        if text:
            message["blocks"] = message.get("blocks") or [
                {
                    "type": "rich_text",
                    "block_id": uuid.uuid4().hex[:5],
                    "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
                }
            ]
    if files:
        message["subtype"] = "file_share"
        message["files"] = files
        message["upload"] = True
        message["display_as_bot"] = False
    s.ws.messages[channel_id].append(message)
    event = {
        **s._public(message),
        "channel": channel_id,
        "event_ts": ts,
        "channel_type": channel.get("type", "channel"),
    }
    event.pop("metadata", None)
    if broadcast_root is not None:  # Slack's thread_broadcast event carries the thread's parent
        event["root"] = {k: v for k, v in s._public(broadcast_root).items() if k != "metadata"}
    s._emit(event, channel_id)
    return {"channel": channel_id, "ts": ts, "message": s._public(message)}


def chat_post_ephemeral(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    channel = s._visible(user, p.get("channel"))
    # An unknown recipient is, as for Slack's documented errors, not in the channel either.
    if p["user"] not in channel["members"]:
        raise SlackError("user_not_in_channel")
    text, blocks = _blocks_text(p)
    channel.setdefault("_ephemeral", []).append({"user": p["user"], "text": p.get("text")})
    ts = interactive._add_ephemeral(
        s, str(p["user"]), channel["id"], text, blocks, p.get("thread_ts"), "chat.postEphemeral"
    )
    return {"message_ts": ts}


def chat_update(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    channel_id = str(p.get("channel", ""))
    s._visible(user, channel_id)
    message = s._message(channel_id, p.get("ts"))
    if message.get("user") != user:
        raise SlackError("cant_update_message")
    previous = s._public(dict(message))
    text, blocks = _blocks_text(p)
    message["text"] = text
    if blocks:
        message["blocks"] = blocks
    elif blocks is not None:  # `blocks=[]` removes them; leaving blocks out keeps them
        message.pop("blocks", None)
    message["edited"] = {"user": user, "ts": s._next_ts()}
    event_ts = s._next_ts()
    s._emit(
        {
            "type": "message",
            "subtype": "message_changed",
            "message": s._public(message),
            "previous_message": previous,
            "channel": channel_id,
            "hidden": True,
            "ts": event_ts,
            "event_ts": event_ts,
            "channel_type": s.ws.channels[channel_id].get("type", "channel"),
        },
        channel_id,
    )
    return {"channel": channel_id, "ts": message["ts"], "text": text, "message": s._public(message)}


def chat_delete(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    channel_id = str(p.get("channel", ""))
    s._visible(user, channel_id)
    message = s._message(channel_id, p.get("ts"))
    if message.get("user") != user:
        raise SlackError("cant_delete_message")
    if message.get("reply_count") and message.get("thread_ts") == message["ts"]:
        return _tombstone(s, channel_id, message)
    s.ws.messages[channel_id].remove(message)
    event_ts = s._next_ts()
    s._emit(
        {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "deleted_ts": message["ts"],
            "channel": channel_id,
            "previous_message": s._public(message),
            "ts": event_ts,
            "event_ts": event_ts,
            "channel_type": s.ws.channels[channel_id].get("type", "channel"),
        },
        channel_id,
    )
    return {"channel": channel_id, "ts": message["ts"]}


def _tombstone(s: SlackSandbox, channel_id: str, message: dict[str, Any]) -> dict[str, Any]:
    """Slack keeps a deleted parent that has replies as a tombstone, and says so with a
    message_changed whose message is the tombstone (not with message_deleted)."""
    previous = s._public(dict(message))
    for key in ("text", "blocks", "files", "client_msg_id", "edited", "metadata"):
        message.pop(key, None)
    message.update({"subtype": "tombstone", "hidden": True, "text": "This message was deleted.", "user": "USLACKBOT"})
    event_ts = s._next_ts()
    s._emit(
        {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "message": s._public(message),
            "previous_message": previous,
            "channel": channel_id,
            "ts": event_ts,
            "event_ts": event_ts,
            "channel_type": s.ws.channels[channel_id].get("type", "channel"),
        },
        channel_id,
    )
    return {"channel": channel_id, "ts": message["ts"]}


def _system_message(s: SlackSandbox, channel_id: str, user: str, subtype: str, text: str, **fields: Any) -> None:
    """A message Slack itself posts about the channel (a rename, a new topic), with its subtype."""
    ts = s._next_ts()
    message = {"type": "message", "subtype": subtype, "user": user, "text": text, "ts": ts, **fields}
    s.ws.messages[channel_id].append(message)
    channel_type = s.ws.channels[channel_id].get("type", "channel")
    s._emit({**message, "channel": channel_id, "event_ts": ts, "channel_type": channel_type}, channel_id)


def conversations_rename(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    channel_id = str(p.get("channel", ""))
    channel = s._visible(user, channel_id)
    if user not in channel["members"]:
        raise SlackError("not_in_channel")
    if channel.get("type") == "im":  # a DM has no name to change
        raise SlackError("method_not_supported_for_channel_type")
    old, new = channel["name"], str(p.get("name") or "")
    if not new:
        raise SlackError("invalid_name_required")
    channel["name"] = new
    text = f'<@{user}> has renamed the channel from "{old}" to "{new}"'
    _system_message(s, channel_id, user, "channel_name", text, old_name=old, name=new)
    return {"channel": _conversation_object(s, user, channel)}


def conversations_set_topic(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    channel_id = str(p.get("channel", ""))
    channel = s._visible(user, channel_id)
    if user not in channel["members"]:
        raise SlackError("not_in_channel")
    topic = str(p.get("topic") or "")
    channel["topic"] = topic
    _system_message(s, channel_id, user, "channel_topic", f"<@{user}> set the channel topic: {topic}", topic=topic)
    return {"channel": _conversation_object(s, user, channel)}


def chat_get_permalink(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    channel_id = str(p.get("channel", ""))
    s._visible(user, channel_id)
    message = s._message(channel_id, p.get("message_ts"))
    link = f"https://{s.ws.domain}.slack.com/archives/{channel_id}/p{message['ts'].replace('.', '')}"
    if message.get("thread_ts") and message["thread_ts"] != message["ts"]:
        link += f"?thread_ts={message['thread_ts']}&cid={channel_id}"
    return {"channel": channel_id, "permalink": link}


def _page(items: list[dict[str, Any]], p: dict[str, Any], metadata: bool) -> dict[str, Any]:
    limit = int(p.get("limit") or 100)
    start = int(p.get("cursor") or 0)
    chunk = items[start : start + limit]
    if not metadata:
        chunk = [{k: v for k, v in m.items() if k != "metadata"} for m in chunk]
    more = start + limit < len(items)
    return {
        "messages": chunk,
        "has_more": more,
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }


def _in_range(m: dict[str, Any], p: dict[str, Any]) -> bool:
    ts = float(m["ts"])
    return float(p.get("oldest") or 0) <= ts <= float(p.get("latest") or 1e12)


def _include_metadata(p: dict[str, Any]) -> bool:
    return str(p.get("include_all_metadata", "")).lower() in ("1", "true")


def conversations_history(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    channel_id = str(p.get("channel", ""))
    s._readable(user, channel_id)
    top = [
        s._public(m)
        for m in reversed(s.ws.messages[channel_id])
        if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
    ]
    page = _page([m for m in top if _in_range(m, p)], p, _include_metadata(p))
    # Pins and channel actions are not modelled; Slack answers these fields all the same.
    return {**page, "pin_count": 0, "channel_actions_ts": None, "channel_actions_count": 0}


def conversations_replies(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    channel_id = str(p.get("channel", ""))
    s._readable(user, channel_id)
    root = s._message(channel_id, p.get("ts"), "thread_not_found")
    root_ts = root.get("thread_ts") or root["ts"]
    thread = [s._public(m) for m in s.ws.messages[channel_id] if m["ts"] == root_ts or m.get("thread_ts") == root_ts]
    thread.sort(key=lambda m: float(m["ts"]))
    return _page([m for m in thread if _in_range(m, p) or m["ts"] == root_ts], p, _include_metadata(p))


def conversations_members(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    """A conversation's member ids, paged by cursor as Slack pages them (a private channel the
    caller is not in does not exist for it)."""
    members = list(s._visible(user, p.get("channel"))["members"])
    limit, start = int(p.get("limit") or 100), int(p.get("cursor") or 0)
    more = start + limit < len(members)
    return {
        "members": members[start : start + limit],
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }


def conversations_info(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    channel = s._visible(user, p.get("channel"))
    if channel.get("type") == "im":
        return {"channel": interactive.im_object(s, user, channel)}
    return {"channel": _conversation_object(s, user, channel)}


def _conversation_object(s: SlackSandbox, user: str, channel: dict[str, Any]) -> dict[str, Any]:
    """A channel as conversations.info shows it. Private channels are channels too (is_channel),
    told apart by is_private, as in Slack since private channels stopped being groups."""
    private = bool(channel.get("is_private", False))
    shared = bool(channel.get("is_ext_shared", False))
    created = int(channel.get("created", 1_600_000_000))
    creator = str(channel.get("creator") or (channel["members"][0] if channel["members"] else s.bot_user_id))

    def text_field(value: str) -> dict[str, Any]:
        return {"value": value, "creator": creator if value else "", "last_set": created if value else 0}

    return {
        "id": channel["id"],
        "name": channel["name"],
        "name_normalized": channel["name"],
        "created": created,
        "creator": creator,
        "is_channel": True,
        "is_group": False,
        "is_im": False,
        "is_mpim": False,
        "is_private": private,
        "is_archived": False,
        "is_general": False,
        "is_shared": shared,
        "is_ext_shared": shared,
        "is_org_shared": False,
        "is_pending_ext_shared": False,
        "is_member": user in channel["members"],
        "num_members": len(channel["members"]),
        "topic": text_field(str(channel.get("topic", ""))),
        "purpose": text_field(str(channel.get("purpose", ""))),
        "previous_names": [],
        # The workspace a channel of one belongs to (Slack's context_team_id).
        **({"context_team_id": channel["context_team_id"]} if channel.get("context_team_id") else {}),
    }


def conversations_join(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    channel_id = str(p.get("channel", ""))
    channel = s._visible(user, channel_id)
    if channel.get("is_private") or channel.get("type") == "im":
        raise SlackError("method_not_supported_for_channel_type")
    if user in channel["members"]:  # Slack answers ok, and warns
        warning = "already_in_channel"
        return {
            "channel": _conversation_object(s, user, channel),
            "warning": warning,
            "response_metadata": {"warnings": [warning]},
        }
    channel["members"].append(user)
    _joined(s, channel_id, user)
    return {"channel": _conversation_object(s, user, channel)}


def _joined(s: SlackSandbox, channel_id: str, user: str) -> None:
    """Someone joined: Slack sends member_joined_channel, and posts a channel_join message
    (kept in the channel's history) that arrives as a message event too."""
    ts = s._next_ts()
    channel_type = "G" if s.ws.channels[channel_id].get("is_private") else "C"
    s._emit(
        {
            "type": "member_joined_channel",
            "user": user,
            "channel": channel_id,
            "channel_type": channel_type,
            "team": s.ws.team_id,
            "event_ts": ts,
        },
        channel_id,
    )
    _system_message(s, channel_id, user, "channel_join", f"<@{user}> has joined the channel")


def _user_object(s: SlackSandbox, uid: str) -> dict[str, Any]:
    """users.info's user: every field the Web API always returns, the email only when shared."""
    u = s.ws.users[uid]
    real_name = str(u.get("real_name", u["name"]))
    display_name = str(u.get("display_name", u["name"]))
    first, _, last = real_name.partition(" ")
    avatar_hash = hashlib.sha1(uid.encode(), usedforsecurity=False).hexdigest()[:12]
    profile: dict[str, Any] = {
        "title": "",
        "phone": "",
        "skype": "",
        "real_name": real_name,
        "real_name_normalized": real_name,
        "display_name": display_name,
        "display_name_normalized": display_name,
        "fields": {},
        "status_text": "",
        "status_emoji": "",
        "status_expiration": 0,
        "avatar_hash": avatar_hash,
        "first_name": first,
        "last_name": last,
        "team": u.get("team_id", s.ws.team_id),
    }
    for size in (24, 32, 48, 72, 192, 512):
        profile[f"image_{size}"] = f"https://avatars.sandbox.invalid/{uid}_{size}.png"
    if u.get("email"):
        profile["email"] = u["email"]
    if u.get("is_bot"):
        profile.update(bot_id=s.bot_id, api_app_id=s.ws.app_id, always_active=True)
    tz = str(u.get("tz", "Europe/London"))
    return {
        "id": uid,
        "team_id": u.get("team_id", s.ws.team_id),
        "name": u["name"],
        "deleted": False,
        "color": "9f69e7",
        "real_name": real_name,
        "tz": tz,
        "tz_label": "Greenwich Mean Time",
        "tz_offset": 0,
        "profile": profile,
        "is_admin": False,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": bool(u.get("is_restricted")),
        "is_ultra_restricted": False,
        "is_bot": bool(u.get("is_bot")),
        "is_app_user": False,
        "is_stranger": bool(u.get("is_stranger")),
        "updated": 1_600_000_000,
    }


def users_info(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    uid = str(p.get("user", ""))
    if uid not in s.ws.users:
        raise SlackError("user_not_found")
    return {"user": _user_object(s, uid)}


def usergroups_users_list(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    """usergroups.users.list: the user ids of a group, in no particular order; a disabled group
    only with include_disabled."""
    group = s.ws.usergroups.get(str(p["usergroup"]))
    include_disabled = str(p.get("include_disabled", "")).lower() in ("1", "true")
    owner = (group or {}).get("team_id")
    if owner and s.team_id != owner and s.team_info(owner).get("enterprise_id") != s.team_id:
        group = None  # another workspace's group
    if group is None or (group["disabled"] and not include_disabled):
        raise SlackError("no_such_subteam")
    return {"users": list(group["users"])}


def users_lookup_by_email(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    email = str(p.get("email", "")).lower()
    for uid, u in s.ws.users.items():
        if str(u.get("email", "")).lower() == email and email:
            return {"user": _user_object(s, uid)}
    raise SlackError("users_not_found")


def _reaction(s: SlackSandbox, user: str, p: dict[str, Any], add: bool) -> dict[str, Any]:
    channel_id = str(p.get("channel", ""))
    s._visible(user, channel_id)
    message = s._message(channel_id, p.get("timestamp"))
    name = str(p.get("name", "")).strip(":")
    reactions = message.setdefault("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if add:
        if entry and user in entry["users"]:
            raise SlackError("already_reacted")
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        entry["users"].append(user)
    else:
        if entry is None or user not in entry["users"]:
            raise SlackError("no_reaction")
        entry["users"].remove(user)
    entry["count"] = len(entry["users"])
    message["reactions"] = [r for r in reactions if r["count"]]
    if not message["reactions"]:
        message.pop("reactions")
    ts = s._next_ts()
    s._emit(
        {
            "type": "reaction_added" if add else "reaction_removed",
            "user": user,
            "reaction": name,
            "item_user": message.get("user"),
            "item": {"type": "message", "channel": channel_id, "ts": message["ts"]},
            "event_ts": ts,
        },
        channel_id,
    )
    return {}


def reactions_add(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    return _reaction(s, user, p, True)


def reactions_remove(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    return _reaction(s, user, p, False)


def reactions_get(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    channel_id = str(p.get("channel", ""))
    s._visible(user, channel_id)
    message = s._message(channel_id, p.get("timestamp"))
    return {"type": "message", "channel": channel_id, "message": s._public(message)}


def files_get_upload_url_external(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    if not p.get("filename") or not p.get("length"):
        raise SlackError("invalid_arguments")
    file_id = f"F{uuid.uuid4().hex[:10].upper()}"
    s.ws.pending_uploads[file_id] = {"filename": p["filename"], "length": int(p["length"]), "user": user}
    return {"upload_url": f"{s.base_url}/upload/{file_id}", "file_id": file_id}


def files_complete_upload_external(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    files = p.get("files")
    if isinstance(files, str):
        files = json.loads(files)
    if not files:
        raise SlackError("invalid_arguments")
    done = []
    for item in files:
        pending = s.ws.pending_uploads.pop(item["id"], None)
        if pending is None or "content" not in pending:
            raise SlackError("file_not_found")
        now = int(time.time())
        filetype = pending["filename"].rsplit(".", 1)[-1]
        url = f"{s.base_url}/files/{item['id']}/{pending['filename']}"
        # A hosted, private file as Slack describes one (no image previews: not an image).
        file_obj = {
            "id": item["id"],
            "created": now,
            "timestamp": now,
            "name": pending["filename"],
            "title": item.get("title") or pending["filename"],
            "mimetype": "application/octet-stream",
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "user": user,
            "editable": False,
            "size": len(pending["content"]),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": url,
            "url_private_download": url,
            "media_display_type": "unknown",
            "permalink": f"https://{s.ws.domain}.slack.com/files/{user}/{item['id']}/{pending['filename']}",
            "permalink_public": f"https://slack-files.sandbox.invalid/{s.ws.team_id}-{item['id']}",
            "has_rich_preview": False,
            "_content": pending["content"],
        }
        s.ws.files[item["id"]] = file_obj
        done.append({k: v for k, v in file_obj.items() if not k.startswith("_")})
    channel = p.get("channel_id") or p.get("channel")
    if channel:
        # A share without a comment is a message whose text is "" (Slack sends "", not " ").
        comment = str(p.get("initial_comment") or "")
        _post(s, user, {"channel": channel, "thread_ts": p.get("thread_ts")}, comment, None, [dict(f) for f in done])
    return {"files": done}


def files_info(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    f = s.ws.files.get(str(p.get("file", "")))
    if f is None:
        raise SlackError("file_not_found")
    # File comments are gone from Slack, but files.info still answers an empty list of them.
    return {
        "file": {k: v for k, v in f.items() if not k.startswith("_")},
        "comments": [],
        "response_metadata": {"next_cursor": ""},
    }


METHODS = {
    "auth.test": auth_test,
    "auth.teams.list": auth_teams_list,
    "chat.postMessage": chat_post_message,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "chat.getPermalink": chat_get_permalink,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "conversations.info": conversations_info,
    "conversations.join": conversations_join,
    "conversations.rename": conversations_rename,
    "conversations.setTopic": conversations_set_topic,
    "conversations.members": conversations_members,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
    "reactions.add": reactions_add,
    "reactions.remove": reactions_remove,
    "reactions.get": reactions_get,
    "files.getUploadURLExternal": files_get_upload_url_external,
    "files.completeUploadExternal": files_complete_upload_external,
    "files.info": files_info,
    "usergroups.users.list": usergroups_users_list,
    **interactive.METHODS,
}
# Methods whose scope the sandbox checks, as Slack does (missing_scope, with `needed` and
# `provided`): those whose scope an app is likely to be installed without.
SCOPE_CHECKED = {"usergroups.users.list": "usergroups:read"}

"""Slack's interactive surface in the sandbox: what a person does in the Slack client that the
app hears at its Request URLs, and the Web API methods that answer it.

- Slash commands: a signed form POST to the app's commands URL; the app's immediate answer is
  the first reply the person sees.
- Interactivity: signed `payload=<JSON>` form POSTs to the interactivity URL (`block_actions`,
  `message_action`, `view_submission`), with `view_submission`'s synchronous response_action.
- response_url: an incoming webhook per slash command or action, usable 5 times in 30 minutes.
- Views (views.py): modals (a stack of up to 3 per person) and each person's Home tab, with
  Slack's validation of a view object; what a submission's answer does to the modal on screen.
- DMs: conversations.open, and a person writing to the bot (`message` events with channel_type im).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from threadline_sandbox.slack.views import (
    PUSH_LIMIT,
    Trigger,
    block_elements,
    find_element,
    new_trigger,
    public_view,
    replace_view,
    store_view,
    validated,
    views_open,
    views_publish,
    views_push,
    views_update,
)

if TYPE_CHECKING:
    from threadline_sandbox.slack.server import SlackSandbox

# What a value given to `submit_view` becomes in view.state.values, by the element's type.
SELECTED = {
    "static_select": "selected_option",
    "external_select": "selected_option",
    "radio_buttons": "selected_option",
    "multi_static_select": "selected_options",
    "checkboxes": "selected_options",
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
}


@dataclass
class AppResponse:
    """What the app answered a request Slack sent it: status (None when it did not answer in
    time or could not be reached), the raw body, and the body as JSON when it is JSON."""

    status: int | None
    body: str
    json: dict[str, Any] | None = None


@dataclass
class CommandResponse(AppResponse):
    """A slash command's answer, and the message it shows (None for an empty answer): the
    person sees `message` at once, ephemeral unless its response_type is in_channel."""

    message: dict[str, Any] | None = None
    response_url: str = ""
    trigger_id: str = ""


@dataclass
class Hook:
    """One response_url: who and where it answers, and the message it may replace or delete."""

    kind: str  # "commands" or "actions"
    user: str
    channel: str
    created: float
    secret: str = ""
    uses: int = 0
    original: tuple[str, str] | None = None  # ("message"|"ephemeral", ts)


@dataclass
class InteractiveState:
    """All of it is guarded by the sandbox's lock."""

    triggers: dict[str, Trigger] = field(default_factory=dict)
    hooks: dict[str, Hook] = field(default_factory=dict)
    hook_posts: list[dict[str, Any]] = field(default_factory=list)
    ephemerals: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # user id -> messages
    views: dict[str, dict[str, Any]] = field(default_factory=dict)  # view id -> view
    modals: dict[str, list[str]] = field(default_factory=dict)  # user id -> stack of view ids
    homes: dict[str, str] = field(default_factory=dict)  # user id -> view id


class Interactive:
    """SlackSandbox's test-facing actions for the interactive surface (a mixin)."""

    commands_url: str | None
    interactivity_url: str | None
    ui: InteractiveState

    def _sandbox(self) -> SlackSandbox:
        return cast("SlackSandbox", self)

    # --- what a person does --------------------------------------------------------------------

    def slash_command(self, user_name: str, channel_id: str, command: str, text: str = "") -> CommandResponse:
        """`user_name` types `/command text` in `channel_id`: the signed form Slack posts to the
        commands URL; the app's immediate answer is shown to the person (or the channel)."""
        s = self._sandbox()
        if not self.commands_url:
            raise RuntimeError("SlackSandbox has no commands_url")
        user = _user_id(s, user_name)
        with s._lock:
            channel = s.ws.channels[channel_id]
            hook_url = _new_hook(s, "commands", user, channel_id, None)
            trigger = new_trigger(s, user)
        form = {
            "token": core.VERIFICATION_TOKEN,
            # The workspace the command was typed in: a channel of one workspace's (add_channel),
            # else the seed's (its channels are every team's, as Slack Connect channels are).
            "team_id": str(channel.get("context_team_id") or s.ws.team_id),
            "team_domain": s.ws.domain,
            "channel_id": channel_id,
            "channel_name": _channel_name(channel),
            "user_id": user,
            "user_name": user_name,
            "command": command if command.startswith("/") else f"/{command}",
            "text": text,
            "api_app_id": s.ws.app_id,
            "is_enterprise_install": "false",
            "response_url": hook_url,
            "trigger_id": trigger,
        }
        answer = _send(s, self.commands_url, urllib.parse.urlencode(form))
        shown = _immediate_message(answer)
        response = CommandResponse(answer.status, answer.body, answer.json, shown, hook_url, trigger)
        if shown is not None:
            with s._lock:
                hook = _hook(s, hook_url)
                hook.original = _show(s, hook, shown, "command_response")
        return response

    def press_button(self, user_name: str, channel_id: str, message_ts: str, action_id: str) -> AppResponse:
        """`user_name` clicks the element `action_id` in a message of `channel_id` (posted, or
        ephemeral to them): a block_actions payload with container type message."""
        s = self._sandbox()
        user = _user_id(s, user_name)
        with s._lock:
            ephemeral = next(
                (m for m in self.ui.ephemerals.get(user, []) if m["ts"] == message_ts and m["channel"] == channel_id),
                None,
            )
            message = ephemeral or s._message(channel_id, message_ts)
            block_id, element = find_element(message.get("blocks") or [], action_id)
            hook_url = _new_hook(s, "actions", user, channel_id, ("ephemeral" if ephemeral else "message", message_ts))
            payload = _action_base(s, user, user_name)
            payload["container"] = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": ephemeral is not None,
            }
            payload["channel"] = {"id": channel_id, "name": _channel_name(s.ws.channels[channel_id])}
            if ephemeral is None:  # Slack sends no message for an ephemeral one
                payload["message"] = s._public(message)
            payload["state"] = {"values": {}}
            payload["response_url"] = hook_url
            payload["actions"] = [_action(s, block_id, element)]
        return _interact(s, payload)

    def press_modal_button(self, user_name: str, action_id: str) -> AppResponse:
        """`user_name` clicks `action_id` in the modal on their screen (container type view)."""
        s = self._sandbox()
        with s._lock:
            stack = self.ui.modals.get(_user_id(s, user_name)) or []
            if not stack:
                raise LookupError(f"{user_name} has no modal open")
            view_id = stack[-1]
        return self._press_in_view(user_name, view_id, action_id)

    def press_home_button(self, user_name: str, action_id: str) -> AppResponse:
        """`user_name` clicks `action_id` in the app's Home tab (container type view)."""
        s = self._sandbox()
        with s._lock:
            view_id = self.ui.homes.get(_user_id(s, user_name))
        if view_id is None:
            raise LookupError(f"no Home view published for {user_name}")
        return self._press_in_view(user_name, view_id, action_id)

    def _press_in_view(self, user_name: str, view_id: str, action_id: str) -> AppResponse:
        s = self._sandbox()
        user = _user_id(s, user_name)
        with s._lock:
            view = self.ui.views[view_id]
            block_id, element = find_element(view["blocks"], action_id)
            payload = _action_base(s, user, user_name)
            payload["container"] = {"type": "view", "view_id": view_id}
            payload["view"] = public_view(view)
            payload["actions"] = [_action(s, block_id, element)]
        return _interact(s, payload)

    def message_shortcut(self, user_name: str, channel_id: str, message_ts: str, callback_id: str) -> AppResponse:
        """`user_name` picks the app's message shortcut `callback_id` on a message."""
        s = self._sandbox()
        user = _user_id(s, user_name)
        with s._lock:
            message = s._message(channel_id, message_ts)
            hook_url = _new_hook(s, "actions", user, channel_id, ("message", message_ts))
            payload = {
                "type": "message_action",
                "token": core.VERIFICATION_TOKEN,
                "action_ts": s._next_ts(),
                "team": {"id": s.ws.team_id, "domain": s.ws.domain},
                "user": {"id": user, "username": user_name, "name": user_name, "team_id": s.ws.team_id},
                "channel": {"id": channel_id, "name": _channel_name(s.ws.channels[channel_id])},
                "is_enterprise_install": False,
                "enterprise": None,
                "callback_id": callback_id,
                "trigger_id": new_trigger(s, user),
                "response_url": hook_url,
                "message_ts": message_ts,
                "message": s._public(message),
            }
        return _interact(s, payload)

    def submit_view(self, user_name: str, values: dict[str, dict[str, Any]] | None = None) -> AppResponse:
        """`user_name` fills the inputs of the modal on their screen ({block_id: {action_id:
        value}}) and presses its submit button: a view_submission, whose answer is applied as
        Slack applies it (empty: the view closes; errors: it stays, showing them; update, push,
        clear). A non-200 answer leaves the modal open, as Slack does with its connection error."""
        s = self._sandbox()
        user = _user_id(s, user_name)
        with s._lock:
            stack = self.ui.modals.get(user) or []
            if not stack:
                raise LookupError(f"{user_name} has no modal open")
            view = self.ui.views[stack[-1]]
            view["state"] = {"values": _state_values(view, values or {})}
            payload = {
                "type": "view_submission",
                "team": {"id": s.ws.team_id, "domain": s.ws.domain},
                "user": {"id": user, "username": user_name, "name": user_name, "team_id": s.ws.team_id},
                "api_app_id": s.ws.app_id,
                "token": core.VERIFICATION_TOKEN,
                "trigger_id": new_trigger(s, user),
                "view": public_view(view),
                "response_urls": [],
                "is_enterprise_install": False,
                "enterprise": None,
            }
        answer = _interact(s, payload)
        if answer.status == 200:
            # An invalid view in the answer: Slack leaves the modal as it was.
            with s._lock, contextlib.suppress(core.SlackError):
                _apply_response_action(s, user, view, answer)
        return answer

    def open_home(self, user_name: str, tab: str = "home", team_id: str | None = None) -> None:
        """`user_name` opens the app's Home tab (or, with tab="messages", its Messages tab): the
        app_home_opened event, with the view published for them if any (on the Home tab). The
        event is their workspace's (`team_id`, else their own: a person added with person_token
        is of that token's workspace): its envelope's team_id and authorizations, as Slack sends."""
        s = self._sandbox()
        user = _user_id(s, user_name)
        with s._lock:
            team = team_id or str(s.ws.users[user].get("team_id") or s.ws.team_id)
            dm = _open_dm(s, user, s.bot_user_id)
            event: dict[str, Any] = {
                "type": "app_home_opened",
                "user": user,
                "channel": dm["id"],
                "tab": tab,
                "event_ts": s._next_ts(),
            }
            view_id = self.ui.homes.get(user)
            if view_id and tab == "home":
                event["view"] = public_view(self.ui.views[view_id])
            s._emit(event, dm["id"], team if team in s.ws.workspaces or team in s.ws.teams else None)

    def dm(self, user_name: str, text: str) -> str:
        """`user_name` writes `text` to the bot in their DM (opened as conversations.open
        does): a message event with channel_type im. Answers the message's ts."""
        s = self._sandbox()
        user = _user_id(s, user_name)
        with s._lock:
            dm = _open_dm(s, user, s.bot_user_id)
            return str(core._post(s, user, {"channel": dm["id"]}, text, None)["ts"])

    # --- what a person sees --------------------------------------------------------------------

    def ephemerals(self, user_name: str) -> list[dict[str, Any]]:
        """The ephemeral messages `user_name` was shown, in order (chat.postEphemeral, slash
        command answers, response_url replies): channel, ts, text, blocks, thread_ts, via."""
        s = self._sandbox()
        with s._lock:
            return [dict(m) for m in self.ui.ephemerals.get(_user_id(s, user_name), [])]

    def dms(self, user_name: str) -> list[dict[str, Any]]:
        """The messages of the DM between the bot and `user_name`, oldest first."""
        s = self._sandbox()
        with s._lock:
            dm_id = _dm_id(s, _user_id(s, user_name), s.bot_user_id)
            return [s._public(m) for m in s.ws.messages.get(dm_id, [])]

    def open_view(self, user_name: str) -> dict[str, Any] | None:
        """The modal on `user_name`'s screen (the top of their stack), or None; the errors it
        shows are under `errors` ({block_id: message})."""
        s = self._sandbox()
        with s._lock:
            stack = self.ui.modals.get(_user_id(s, user_name)) or []
            if not stack:
                return None
            view = self.ui.views[stack[-1]]
            return {**public_view(view), "errors": dict(view.get("_errors", {}))}

    def home(self, user_name: str) -> dict[str, Any] | None:
        """The Home view published for `user_name`, or None."""
        s = self._sandbox()
        with s._lock:
            view_id = self.ui.homes.get(_user_id(s, user_name))
            return public_view(self.ui.views[view_id]) if view_id else None

    def home_published_by(self, user_name: str) -> str | None:
        """The team whose token last published `user_name`'s Home view (an org-wide install's:
        its organisation), or None when none was published."""
        s = self._sandbox()
        with s._lock:
            view_id = self.ui.homes.get(_user_id(s, user_name))
            return str(self.ui.views[view_id].get("_token_team")) if view_id else None

    def response_url_posts(self) -> list[dict[str, Any]]:
        """Every POST an app made to a response_url: url, body (JSON), status and answer."""
        with self._sandbox()._lock:
            return [dict(p) for p in self.ui.hook_posts]

    # --- the response_url endpoint -------------------------------------------------------------

    async def _response_url(self, request: Request) -> Response:
        s = self._sandbox()
        url = str(request.url)
        raw = await request.body()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        with s._lock:
            status, answer = _use_hook(s, request.path_params["hook_id"], request.path_params["secret"], body)
            self.ui.hook_posts.append({"url": url, "body": body, "status": status, "answer": answer})
        return PlainTextResponse(answer, status_code=status)


# --- helpers ---------------------------------------------------------------------------------------


def _user_id(s: SlackSandbox, name: str) -> str:
    for uid, u in s.ws.users.items():
        if u.get("name") == name:
            return uid
    raise KeyError(name)


def _channel_name(channel: dict[str, Any]) -> str:
    return "directmessage" if channel.get("type") == "im" else str(channel["name"])


def _new_hook(s: SlackSandbox, kind: str, user: str, channel: str, original: tuple[str, str] | None) -> str:
    hook_id, secret = str(secrets.randbelow(10**12)), secrets.token_urlsafe(18)
    s.ui.hooks[hook_id] = Hook(kind, user, channel, time.monotonic(), secret, original=original)
    return f"{s.base_url}/hooks/{kind}/{s.ws.team_id}/{hook_id}/{secret}"


def _hook(s: SlackSandbox, url: str) -> Hook:
    return s.ui.hooks[url.rstrip("/").split("/")[-2]]


def _sign_headers(s: SlackSandbox, body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": core.sign(s.signing_secret, ts, body.encode()),
    }


def _send(s: SlackSandbox, url: str, body: str) -> AppResponse:
    """POST a signed form to one of the app's Request URLs and wait for its answer (Slack
    waits 3 seconds); the sandbox's lock is not held, so the app may call the Web API meanwhile."""
    try:
        response = httpx.post(url, content=body, headers=_sign_headers(s, body), timeout=s.knobs.interactive_timeout)
    except httpx.HTTPError:
        return AppResponse(None, "")
    parsed: dict[str, Any] | None = None
    if response.content:
        try:
            loaded = response.json()
            parsed = loaded if isinstance(loaded, dict) else None
        except ValueError:
            parsed = None
    return AppResponse(response.status_code, response.text, parsed)


def _interact(s: SlackSandbox, payload: dict[str, Any]) -> AppResponse:
    if not s.interactivity_url:
        raise RuntimeError("SlackSandbox has no interactivity_url")
    return _send(s, s.interactivity_url, urllib.parse.urlencode({"payload": json.dumps(payload)}))


def _immediate_message(answer: AppResponse) -> dict[str, Any] | None:
    """The message a slash command's HTTP answer shows: JSON with text/blocks, or plain text."""
    if answer.status != 200 or not answer.body.strip():
        return None
    if answer.json is not None:
        if not answer.json.get("text") and not answer.json.get("blocks"):
            return None
        return answer.json
    return {"text": answer.body}


def _show(s: SlackSandbox, hook: Hook, body: dict[str, Any], via: str) -> tuple[str, str]:
    """A reply to a command or an action: in the channel (as the app) or ephemeral to the person."""
    blocks = body.get("blocks")
    text = str(body.get("text") or "")
    if body.get("response_type") == "in_channel":
        params = {"channel": hook.channel, "thread_ts": body.get("thread_ts")}
        posted = core._post(s, s.bot_user_id, params, text, blocks, member_check=False)
        return "message", str(posted["ts"])
    return "ephemeral", _add_ephemeral(s, hook.user, hook.channel, text, blocks, body.get("thread_ts"), via)


def _add_ephemeral(s: SlackSandbox, user: str, channel: str, text: str, blocks: Any, thread_ts: Any, via: str) -> str:
    ts = s._next_ts()
    entry = {"channel": channel, "ts": ts, "text": text, "blocks": blocks, "thread_ts": thread_ts, "via": via}
    s.ui.ephemerals.setdefault(user, []).append(entry)
    return ts


def _use_hook(s: SlackSandbox, hook_id: str, secret: str, body: Any) -> tuple[int, str]:
    """A POST to a response_url, as Slack answers it: `ok`, or why not (404 for an unknown,
    expired or used-up URL, 400 for a body that is not a message)."""
    hook = s.ui.hooks.get(hook_id)
    if hook is None or not secrets.compare_digest(hook.secret, secret):
        return 404, "invalid_url"
    if time.monotonic() - hook.created > s.knobs.response_url_ttl_seconds:
        return 404, "expired_url"
    if hook.uses >= s.knobs.response_url_uses:
        return 404, "used_url"
    if not isinstance(body, dict):
        return 400, "invalid_payload"
    hook.uses += 1
    if _flag(body.get("delete_original")):
        if hook.original is None:
            return 404, "message_not_found"
        _delete_original(s, hook)
        return 200, "ok"
    blocks = body.get("blocks")
    if not body.get("text") and not blocks:
        return 400, "no_text"
    if len(str(body.get("text") or "")) > core.MAX_TEXT:
        return 400, "msg_too_long"
    if _flag(body.get("replace_original")) and hook.original is not None:
        _replace_original(s, hook, body)
        return 200, "ok"
    shown = _show(s, hook, body, "response_url")
    if hook.kind == "commands" or hook.original is None:  # a command's replies replace its latest
        hook.original = shown
    return 200, "ok"


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _replace_original(s: SlackSandbox, hook: Hook, body: dict[str, Any]) -> None:
    assert hook.original is not None
    kind, ts = hook.original
    text, blocks = str(body.get("text") or ""), body.get("blocks")
    if kind == "ephemeral":
        for entry in s.ui.ephemerals.get(hook.user, []):
            if entry["ts"] == ts:
                entry.update(text=text, blocks=blocks)
        return
    message = s._message(hook.channel, ts)
    # The whole message is replaced: no blocks in the reply, none in the message ([] clears them).
    params: dict[str, Any] = {"channel": hook.channel, "ts": ts, "text": text, "blocks": blocks or []}
    core.chat_update(s, str(message.get("user") or s.bot_user_id), params)


def _delete_original(s: SlackSandbox, hook: Hook) -> None:
    assert hook.original is not None
    kind, ts = hook.original
    if kind == "ephemeral":
        entries = s.ui.ephemerals.get(hook.user, [])
        entries[:] = [e for e in entries if e["ts"] != ts]
    else:
        message = s._message(hook.channel, ts)
        core.chat_delete(s, str(message.get("user") or s.bot_user_id), {"channel": hook.channel, "ts": ts})
    hook.original = None


def _action_base(s: SlackSandbox, user: str, user_name: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user_name, "name": user_name, "team_id": s.ws.team_id},
        "api_app_id": s.ws.app_id,
        "token": core.VERIFICATION_TOKEN,
        "trigger_id": new_trigger(s, user),
        "team": {"id": s.ws.team_id, "domain": s.ws.domain},
        "enterprise": None,
        "is_enterprise_install": False,
    }


def _action(s: SlackSandbox, block_id: str, element: dict[str, Any]) -> dict[str, Any]:
    action: dict[str, Any] = {"action_id": element["action_id"], "block_id": block_id}
    if element.get("text"):
        action["text"] = element["text"]
    if "value" in element:
        action["value"] = element["value"]
    action["type"] = element["type"]
    action["action_ts"] = s._next_ts()
    return action


def _state_values(view: dict[str, Any], values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """view.state.values for what the person entered, shaped by each element's type: a text
    input's `value`; for a select, radio buttons or checkboxes the chosen option objects (given
    by their value); for a user, conversation, channel, date or time picker the id or date."""
    elements = {(b, e["action_id"]): e for b, e in block_elements(view["blocks"])}
    state: dict[str, Any] = {}
    for block_id, actions in values.items():
        for action_id, value in actions.items():
            element = elements.get((block_id, action_id))
            if element is None:
                raise LookupError(f"the open view has no input {block_id}/{action_id}")
            kind = str(element["type"])
            entry: dict[str, Any] = {"type": kind}
            if kind in SELECTED:
                key = SELECTED[kind]
                chosen = value if "option" not in key else _options(element, value, key.endswith("s"))
                entry[key] = chosen
            elif isinstance(value, dict):
                entry.update(value)
            else:
                entry["value"] = value
            state.setdefault(block_id, {})[action_id] = entry
    return state


def _options(element: dict[str, Any], value: Any, many: bool) -> Any:
    """The element's option objects whose value is `value` (or each of a list of values)."""
    offered = [o for group in element.get("option_groups", []) for o in group.get("options", [])]
    offered += element.get("options", [])
    wanted = value if isinstance(value, list) else [value]
    chosen = []
    for v in wanted:
        if isinstance(v, dict):
            chosen.append(v)
            continue
        option = next((o for o in offered if o.get("value") == v), None)
        if option is None:
            raise LookupError(f"{element['action_id']} offers no option {v!r}")
        chosen.append(option)
    return chosen if many else chosen[0]


def _apply_response_action(s: SlackSandbox, user: str, view: dict[str, Any], answer: AppResponse) -> None:
    stack = s.ui.modals.get(user) or []
    action = (answer.json or {}).get("response_action")
    if action == "errors":
        view["_errors"] = dict((answer.json or {}).get("errors") or {})
    elif action == "update":
        new = validated((answer.json or {}).get("view"), "modal")
        replace_view(view, new)
    elif action == "push":
        new = validated((answer.json or {}).get("view"), "modal")
        if len(stack) < PUSH_LIMIT:
            stack.append(store_view(s, user, new, root=stack[0] if stack else None, previous=view["id"])["id"])
    elif action == "clear":
        stack.clear()
    elif stack:
        stack.pop()  # an empty (or unrecognised) answer closes the submitted view


# --- DMs -------------------------------------------------------------------------------------------


def _dm_id(s: SlackSandbox, a: str, b: str) -> str:
    """The DM's id: D + the person's id for a DM with the bot, else from both people's ids."""
    if s.bot_user_id in (a, b):
        other = b if a == s.bot_user_id else a
        return f"D{other[1:]}"
    return "D" + uuid.uuid5(uuid.NAMESPACE_OID, ":".join(sorted((a, b)))).hex[:10].upper()


def _open_dm(s: SlackSandbox, a: str, b: str) -> dict[str, Any]:
    dm_id = _dm_id(s, a, b)
    if dm_id not in s.ws.channels:
        s.ws.channels[dm_id] = {
            "id": dm_id,
            "name": "directmessage",
            "type": "im",
            "members": [a, b],
            "created": int(time.time()),
        }
        s.ws.messages[dm_id] = []
    return s.ws.channels[dm_id]


def im_object(s: SlackSandbox, user: str, channel: dict[str, Any]) -> dict[str, Any]:
    """A DM as conversations.open (return_im) and conversations.info show it."""
    other = next((m for m in channel["members"] if m != user), user)
    latest = s.ws.messages.get(channel["id"]) or []
    return {
        "id": channel["id"],
        "created": channel["created"],
        "is_im": True,
        "is_org_shared": False,
        "user": other,
        "last_read": latest[-1]["ts"] if latest else "0000000000.000000",
        "latest": s._public(latest[-1]) if latest else None,
        "unread_count": 0,
        "unread_count_display": 0,
        "is_open": True,
        "priority": 0,
    }


def conversations_open(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("channel"):
        channel = s._visible(user, p["channel"])
        if channel.get("type") != "im" or user not in channel["members"]:
            raise core.SlackError("channel_not_found")
        return {"no_op": True, "already_open": True, "channel": {"id": channel["id"]}}
    users = [u.strip() for u in str(p.get("users") or "").split(",") if u.strip()]
    if not users:
        raise core.SlackError("users_list_not_supplied")
    if len(users) > 1:
        raise core.SlackError("method_not_supported_for_channel_type")  # group DMs are not modelled
    # user_not_found ("Value passed for `user` was invalid") for nobody, and for a person of a
    # workspace the token is not for (a workspace's bot token reaches its own people; an org-wide
    # install's, those of its organisation's workspaces), as views.publish refuses them.
    if users[0] not in s.ws.users or not s.reaches_user(s.team_id, users[0]):
        raise core.SlackError("user_not_found")
    already = _dm_id(s, user, users[0]) in s.ws.channels
    channel = _open_dm(s, user, users[0])
    shown = im_object(s, user, channel) if _flag(p.get("return_im")) else {"id": channel["id"]}
    answer: dict[str, Any] = {"channel": shown}
    if already:
        answer.update(no_op=True, already_open=True)
    return answer


def dm_channel_for(s: SlackSandbox, user: str, target: str) -> str:
    """chat.postMessage to a person's id posts in the DM with them (opened if need be)."""
    if target in s.ws.users and target not in s.ws.channels:
        return str(_open_dm(s, user, target)["id"])
    return target


METHODS = {
    "conversations.open": conversations_open,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
REQUIRED: dict[str, tuple[tuple[str, str], ...]] = {
    "views.open": (("trigger_id", "invalid_arguments"), ("view", "invalid_arguments")),
    "views.push": (("trigger_id", "invalid_arguments"), ("view", "invalid_arguments")),
    "views.update": (("view", "invalid_arguments"),),
    "views.publish": (("user_id", "invalid_arguments"), ("view", "invalid_arguments")),
}


# Last: server.py builds SlackSandbox on the Interactive above, and this module calls into
# server.py's rules (errors, posting, signing) only when a request comes, whichever is imported first.
from threadline_sandbox.slack import server as core  # noqa: E402

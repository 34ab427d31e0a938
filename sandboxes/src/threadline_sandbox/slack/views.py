"""Views: modals (a stack of up to 3 per person, opened and pushed with a trigger_id) and each
person's Home tab (views.publish), kept with the id, hash and state Slack answers, and checked as
Slack checks a view object. A trigger_id, which a person's click hands the app, is valid 3 seconds
and exchangeable once."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from threadline_sandbox.slack.errors import SlackError

if TYPE_CHECKING:
    from threadline_sandbox.slack.server import SlackSandbox

VIEW_TEXT_MAX = 24  # a modal's title, submit and close
VIEW_BLOCKS_MAX = 100
PRIVATE_METADATA_MAX = 3000
CALLBACK_ID_MAX = 255
PUSH_LIMIT = 3
VIEW_SIZE_MAX = 250_000  # bytes of the view's JSON


@dataclass
class Trigger:
    user: str
    created: float
    used: bool = False


def new_trigger(s: SlackSandbox, user: str) -> str:
    trigger = f"{int(time.time() * 1000)}.{secrets.randbelow(10**11)}.{secrets.token_hex(16)}"
    s.ui.triggers[trigger] = Trigger(user, time.monotonic())
    return trigger


def exchange_trigger(s: SlackSandbox, trigger_id: str) -> str:
    """The person a trigger_id is for; it is spent. Slack's errors for an unknown, a spent and
    an expired (older than 3 seconds) trigger."""
    trigger = s.ui.triggers.get(trigger_id)
    if trigger is None:
        raise SlackError("invalid_trigger_id")
    if trigger.used:
        raise SlackError("exchanged_trigger_id")
    if time.monotonic() - trigger.created > s.knobs.trigger_ttl_seconds:
        raise SlackError("expired_trigger_id")
    trigger.used = True
    return trigger.user


def block_elements(blocks: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Every interactive element of the blocks (accessories, inputs, actions), with its block_id."""
    found: list[tuple[str, dict[str, Any]]] = []
    for block in blocks:
        block_id = str(block.get("block_id", ""))
        for element in [block.get("accessory"), block.get("element"), *block.get("elements", [])]:
            if isinstance(element, dict) and element.get("action_id"):
                found.append((block_id, element))
    return found


def find_element(blocks: list[dict[str, Any]], action_id: str) -> tuple[str, dict[str, Any]]:
    for block_id, element in block_elements(blocks):
        if element["action_id"] == action_id:
            return block_id, element
    raise LookupError(f"no element with action_id {action_id!r}")


# --- views -----------------------------------------------------------------------------------------


def _view_hash() -> str:
    return f"{int(time.time())}.{secrets.token_hex(4)}"


def public_view(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if not k.startswith("_")}


def validated(raw: Any, kind: str) -> dict[str, Any]:
    """The view object, checked as Slack checks one; invalid_arguments with Slack's messages."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise SlackError("invalid_arguments", messages=["[ERROR] invalid json [json-pointer:/view]"]) from None
    if not isinstance(raw, dict):
        raise SlackError("invalid_arguments", messages=["[ERROR] missing required field: view"])
    if len(json.dumps(raw)) > VIEW_SIZE_MAX:
        raise SlackError("view_too_large")
    problems: list[str] = []
    if raw.get("type") != kind:
        problems.append(f"[ERROR] must be {kind} [json-pointer:/view/type]")
    blocks = raw.get("blocks")
    if not isinstance(blocks, list):
        problems.append("[ERROR] missing required field: blocks [json-pointer:/view]")
        blocks = []
    elif len(blocks) > VIEW_BLOCKS_MAX:
        problems.append(f"[ERROR] no more than {VIEW_BLOCKS_MAX} items allowed [json-pointer:/view/blocks]")
    if kind == "modal":
        if not isinstance(raw.get("title"), dict):
            problems.append("[ERROR] missing required field: title [json-pointer:/view]")
        for name in ("title", "submit", "close"):
            obj = raw.get(name)
            if obj is None:
                continue
            if not isinstance(obj, dict) or obj.get("type") != "plain_text":
                problems.append(f"[ERROR] must be a plain_text text object [json-pointer:/view/{name}]")
            elif len(str(obj.get("text", ""))) > VIEW_TEXT_MAX:
                problems.append(
                    f"[ERROR] must be less than {VIEW_TEXT_MAX + 1} characters [json-pointer:/view/{name}/text]"
                )
        if any(b.get("type") == "input" for b in blocks if isinstance(b, dict)) and not raw.get("submit"):
            problems.append("[ERROR] must provide a submit property when using input blocks [json-pointer:/view]")
    if len(str(raw.get("private_metadata", ""))) > PRIVATE_METADATA_MAX:
        problems.append(
            f"[ERROR] must be less than {PRIVATE_METADATA_MAX + 1} characters [json-pointer:/view/private_metadata]"
        )
    for name in ("callback_id", "external_id"):
        if len(str(raw.get(name, ""))) > CALLBACK_ID_MAX:
            problems.append(f"[ERROR] must be less than {CALLBACK_ID_MAX + 1} characters [json-pointer:/view/{name}]")
    if problems:
        raise SlackError("invalid_arguments", messages=problems)
    return raw


def store_view(
    s: SlackSandbox, user: str, raw: dict[str, Any], root: str | None = None, previous: str | None = None
) -> dict[str, Any]:
    """A new view, as Slack answers it (with id, hash and state), kept for `user`."""
    external_id = str(raw.get("external_id") or "")
    if external_id and any(v["external_id"] == external_id for v in s.ui.views.values()):
        raise SlackError("duplicate_external_id")
    view_id = f"V{uuid.uuid4().hex[:10].upper()}"
    # The workspace of the token that made it (`_token_team`: an org-wide install's organisation).
    view: dict[str, Any] = {"id": view_id, "team_id": s.ws.team_id}
    _fill_view(view, raw)
    view.update(
        previous_view_id=previous,
        root_view_id=root or view_id,
        app_id=s.ws.app_id,
        app_installed_team_id=s.ws.team_id,
        bot_id=s.bot_id,
        _user=user,
    )
    s.ui.views[view_id] = view
    return view


def _fill_view(view: dict[str, Any], raw: dict[str, Any]) -> None:
    view.update(
        type=raw["type"],
        title=raw.get("title"),
        close=raw.get("close"),
        submit=raw.get("submit"),
        blocks=raw.get("blocks", []),
        private_metadata=str(raw.get("private_metadata") or ""),
        callback_id=str(raw.get("callback_id") or ""),
        external_id=str(raw.get("external_id") or ""),
        state={"values": {}},
        hash=_view_hash(),
        clear_on_close=bool(raw.get("clear_on_close", False)),
        notify_on_close=bool(raw.get("notify_on_close", False)),
    )


def replace_view(view: dict[str, Any], raw: dict[str, Any]) -> None:
    """The view's new content, same id and external_id: entered values stay for inputs kept
    (same block_id and action_id), as Slack preserves them; errors shown are gone."""
    old_values = view.get("state", {}).get("values", {})
    external_id = view.get("external_id", "")
    _fill_view(view, raw)
    view["external_id"] = view["external_id"] or external_id  # a view keeps its external_id
    kept = {(b, e["action_id"]) for b, e in block_elements(view["blocks"])}
    view["state"] = {
        "values": {
            b: {a: v for a, v in actions.items() if (b, a) in kept}
            for b, actions in old_values.items()
            if any((b, a) in kept for a in actions)
        }
    }
    view.pop("_errors", None)


def views_open(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    raw = validated(p.get("view"), "modal")
    person = exchange_trigger(s, str(p.get("trigger_id")))
    view = store_view(s, person, raw)
    s.ui.modals[person] = [view["id"]]
    return {"view": public_view(view)}


def views_push(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    raw = validated(p.get("view"), "modal")
    person = exchange_trigger(s, str(p.get("trigger_id")))
    stack = s.ui.modals.setdefault(person, [])
    if len(stack) >= PUSH_LIMIT:
        raise SlackError("push_limit_reached")
    view = store_view(s, person, raw, root=stack[0] if stack else None, previous=stack[-1] if stack else None)
    stack.append(view["id"])
    return {"view": public_view(view)}


def views_update(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    view_id, external_id = p.get("view_id"), p.get("external_id")
    if bool(view_id) == bool(external_id):
        raise SlackError("invalid_arguments", messages=["[ERROR] exactly one of view_id or external_id"])
    if view_id:
        view = s.ui.views.get(str(view_id))
    else:
        view = next((v for v in s.ui.views.values() if v["external_id"] == external_id), None)
    if view is None:
        raise SlackError("not_found")
    raw = validated(p.get("view"), str(view["type"]))
    if p.get("hash") and p["hash"] != view["hash"]:
        raise SlackError("hash_conflict")
    replace_view(view, raw)
    return {"view": public_view(view)}


def views_publish(s: SlackSandbox, user: str, p: dict[str, Any]) -> dict[str, Any]:
    person = str(p.get("user_id", ""))
    # Slack's documented answer for a user_id that is not viable: nobody, a bot, or (as for every
    # method) someone of a workspace the token is not for (a workspace's own bot token reaches
    # its people; an org-wide install's, the people of its organisation's workspaces).
    if person not in s.ws.users or s.ws.users[person].get("is_bot") or not s.reaches_user(s.team_id, person):
        raise SlackError("invalid_arguments", messages=["invalid `user_id`"])
    raw = validated(p.get("view"), "home")
    current = s.ui.homes.get(person)
    if current is None:
        view = store_view(s, person, raw)
        s.ui.homes[person] = view["id"]
    else:
        view = s.ui.views[current]
        if p.get("hash") and p["hash"] != view["hash"]:
            raise SlackError("hash_conflict")
        replace_view(view, raw)
    # The view is of the person's workspace the token acts in; `_token_team`: whose token
    # published it (an org-wide install's: its organisation), as messages keep it.
    acting = s.team_id
    teams = s.teams_of_user(person)
    in_org = sorted(t for t in teams if s.team_info(t).get("enterprise_id") == acting)
    view.update(team_id=acting if acting in teams or not in_org else in_org[0], _token_team=acting)
    return {"view": public_view(view)}

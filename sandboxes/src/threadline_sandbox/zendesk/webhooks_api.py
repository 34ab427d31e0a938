"""The Webhooks API on /api/v2/webhooks, as
https://developer.zendesk.com/api-reference/webhooks/webhooks-api/webhooks/ documents it.

List (cursor pagination only, `filter[name_contains]`, `filter[status]`, `sort`), create (201),
show, update (PUT, 204), patch (PATCH, 204), delete (204), show and reset the signing secret,
and the invocations (each event sent, its retries as attempts) with their outcome.
Only admins may use it (agents get 403). Webhook ids are ULIDs, as Zendesk's are; the signing
secret is never part of the webhook object as the API returns it (it has its own endpoint), and
basic authentication shows only its username. Errors use the newer APIs' format
(`{"errors": [{"code", "title", "detail", "source": {"pointer"}}]}`, the `Errors` schema of
Zendesk's OpenAPI document); the codes are the sandbox's own wording.

A webhook subscribed to event types (`zen:event-type:ticket.comment_added`, ...) receives the
sandbox's events of those types while it is active, signed with its own secret and carrying its
own id in X-Zendesk-Webhook-Id (see `WebhookRegistry.targets`).
"""

from __future__ import annotations

import base64
import copy
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from threadline_sandbox.zendesk.model import ZendeskError, iso
from threadline_sandbox.zendesk.webhooks import Delivery, Target

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
REQUEST_FORMATS = ("json", "xml", "form_encoded")
STATUSES = ("active", "inactive")
CONDITIONAL = "conditional_ticket_events"  # connects the webhook to triggers and automations
EVENT_TYPE = re.compile(r"zen:event-type:[a-z_]+\.[a-z_.]+")
AUTH_TYPES = ("basic_auth", "bearer_token", "api_key")
ALGORITHM = "SHA256"
MAX_PAGE = 100
WRITABLE = (
    "name",
    "description",
    "endpoint",
    "http_method",
    "request_format",
    "status",
    "subscriptions",
    "authentication",
    "custom_headers",
    "external_source",
)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(now: float | None = None) -> str:
    """A ULID (48 bits of milliseconds, 80 random bits, Crockford base32), as Zendesk's ids are."""
    value = (int((now if now is not None else time.time()) * 1000) << 80) | int.from_bytes(os.urandom(10))
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -5, -5))


def new_secret() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def problem(status: int, code: str, title: str, detail: str, pointer: str | None = None) -> ZendeskError:
    error: dict[str, Any] = {"code": code, "title": title, "detail": detail}
    if pointer:
        error["source"] = {"pointer": pointer}
    return ZendeskError(status, {"errors": [error]})


def invalid(field_name: str, detail: str) -> ZendeskError:
    return problem(400, "InvalidValue", "Invalid attribute", detail, f"/webhook/{field_name}")


def missing(field_name: str) -> ZendeskError:
    return problem(
        400, "RequiredFieldMissing", "Missing required attribute", f"{field_name} is required", f"/webhook/{field_name}"
    )


def webhook_not_found(webhook_id: str) -> ZendeskError:
    return problem(404, "WebhookNotFound", "Webhook not found", f"No webhook with id {webhook_id}")


def forbidden() -> ZendeskError:
    return problem(403, "Forbidden", "Forbidden", "Only admins can manage webhooks")


def _check_url(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise missing("endpoint")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid("endpoint", f"endpoint must be an http(s) URL: {value!r}")
    return value.strip()


def _check_authentication(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") not in AUTH_TYPES:
        raise invalid("authentication", f"authentication.type must be one of {', '.join(AUTH_TYPES)}")
    if value.get("add_position", "header") != "header":
        raise invalid("authentication", "authentication.add_position must be header")
    data = value.get("data") or {}
    needed = {"basic_auth": ("username", "password"), "bearer_token": ("token",), "api_key": ("name", "value")}
    for key in needed[value["type"]]:
        if not isinstance(data.get(key), str) or not data[key]:
            raise invalid("authentication", f"authentication.data.{key} is required for {value['type']}")
    return {"type": value["type"], "add_position": "header", "data": {k: data[k] for k in needed[value["type"]]}}


def validate(data: dict[str, Any]) -> dict[str, Any]:
    """A complete webhook's writable fields, checked as Zendesk checks them."""
    for name in ("name", "endpoint", "http_method", "request_format", "status"):
        if data.get(name) in (None, ""):
            raise missing(name)
    if not isinstance(data["name"], str):
        raise invalid("name", "name must be a string")
    checked: dict[str, Any] = {"name": data["name"], "endpoint": _check_url(data["endpoint"])}
    for name, allowed in (("http_method", HTTP_METHODS), ("request_format", REQUEST_FORMATS), ("status", STATUSES)):
        if data[name] not in allowed:
            raise invalid(name, f"{name} must be one of {', '.join(allowed)}")
        checked[name] = data[name]
    subscriptions = data.get("subscriptions") or []
    if not isinstance(subscriptions, list) or not all(isinstance(s, str) for s in subscriptions):
        raise invalid("subscriptions", "subscriptions must be a list of strings")
    unknown = [s for s in subscriptions if s != CONDITIONAL and not EVENT_TYPE.fullmatch(s)]
    if unknown:
        raise invalid("subscriptions", f"unknown event type {unknown[0]!r}")
    events = [s for s in subscriptions if s != CONDITIONAL]
    if events and CONDITIONAL in subscriptions:
        raise invalid("subscriptions", f"{CONDITIONAL} cannot be combined with event types")
    if events and (checked["http_method"] != "POST" or checked["request_format"] != "json"):
        raise invalid("subscriptions", "a webhook subscribed to Zendesk events must use POST and json")
    checked["subscriptions"] = list(dict.fromkeys(subscriptions))
    checked["description"] = data.get("description") if isinstance(data.get("description"), str) else None
    checked["authentication"] = _check_authentication(data.get("authentication"))
    headers = data.get("custom_headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise invalid("custom_headers", "custom_headers must map header names to strings")
    checked["custom_headers"] = dict(headers)
    source = data.get("external_source")
    checked["external_source"] = source if isinstance(source, dict) else None
    return checked


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7386 JSON merge patch: null removes a key, objects merge, anything else replaces."""
    merged = copy.deepcopy(target)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_patch(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def cursor_page(items: list[dict[str, Any]], key: str, params: dict[str, str], url: str) -> dict[str, Any]:
    """Cursor pagination as the newer APIs do it (page[size], page[after], page[before]; meta and
    links), the cursor naming the id of the item it points after or before."""
    try:
        size = max(1, min(int(params.get("page[size]") or MAX_PAGE), MAX_PAGE))
    except ValueError as exc:
        raise problem(400, "InvalidValue", "Invalid page size", "page[size] must be an integer") from exc
    ids = [str(i["id"]) for i in items]

    def position(cursor: str) -> int:
        try:
            return ids.index(base64.urlsafe_b64decode(cursor.encode()).decode())
        except (ValueError, UnicodeDecodeError) as exc:
            raise problem(400, "InvalidPaginationParameter", "Invalid cursor", "invalid cursor") from exc

    after, before = params.get("page[after]"), params.get("page[before]")
    if after and before:
        raise problem(
            400, "InvalidPaginationParameter", "Invalid cursor", "page[after] and page[before] exclude each other"
        )
    if after:
        start = position(after) + 1
        stop = min(len(items), start + size)
    elif before:
        stop = position(before)
        start = max(0, stop - size)
    else:
        start, stop = 0, min(len(items), size)
    chunk = items[start:stop]

    def cursor(index: int) -> str:
        return base64.urlsafe_b64encode(ids[index].encode()).decode()

    first, last = (cursor(start), cursor(stop - 1)) if chunk else (None, None)
    kept = {k: v for k, v in params.items() if not k.startswith("page[")}

    def link(name: str, value: str | None, more: bool) -> str | None:
        return f"{url}?{urlencode({**kept, name: value, 'page[size]': size})}" if value and more else None

    return {
        key: copy.deepcopy(chunk),
        "meta": {"has_more": stop < len(items), "after_cursor": last, "before_cursor": first},
        "links": {"next": link("page[after]", last, stop < len(items)), "prev": link("page[before]", first, start > 0)},
    }


def attempt_status(delivery: Delivery) -> str:
    """An attempt's outcome in the words of Zendesk's invocation statuses."""
    if delivery.ok:
        return "success"
    if delivery.status is None:
        return "timeout" if "Timeout" in (delivery.error or "") else "failed"
    if delivery.status == 429:
        return "throttled"
    return "client error" if delivery.status < 500 else "server error"


def attempt_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": f"{delivery.invocation_id}-{delivery.attempt}",
        "invocation_id": delivery.invocation_id,
        "completed_at": iso(delivery.at),
        "status": attempt_status(delivery),
        "status_code": delivery.status,
    }


def invocation_json(attempts: list[Delivery]) -> dict[str, Any]:
    last = attempts[-1]
    return {
        "id": last.invocation_id,
        "latest_completed_at": iso(last.at),
        "status": attempt_status(last),
        "status_code": last.status,
        "event_type": last.type,
        "attempts_count": len(attempts),
    }


@dataclass
class StoredWebhook:
    data: dict[str, Any]  # the webhook as the API returns it (no secret)
    secret: str
    full_auth: dict[str, Any] | None  # the authentication with its secrets, for deliveries


class WebhookRegistry:
    """The account's webhooks. Every method runs under the sandbox's lock."""

    def __init__(self, deliveries: Callable[[], list[Delivery]] = list) -> None:
        self.webhooks: dict[str, StoredWebhook] = {}
        self._deliveries = deliveries  # every attempt the sandbox made, for the invocations

    # --- the API ---------------------------------------------------------------------------------

    def page(self, params: dict[str, str], base: str) -> dict[str, Any]:
        items = [w.data for w in self.webhooks.values()]
        contains = params.get("filter[name_contains]")
        if contains:
            items = [w for w in items if contains.lower() in w["name"].lower()]
        status = params.get("filter[status]")
        if status:
            if status not in STATUSES:
                raise problem(400, "InvalidValue", "Invalid filter", "filter[status] must be active or inactive")
            items = [w for w in items if w["status"] == status]
        sort = params.get("sort")
        if sort:
            if sort.lstrip("-") not in ("name", "status"):
                raise problem(400, "InvalidValue", "Invalid sort", "sort supports only name and status")
            items.sort(key=lambda w: str(w[sort.lstrip("-")]), reverse=sort.startswith("-"))
        return cursor_page(items, "webhooks", params, f"{base}/api/v2/webhooks")

    def invocations(self, webhook_id: str, params: dict[str, str], base: str) -> dict[str, Any]:
        """The webhook's invocations (an event sent, with its retries), newest first by default."""
        self._get(webhook_id)
        attempts: dict[str, list[Delivery]] = {}
        for delivery in self._deliveries():
            if delivery.webhook_id == webhook_id:
                attempts.setdefault(delivery.invocation_id, []).append(delivery)
        sort = params.get("sort") or "-latest_completed_at"
        if sort.lstrip("-") != "latest_completed_at":
            raise problem(400, "InvalidValue", "Invalid sort", "sort supports only latest_completed_at")
        ordered = sorted(attempts.values(), key=lambda tries: tries[-1].at, reverse=sort.startswith("-"))
        items = [invocation_json(tries) for tries in ordered]
        status = params.get("filter[status]")
        if status:
            items = [i for i in items if i["status"] == status]
        return cursor_page(items, "invocations", params, f"{base}/api/v2/webhooks/{webhook_id}/invocations")

    def attempts(self, webhook_id: str, invocation_id: str) -> dict[str, Any]:
        self._get(webhook_id)
        tries = [d for d in self._deliveries() if d.webhook_id == webhook_id and d.invocation_id == invocation_id]
        if not tries:
            raise problem(404, "InvocationNotFound", "Invocation not found", f"No invocation with id {invocation_id}")
        return {"attempts": [attempt_json(d) for d in tries]}

    def create(self, body: dict[str, Any], user_id: int, now: float) -> dict[str, Any]:
        data = body.get("webhook")
        if not isinstance(data, dict):
            raise missing("webhook")
        checked = validate(data)
        secret = new_secret()
        given = data.get("signing_secret")
        if isinstance(given, dict) and given.get("secret"):
            if str(given.get("algorithm", ALGORITHM)).upper() != ALGORITHM:
                raise invalid("signing_secret", f"signing_secret.algorithm must be {ALGORITHM}")
            secret = str(given["secret"])
        webhook_id = ulid(now)
        stamp = {"created_at": iso(now), "created_by": str(user_id), "updated_at": iso(now), "updated_by": str(user_id)}
        stored = StoredWebhook({"id": webhook_id, **stamp}, secret, None)
        self._apply(stored, checked)
        self.webhooks[webhook_id] = stored
        return {"webhook": copy.deepcopy(stored.data)}

    def show(self, webhook_id: str) -> dict[str, Any]:
        return {"webhook": copy.deepcopy(self._get(webhook_id).data)}

    def update(self, webhook_id: str, body: dict[str, Any], user_id: int, now: float) -> None:
        stored = self._get(webhook_id)
        data = body.get("webhook")
        if not isinstance(data, dict):
            raise missing("webhook")
        if "signing_secret" in data:
            raise invalid("signing_secret", "signing_secret cannot be set when updating a webhook")
        self._apply(stored, validate(data), user_id, now)

    def patch(self, webhook_id: str, body: dict[str, Any], user_id: int, now: float) -> None:
        stored = self._get(webhook_id)
        data = body.get("webhook")
        if not isinstance(data, dict):
            raise missing("webhook")
        if "signing_secret" in data:
            raise invalid("signing_secret", "signing_secret cannot be set when patching a webhook")
        current = {k: v for k, v in stored.data.items() if k in WRITABLE}
        if stored.full_auth is not None:
            current["authentication"] = stored.full_auth
        self._apply(stored, validate(merge_patch(current, data)), user_id, now)

    def delete(self, webhook_id: str) -> None:
        self._get(webhook_id)
        del self.webhooks[webhook_id]

    def signing_secret(self, webhook_id: str, reset: bool = False) -> dict[str, Any]:
        stored = self._get(webhook_id)
        if reset:
            stored.secret = new_secret()
        return {"signing_secret": {"algorithm": ALGORITHM, "secret": stored.secret}}

    # --- deliveries --------------------------------------------------------------------------------

    def targets(self, event_type: str) -> list[Target]:
        """The active webhooks subscribed to this event type, oldest first."""
        found = []
        for stored in self.webhooks.values():
            data = stored.data
            if data["status"] != "active" or event_type not in data["subscriptions"]:
                continue
            found.append(Target(data["endpoint"], stored.secret, data["id"], tuple(self._headers(stored))))
        return found

    # --- internals -----------------------------------------------------------------------------

    def _get(self, webhook_id: str) -> StoredWebhook:
        stored = self.webhooks.get(webhook_id)
        if stored is None:
            raise webhook_not_found(webhook_id)
        return stored

    def _apply(
        self, stored: StoredWebhook, checked: dict[str, Any], user_id: int | None = None, now: float | None = None
    ) -> None:
        auth = checked.pop("authentication")
        stored.full_auth = auth
        kept = {k: stored.data[k] for k in ("id", "created_at", "created_by", "updated_at", "updated_by")}
        if user_id is not None and now is not None:
            kept.update(updated_at=iso(now), updated_by=str(user_id))
        shown = {k: v for k, v in checked.items() if v not in (None, {})}
        if auth is not None:  # only the basic auth username is ever shown
            visible = {"username": auth["data"]["username"]} if auth["type"] == "basic_auth" else {}
            shown["authentication"] = {"type": auth["type"], "add_position": "header", "data": visible}
        stored.data = {**kept, **shown}

    @staticmethod
    def _headers(stored: StoredWebhook) -> list[tuple[str, str]]:
        headers = [(str(k).lower(), v) for k, v in (stored.data.get("custom_headers") or {}).items()]
        auth = stored.full_auth
        if auth is None:
            return headers
        data = auth["data"]
        if auth["type"] == "basic_auth":
            token = base64.b64encode(f"{data['username']}:{data['password']}".encode()).decode()
            headers.append(("authorization", f"Basic {token}"))
        elif auth["type"] == "bearer_token":
            headers.append(("authorization", f"Bearer {data['token']}"))
        else:
            headers.append((str(data["name"]).lower(), str(data["value"])))
        return headers

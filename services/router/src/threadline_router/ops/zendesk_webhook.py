"""The Zendesk webhook Threadline needs, shared by `setup-zendesk` (which makes it so) and
`doctor` (which checks it): its endpoint, the event types it must send, how a webhook found in
Zendesk falls short of that (pure), and Zendesk's errors as one line each."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from zenpy import Zenpy
from zenpy.lib.api_objects import Webhook
from zenpy.lib.exception import APIException, ZenpyException

from threadline_router.inbound.zendesk import EVENT_TYPES
from threadline_router.ops.env import UsageError
from threadline_router.ops.kafka_io import OpsError

# ingest publishes every zen:event-type:* body it receives; the router decides these (the others
# it ignores), so these are the subscriptions the webhook needs, no more.
NEEDED_EVENTS: tuple[str, ...] = tuple(EVENT_TYPES)
WEBHOOK_PATH = "/zendesk/webhook"  # ingest's route for Zendesk (threadline_ingest.routes.zendesk_webhook)
CONDITIONAL = "conditional_ticket_events"  # a webhook for triggers and automations, not for events
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def endpoint_for(url: str | None, argument: str = "--url") -> str:
    """Ingest's webhook URL under its public address. https only, except on this machine (the
    devstack and the sandboxes): Zendesk sends ticket contents there."""
    text = (url or "").strip().rstrip("/")
    parts = urlsplit(text)
    if not text or not parts.hostname or parts.scheme not in ("https", "http"):
        raise UsageError(
            argument, f"ingest's public https:// address is needed, e.g. https://threadline.acme.example (got {url!r})"
        )
    if parts.scheme != "https" and parts.hostname not in LOCAL_HOSTS:
        raise UsageError(argument, f"Zendesk must reach ingest over https, not {parts.scheme}:// ({text})")
    if parts.query or parts.fragment:
        raise UsageError(argument, f"give ingest's address without query or fragment: {text}")
    return text.removesuffix(WEBHOOK_PATH) + WEBHOOK_PATH


def short(event_type: str) -> str:
    return event_type.removeprefix("zen:event-type:")


def shortfalls(webhook: Webhook) -> list[str]:
    """What keeps this webhook from sending Threadline the events it needs (empty: nothing)."""
    found = []
    if webhook.status != "active":
        found.append(f"it is {webhook.status}")
    subscribed = set(webhook.subscriptions or ())
    missing = [short(e) for e in NEEDED_EVENTS if e not in subscribed]
    if missing:
        found.append(f"it is not subscribed to {', '.join(missing)}")
    if webhook.http_method != "POST" or webhook.request_format != "json":
        found.append(f"it sends {webhook.http_method} {webhook.request_format}, not POST json")
    return found


def same_endpoint(webhook: Webhook, endpoint: str) -> bool:
    return str(webhook.endpoint or "").rstrip("/") == endpoint.rstrip("/")


def event_webhooks_to(zen: Zenpy, endpoint: str, subdomain: str) -> tuple[list[Webhook], list[Webhook]]:
    """(event webhooks, trigger webhooks) that send to `endpoint`, oldest first."""
    try:
        hooks = [w for w in zen.webhooks.list() if same_endpoint(w, endpoint)]
    except (APIException, ZenpyException, OSError) as exc:
        raise zendesk_error(exc, "list its webhooks", subdomain) from exc
    hooks.sort(key=lambda w: str(w.created_at or ""))
    triggers = [w for w in hooks if CONDITIONAL in (w.subscriptions or ())]
    return [w for w in hooks if w not in triggers], triggers


def status_of(exc: BaseException) -> int | None:
    response: Any = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def detail_of(exc: BaseException) -> str:
    """Zendesk's own words: the newer APIs' errors[].detail, the older ones' error/description."""
    response: Any = getattr(exc, "response", None)
    try:
        body = response.json() if response is not None else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            return str(first.get("detail") or first.get("title") or first.get("code"))
        description = body.get("description") or body.get("error")
        if description:
            return str(description if isinstance(description, str) else body)
    return str(exc)[:200]


def zendesk_error(exc: BaseException, what: str, subdomain: str) -> OpsError:
    status = status_of(exc)
    if status == 401:
        return OpsError(
            f"Zendesk ({subdomain}) refused the credentials (401 {detail_of(exc)}): check "
            "THREADLINE_OPS_ZENDESK_EMAIL and _ZENDESK_API_TOKEN (or _ZENDESK_OAUTH_TOKEN)"
        )
    if status == 403:
        return OpsError(
            f"Zendesk ({subdomain}) does not let this user {what} (403 {detail_of(exc)}): use an admin's credentials"
        )
    if status is None:
        return OpsError(f"cannot reach Zendesk ({subdomain}) to {what}: {str(exc)[:200]}")
    return OpsError(f"Zendesk ({subdomain}) answered {status} to {what}: {detail_of(exc)}")


def whoami(zen: Zenpy, subdomain: str) -> Any:
    """The user the credentials belong to; an OpsError naming the problem when they are not valid."""
    try:
        me = zen.users.me()
    except (APIException, ZenpyException, OSError) as exc:
        raise zendesk_error(exc, "read users/me", subdomain) from exc
    if me is None or not getattr(me, "id", None):  # Zendesk answers an anonymous user to bad credentials
        raise OpsError(f"Zendesk ({subdomain}) did not recognise the credentials: check THREADLINE_OPS_ZENDESK_*")
    return me

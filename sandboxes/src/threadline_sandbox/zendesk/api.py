"""The REST API v2 subset on /api/v2, as the unmodified zenpy client calls it.

Authentication (API token `{email}/token:{token}` or OAuth bearer), the account's rate limit
(X-Rate-Limit headers on every response, 429 + Retry-After over it), injected faults, cursor
and offset pagination, `Idempotency-Key` on ticket creation, and Zendesk's JSON error bodies.
Handlers run under the sandbox's lock; `after_change` then turns the action's events into
webhooks, so webhooks leave in the order things happened.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import html
import json
import math
import random
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from threadline_sandbox.zendesk import help_center
from threadline_sandbox.zendesk.knobs import Knobs
from threadline_sandbox.zendesk.model import (
    STAFF_ROLES,
    Account,
    Actor,
    ZendeskError,
    decode_cursor,
    encode_cursor,
    not_found,
    record_invalid,
)
from threadline_sandbox.zendesk.webhooks_api import WebhookRegistry, forbidden

UNAUTHENTICATED = {"error": "Couldn't authenticate you"}
# Over the account's limit Zendesk answers 429 with this sentence as a text/plain body (not JSON).
RATE_LIMITED = "Number of allowed API requests per minute exceeded"
# The incremental export endpoints have a limit of their own (10 a minute), and say so in JSON.
INCREMENTAL_RATE_LIMITED = {
    "error": "APIRateLimitExceeded",
    "description": "Number of allowed incremental export API requests per minute exceeded",
}
INCREMENTAL_PATHS = ("/api/v2/incremental/",)
IDEMPOTENCY_MISMATCH = "Request parameters don't match the original request for this idempotency key"
MAX_PAGE = 100
MAX_MANY = 100  # create_many and show_many take at most this many values
MAX_EXPORT_PAGE = 1000

Result = tuple[int, Any, dict[str, str]]


class JsonResponse(JSONResponse):
    media_type = "application/json; charset=utf-8"


class RateLimited(Exception):
    """A 429: the body as Zendesk words it for this limit (plain text or JSON), and when to retry."""

    def __init__(self, body: str | dict[str, Any], retry_after: float) -> None:
        super().__init__(body)
        self.body, self.retry_after = body, retry_after

    def response(self, headers: dict[str, str]) -> Response:
        headers = {**headers, "retry-after": str(max(1, math.ceil(self.retry_after)))}
        if isinstance(self.body, dict):
            return JsonResponse(self.body, status_code=429, headers=headers)
        return Response(self.body, status_code=429, headers=headers, media_type="text/plain")


@dataclass
class Call:
    request: Request
    user: dict[str, Any]
    body: bytes

    @property
    def actor(self) -> Actor:
        return Actor(int(self.user["id"]), "api", self.request.headers.get("user-agent") or "sandbox")

    @property
    def base(self) -> str:
        """Links point where the client called, so zenpy recognises them as its own."""
        return str(self.request.base_url).rstrip("/")

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError as exc:
            raise ZendeskError(400, {"error": "InvalidJSON", "description": "The request body is not JSON"}) from exc
        return data if isinstance(data, dict) else {}

    def param(self, name: str) -> str | None:
        return self.request.query_params.get(name)


class RateLimiter:
    """Zendesk's per-account limit: a sliding window of requests."""

    def __init__(self) -> None:
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def take(self, limit: int, window: float, now: float) -> tuple[bool, int, float]:
        """(allowed, remaining, seconds until the oldest counted request leaves the window)."""
        with self._lock:
            while self._calls and now - self._calls[0] >= window:
                self._calls.popleft()
            if len(self._calls) >= limit:
                return False, 0, window - (now - self._calls[0])
            self._calls.append(now)
            return True, limit - len(self._calls), window - (now - self._calls[0])


@dataclass
class Remembered:
    fingerprint: str
    status: int
    body: Any
    location: str
    at: float


def fingerprint(user_id: int, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body or b"{}"), sort_keys=True).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(str(user_id).encode() + b"\0" + canonical).hexdigest()


def _int(value: str | None, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ZendeskError(400, {"error": "InvalidValue", "description": f"{name} must be an integer"}) from exc


def _ids(value: str | None) -> list[int]:
    return [int(v) for v in (value or "").split(",") if v.strip().isdigit()]


def too_many_values() -> ZendeskError:
    # Zendesk's wording, recorded (the parameter's name is left out, hence the double space).
    return ZendeskError(
        400,
        {
            "error": "TooManyValues",
            "description": f"Parameter  cannot specify more than {MAX_MANY} values",
            "max_count": MAX_MANY,
        },
    )


def _many_ids(value: str | None) -> list[int]:
    """The ids of a show_many call: at most MAX_MANY of them."""
    ids = _ids(value)
    if len(ids) > MAX_MANY:
        raise too_many_values()
    return ids


def paginate(call: Call, items: list[dict[str, Any]], key: str, path: str) -> dict[str, Any]:
    """Cursor pagination when the client asks for it (`page[size]`), else offset pagination.
    Cursors name the id of the item they point after (or before), in the list's order."""
    params = dict(call.request.query_params)
    if any(k.startswith("page[") for k in params):
        size = max(1, min(_int(params.pop("page[size]", None), MAX_PAGE, "page[size]"), MAX_PAGE))
        after, before = params.pop("page[after]", None), params.pop("page[before]", None)
        start, stop = 0, len(items)
        if after is not None:
            start = _position(items, after) + 1
            stop = min(len(items), start + size)
        elif before is not None:
            stop = _position(items, before)
            start = max(0, stop - size)
        else:
            stop = min(len(items), size)
        chunk = items[start:stop]
        more = stop < len(items) if before is None else start > 0
        first = encode_cursor(str(chunk[0]["id"])) if chunk else None
        last = encode_cursor(str(chunk[-1]["id"])) if chunk else None

        def link(name: str, cursor: str | None) -> str | None:
            query = urlencode({**params, name: cursor, "page[size]": size})
            return f"{call.base}{path}?{query}" if cursor else None

        return {
            key: chunk,
            "meta": {"has_more": more, "after_cursor": last, "before_cursor": first},
            "links": {"prev": link("page[before]", first), "next": link("page[after]", last)},
        }
    per_page = max(1, min(_int(params.get("per_page"), MAX_PAGE, "per_page"), MAX_PAGE))
    page = max(1, _int(params.get("page"), 1, "page"))
    chunk = items[(page - 1) * per_page : page * per_page]

    def page_link(number: int) -> str:
        return f"{call.base}{path}?{urlencode({**params, 'page': number, 'per_page': per_page})}"

    return {
        key: chunk,
        "next_page": page_link(page + 1) if page * per_page < len(items) else None,
        "previous_page": page_link(page - 1) if page > 1 else None,
        "count": len(items),
    }


def _position(items: list[dict[str, Any]], cursor: str) -> int:
    bound = _int(decode_cursor(cursor), 0, "cursor")
    for index, item in enumerate(items):
        if item["id"] == bound:
            return index
    raise ZendeskError(400, {"error": "InvalidPaginationParameter", "description": "invalid cursor"})


class ZendeskApi:
    def __init__(
        self,
        account: Account,
        knobs: Knobs,
        lock: threading.RLock,
        after_change: Callable[[], None],
        webhooks: WebhookRegistry | None = None,
    ) -> None:
        self.account, self.knobs, self.lock, self.after_change = account, knobs, lock, after_change
        self.webhooks = webhooks or WebhookRegistry()
        self.limiter = RateLimiter()
        self.incremental_limiter = RateLimiter()
        self.idempotency: dict[str, Remembered] = {}
        # Every API request as Zendesk would count it against the account: (monotonic time, status).
        self.request_log: deque[tuple[float, int]] = deque(maxlen=1_000_000)

    def routes(self) -> list[BaseRoute]:
        api = [
            ("/tickets.json", self.tickets, ["GET", "POST"]),
            ("/tickets/create_many.json", self.tickets_create_many, ["POST"]),
            ("/tickets/show_many.json", self.tickets_show_many, ["GET"]),
            ("/tickets/{id:int}.json", self.ticket, ["GET", "PUT"]),
            ("/tickets/{id:int}/comments.json", self.ticket_comments, ["GET"]),
            ("/tickets/{id:int}/audits.json", self.ticket_audits, ["GET"]),
            ("/job_statuses/{id}.json", self.job_status, ["GET"]),
            ("/search.json", self.search, ["GET"]),
            ("/users.json", self.users, ["GET", "POST"]),
            ("/users/me.json", self.users_me, ["GET"]),
            ("/users/create_or_update.json", self.users_create_or_update, ["POST"]),
            ("/users/search.json", self.users_search, ["GET"]),
            ("/users/show_many.json", self.users_show_many, ["GET"]),
            ("/users/{id:int}.json", self.user, ["GET"]),
            ("/uploads.json", self.uploads, ["POST"]),
            ("/uploads/{token}.json", self.upload_delete, ["DELETE"]),
            ("/attachments/{id:int}.json", self.attachment, ["GET"]),
            ("/groups.json", self.groups, ["GET"]),
            ("/groups/{id:int}.json", self.group, ["GET"]),
            ("/brands.json", self.brands, ["GET"]),
            ("/ticket_fields.json", self.ticket_fields, ["GET"]),
            ("/ticket_fields/{id:int}.json", self.ticket_field, ["GET"]),
            ("/ticket_forms.json", self.ticket_forms, ["GET"]),
            ("/ticket_forms/{id:int}.json", self.ticket_form, ["GET"]),
            ("/brands/{id:int}.json", self.brand, ["GET"]),
            ("/incremental/tickets.json", self.incremental_tickets, ["GET"]),
            ("/incremental/tickets/cursor.json", self.incremental_cursor, ["GET"]),
            ("/webhooks", self.webhook_list, ["GET", "POST"]),
            ("/webhooks/{id}", self.webhook, ["GET", "PUT", "PATCH", "DELETE"]),
            ("/webhooks/{id}/signing_secret", self.webhook_secret, ["GET", "POST"]),
            ("/webhooks/{id}/invocations", self.webhook_invocations, ["GET"]),
            ("/webhooks/{id}/invocations/{invocation}/attempts", self.webhook_attempts, ["GET"]),
        ]
        # Zendesk Guide: each path with and without its locale and its ".json" (both are served).
        guide = [
            ("/articles/search", self.hc_search, ["GET"]),
            ("/articles", self.hc_articles, ["GET"]),
            ("/articles/{ref}", self.hc_article, ["GET"]),
            ("/sections/{id:int}/articles", self.hc_create_article, ["POST"]),
            ("/sections", self.hc_sections, ["GET"]),
            ("/categories", self.hc_categories, ["GET"]),
        ]
        for prefix in ("/help_center", "/help_center/{locale}"):
            for path, handler, methods in guide:
                for suffix in (".json", ""):
                    api.append((f"{prefix}{path}{suffix}", handler, methods))
        # `{ref}` above takes "123-Slug.json" whole: the id is its leading digits.
        routes: list[BaseRoute] = [
            Route(f"/api/v2{path}", self._endpoint(handler), methods=methods) for path, handler, methods in api
        ]
        routes.append(Route("/attachments/token/{token}/", self.file_content, methods=["GET"]))
        routes.append(Route("/hc/{locale}/articles/{ref}", self.hc_page, methods=["GET"]))
        routes.append(
            Route(
                "/api/v2/{rest:path}",
                self._endpoint(self.unknown),
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            )
        )
        return routes

    def app(self, extra_routes: list[BaseRoute]) -> Starlette:
        return Starlette(routes=[*extra_routes, *self.routes()])

    # --- the pipeline every API request goes through -------------------------------------------

    def _endpoint(self, handler: Callable[[Call], Result]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            response = await answer(request)
            self.request_log.append((time.monotonic(), response.status_code))
            return response

        async def answer(request: Request) -> Response:
            headers = {"x-zendesk-api-version": "v2", "x-request-id": uuid.uuid4().hex[:16].upper()}
            knobs = self.knobs
            if knobs.latency_seconds > 0:
                await asyncio.sleep(knobs.latency_seconds)
            limit, window = max(1, knobs.rate_limit_per_minute), knobs.rate_limit_window_seconds
            allowed, remaining, reset = self.limiter.take(limit, window, time.monotonic())
            headers.update(
                {
                    "x-rate-limit": str(limit),
                    "x-rate-limit-remaining": str(remaining),
                    "ratelimit-limit": str(limit),
                    "ratelimit-remaining": str(remaining),
                    "ratelimit-reset": str(max(1, math.ceil(reset))),
                }
            )
            try:
                if not allowed:
                    raise RateLimited(RATE_LIMITED, reset)
                self._incremental_limit(request)
                user = self._authenticate(request)
                failing = knobs.error_rate > 0 and random.random() < knobs.error_rate
                if failing and not knobs.errors_after_commit:
                    raise self._injected_error()
                call = Call(request, user, await request.body())
                with self.lock:
                    self.account.close_due_tickets(knobs.close_solved_after_seconds)
                    try:
                        status, payload, extra = handler(call)
                    finally:
                        self.after_change()
                if failing:
                    raise self._injected_error()
                if status == 204:
                    return Response(status_code=204, headers={**headers, **extra})
                return JsonResponse(payload, status_code=status, headers={**headers, **extra})
            except RateLimited as exc:
                return exc.response(headers)
            except ZendeskError as exc:
                return JsonResponse(exc.body, status_code=exc.status, headers={**headers, **exc.headers})

        return endpoint

    def _incremental_limit(self, request: Request) -> None:
        """The incremental export endpoints' own limit, counted apart from the account's."""
        if not request.url.path.startswith(INCREMENTAL_PATHS):
            return
        limit = max(1, self.knobs.incremental_rate_limit_per_minute)
        window = self.knobs.rate_limit_window_seconds
        allowed, _, reset = self.incremental_limiter.take(limit, window, time.monotonic())
        if not allowed:
            raise RateLimited(dict(INCREMENTAL_RATE_LIMITED), reset)

    def _injected_error(self) -> ZendeskError:
        if self.knobs.error_status == 500:
            return ZendeskError(500, {"error": "InternalServerError", "description": "Something went wrong"})
        if self.knobs.error_status == 403:  # e.g. the API token lost its agent's permissions
            return ZendeskError(403, {"error": "Forbidden", "description": "You do not have access to this page"})
        return ZendeskError(
            self.knobs.error_status,
            {"error": "ServiceUnavailable", "description": "Zendesk is temporarily unavailable"},
            {"retry-after": "1"},
        )

    def _authenticate(self, request: Request) -> dict[str, Any]:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        user_id: int | None = None
        if scheme.lower() == "bearer":
            user_id = self.account.oauth_tokens.get(credentials.strip())
        elif scheme.lower() == "basic":
            try:
                login, _, secret = base64.b64decode(credentials).decode().partition(":")
            except (ValueError, binascii.Error, UnicodeDecodeError):
                login, secret = "", ""
            email, _, kind = login.partition("/")
            user = self.account.find_user(email=email) if kind == "token" else None
            if user is not None and secret in self.account.seed.api_tokens and user["role"] in STAFF_ROLES:
                user_id = int(user["id"])
        user = self.account.users.get(user_id) if user_id is not None else None
        if user is None or not user.get("active", True):
            raise ZendeskError(401, dict(UNAUTHENTICATED), {"www-authenticate": 'Basic realm="Web Password"'})
        return user

    # --- tickets -------------------------------------------------------------------------------

    def tickets(self, call: Call) -> Result:
        if call.request.method == "POST":
            return self._create_ticket(call)
        items = [r.data for r in self.account.visible_tickets()]
        external_id = call.param("external_id")
        if external_id is not None:
            items = [t for t in items if t["external_id"] == external_id]
        return 200, paginate(call, items, "tickets", "/api/v2/tickets.json"), {}

    def _create_ticket(self, call: Call) -> Result:
        key = call.request.headers.get("idempotency-key")
        now = time.monotonic()
        if key:
            ttl = self.knobs.idempotency_ttl_seconds
            self.idempotency = {k: v for k, v in self.idempotency.items() if now - v.at < ttl}
            seen = self.idempotency.get(key)
            if seen is not None:
                if seen.fingerprint != fingerprint(call.user["id"], call.body):
                    raise ZendeskError(
                        400,
                        {"error": "IdempotentRequestError", "description": IDEMPOTENCY_MISMATCH},
                    )
                return seen.status, seen.body, {"x-idempotency-lookup": "hit", "location": seen.location}
        ticket, audit = self.account.create_ticket(call.json().get("ticket") or {}, call.actor)
        body = {"ticket": ticket, "audit": audit}
        headers = {"location": ticket["url"]}
        if key:
            self.idempotency[key] = Remembered(fingerprint(call.user["id"], call.body), 201, body, ticket["url"], now)
            headers["x-idempotency-lookup"] = "miss"
        return 201, body, headers

    def tickets_create_many(self, call: Call) -> Result:
        created: list[dict[str, Any]] = []
        account_id = self.account.seed.account_id
        wanted = call.json().get("tickets") or []
        if len(wanted) > MAX_MANY:
            raise too_many_values()
        for index, data in enumerate(wanted):
            try:
                ticket_id = self.account.create_ticket(data, call.actor)[0]["id"]
                created.append({"index": index, "id": ticket_id, "account_id": account_id})
            except ZendeskError as exc:
                created.append({"index": index, "error": exc.body.get("error"), "details": exc.body.get("details")})
        job_id = uuid.uuid4().hex.upper()
        job = {
            "id": job_id,
            "url": f"{call.base}/api/v2/job_statuses/{job_id}.json",
            "total": len(created),
            "progress": len(created),
            "status": "completed",
            "message": "Completed at " + time.strftime("%Y-%m-%d %H:%M:%S +0000", time.gmtime()),
            "results": created,
        }
        self.account.jobs[job_id] = job
        # Zendesk answers before the job runs; the client polls the job status for the results.
        return 200, {"job_status": {**job, "status": "queued", "progress": None, "message": None, "results": None}}, {}

    def job_status(self, call: Call) -> Result:
        job = self.account.jobs.get(call.request.path_params["id"])
        if job is None:
            raise not_found()
        return 200, {"job_status": job}, {}

    def tickets_show_many(self, call: Call) -> Result:
        wanted = set(_many_ids(call.param("ids")))
        items = [r.data for r in self.account.visible_tickets() if r.data["id"] in wanted]
        return 200, paginate(call, items, "tickets", "/api/v2/tickets/show_many.json"), {}

    def ticket(self, call: Call) -> Result:
        ticket_id = int(call.request.path_params["id"])
        if call.request.method == "GET":
            return 200, {"ticket": self.account.ticket(ticket_id).data}, {}
        data = call.json().get("ticket") or {}
        ticket, audit = self.account.update_ticket(ticket_id, data, call.actor)
        headers = {}
        if "id" in data:  # zenpy sends the id in the body; Zendesk warns and ignores it
            headers["x-zendesk-api-warn"] = (
                '{:allowed_parameters=>{:controller=>"tickets", :action=>"update", '
                ':unpermitted_keys=>["ticket.id"], :invalid_values=>[]}}'
            )
        return 200, {"ticket": ticket, "audit": audit}, headers

    def ticket_comments(self, call: Call) -> Result:
        ticket_id = int(call.request.path_params["id"])
        comments = list(self.account.ticket(ticket_id).comments)
        if call.param("sort_order") == "desc" or call.param("sort") == "-created_at":
            comments.reverse()
        return 200, paginate(call, comments, "comments", f"/api/v2/tickets/{ticket_id}/comments.json"), {}

    def ticket_audits(self, call: Call) -> Result:
        ticket_id = int(call.request.path_params["id"])
        audits = self.account.ticket(ticket_id).audits
        return 200, paginate(call, audits, "audits", f"/api/v2/tickets/{ticket_id}/audits.json"), {}

    # --- search --------------------------------------------------------------------------------

    def search(self, call: Call) -> Result:
        query = call.param("query") or ""
        if not query.strip():
            raise ZendeskError(400, {"error": "invalid", "description": "Query is required"})
        indexed_before = self.account.now() - self.knobs.search_index_delay_seconds
        found = self.account.search(query, indexed_before)
        if call.param("sort_by") in ("created_at", "updated_at"):
            field_name = str(call.param("sort_by"))
            found.sort(key=lambda r: str(r[1].get(field_name)), reverse=call.param("sort_order") != "asc")
        items = [{**obj, "result_type": kind} for kind, obj in found]
        page = paginate(call, items, "results", "/api/v2/search.json")
        page["facets"] = None
        return 200, page, {}

    # --- users ---------------------------------------------------------------------------------

    def users(self, call: Call) -> Result:
        if call.request.method == "POST":
            return 201, {"user": self.account.create_user(call.json().get("user") or {})}, {}
        items = sorted(self.account.users.values(), key=lambda u: u["id"])
        return 200, paginate(call, items, "users", "/api/v2/users.json"), {}

    def users_me(self, call: Call) -> Result:
        # Only /users/me carries the session's CSRF token (recorded answers have it).
        return 200, {"user": {**call.user, "authenticity_token": uuid.uuid4().hex}}, {}

    def user(self, call: Call) -> Result:
        return 200, {"user": self.account.user(int(call.request.path_params["id"]))}, {}

    def users_show_many(self, call: Call) -> Result:
        wanted = set(_many_ids(call.param("ids")))
        items = [u for u in sorted(self.account.users.values(), key=lambda u: u["id"]) if u["id"] in wanted]
        return 200, paginate(call, items, "users", "/api/v2/users/show_many.json"), {}

    def users_create_or_update(self, call: Call) -> Result:
        user, created = self.account.create_or_update_user(call.json().get("user") or {})
        return (201 if created else 200), {"user": user}, {}

    def users_search(self, call: Call) -> Result:
        query, external_id = call.param("query"), call.param("external_id")
        if not query and not external_id:
            raise ZendeskError(400, {"error": "InvalidValue", "description": "query or external_id is required"})
        items = sorted(self.account.search_users(query, external_id), key=lambda u: u["id"])
        return 200, paginate(call, items, "users", "/api/v2/users/search.json"), {}

    # --- uploads and attachments ---------------------------------------------------------------

    def uploads(self, call: Call) -> Result:
        filename = call.param("filename")
        if not filename:
            raise ZendeskError(400, {"error": "InvalidValue", "description": "filename is required"})
        content_type = call.request.headers.get("content-type")
        upload = self.account.add_upload(filename, call.body, content_type, call.param("token"))
        return 201, {"upload": upload}, {}

    def upload_delete(self, call: Call) -> Result:
        token = call.request.path_params["token"]
        if token not in self.account.upload_tokens:
            raise not_found()
        self.account.delete_upload(token)
        return 204, None, {}

    def attachment(self, call: Call) -> Result:
        return 200, {"attachment": self.account.attachment(int(call.request.path_params["id"]))}, {}

    async def file_content(self, request: Request) -> Response:
        with self.lock:
            stored = self.account.uploads.get(request.path_params["token"])
        if stored is None:
            return Response(status_code=404)
        return Response(stored["content"], media_type=stored["content_type"])

    # --- groups and brands ---------------------------------------------------------------------

    def groups(self, call: Call) -> Result:
        items = sorted(self.account.groups.values(), key=lambda g: g["id"])
        return 200, paginate(call, items, "groups", "/api/v2/groups.json"), {}

    def group(self, call: Call) -> Result:
        group = self.account.groups.get(int(call.request.path_params["id"]))
        if group is None:
            raise not_found()
        return 200, {"group": group}, {}

    def brands(self, call: Call) -> Result:
        items = sorted(self.account.brands.values(), key=lambda b: b["id"])
        return 200, paginate(call, items, "brands", "/api/v2/brands.json"), {}

    def ticket_fields(self, call: Call) -> Result:
        # Zendesk answers the whole list, by position (cursor pagination is offered, not needed here).
        items = sorted(self.account.ticket_fields.values(), key=lambda f: f["position"])
        return 200, {"ticket_fields": items, "next_page": None, "previous_page": None, "count": len(items)}, {}

    def ticket_field(self, call: Call) -> Result:
        found = self.account.ticket_fields.get(int(call.request.path_params["id"]))
        if found is None:
            raise not_found()
        return 200, {"ticket_field": found}, {}

    def ticket_forms(self, call: Call) -> Result:
        items = sorted(self.account.ticket_forms.values(), key=lambda f: f["position"])
        return 200, {"ticket_forms": items, "next_page": None, "previous_page": None, "count": len(items)}, {}

    def ticket_form(self, call: Call) -> Result:
        found = self.account.ticket_forms.get(int(call.request.path_params["id"]))
        if found is None:
            raise not_found()
        return 200, {"ticket_form": found}, {}

    def brand(self, call: Call) -> Result:
        brand = self.account.brands.get(int(call.request.path_params["id"]))
        if brand is None:
            raise not_found()
        return 200, {"brand": brand}, {}

    # --- incremental exports -------------------------------------------------------------------

    def _start_time(self, call: Call) -> int:
        raw = call.param("start_time")
        if raw is None:
            raise ZendeskError(400, {"error": "InvalidValue", "description": "start_time is required"})
        start = _int(raw, 0, "start_time")
        if start > self.account.now() - 60:
            raise ZendeskError(
                400,
                {
                    "error": "InvalidValue",
                    "description": "Too recent start_time. Use a start_time at least one minute in the past",
                },
            )
        return start

    def _per_page(self, call: Call) -> int:
        return max(1, min(_int(call.param("per_page"), MAX_EXPORT_PAGE, "per_page"), MAX_EXPORT_PAGE))

    def incremental_tickets(self, call: Call) -> Result:
        """Time-based: `end_time` is where the next page starts; pages may repeat a ticket."""
        start, per_page = self._start_time(call), self._per_page(call)
        records = self.account.changed_since(start)
        page = records[:per_page]
        end_time = int(page[-1].generated_at) if page else start
        query = {"start_time": end_time, **({"per_page": per_page} if call.param("per_page") else {})}
        return (
            200,
            {
                "tickets": [self.account.export_json(r) for r in page],
                "count": len(page),
                "end_of_stream": len(records) <= per_page,
                "end_time": end_time,
                "next_page": f"{call.base}/api/v2/incremental/tickets.json?{urlencode(query)}",
            },
            {},
        )

    def incremental_cursor(self, call: Call) -> Result:
        """Cursor-based: a cursor names the last (generated_timestamp, id) exported."""
        per_page = self._per_page(call)
        cursor = call.param("cursor")
        if cursor:
            match = re.fullmatch(r"([0-9.]+)\|\|(\d+)\|", decode_cursor(cursor))
            if match is None:
                raise ZendeskError(400, {"error": "InvalidPaginationParameter", "description": "invalid cursor"})
            after = (float(match[1]), int(match[2]))
        else:
            after = (float(self._start_time(call)), 0)
        records = [r for r in self.account.changed_since(after[0]) if (r.generated_at, r.data["id"]) > after]
        page = records[:per_page]

        def cursor_at(position: tuple[float, int]) -> str:
            return encode_cursor(f"{position[0]!r}||{position[1]}|")

        def url(value: str | None) -> str | None:
            query = {"cursor": value, **({"per_page": per_page} if call.param("per_page") else {})}
            return f"{call.base}/api/v2/incremental/tickets/cursor.json?{urlencode(query)}" if value else None

        # With nothing new, the cursor stays where it was: the client polls it again later.
        after_cursor = cursor_at((page[-1].generated_at, page[-1].data["id"]) if page else after)
        return (
            200,
            {
                "tickets": [self.account.export_json(r) for r in page],
                "after_cursor": after_cursor,
                "after_url": url(after_cursor),
                "before_cursor": None,  # exporting backwards is not modelled
                "before_url": None,
                "end_of_stream": len(records) <= per_page,
            },
            {},
        )

    # --- webhooks (webhooks_api.py) --------------------------------------------------------------

    def _admin_only(self, call: Call) -> None:
        if call.user.get("role") != "admin":
            raise forbidden()

    def webhook_list(self, call: Call) -> Result:
        self._admin_only(call)
        if call.request.method == "POST":
            created = self.webhooks.create(call.json(), int(call.user["id"]), self.account.now())
            return 201, created, {"location": f"{call.base}/api/v2/webhooks/{created['webhook']['id']}"}
        return 200, self.webhooks.page(dict(call.request.query_params), call.base), {}

    def webhook(self, call: Call) -> Result:
        self._admin_only(call)
        webhook_id, method = call.request.path_params["id"], call.request.method
        if method == "GET":
            return 200, self.webhooks.show(webhook_id), {}
        if method == "DELETE":
            self.webhooks.delete(webhook_id)
        elif method == "PUT":
            self.webhooks.update(webhook_id, call.json(), int(call.user["id"]), self.account.now())
        else:
            self.webhooks.patch(webhook_id, call.json(), int(call.user["id"]), self.account.now())
        return 204, None, {}

    def webhook_secret(self, call: Call) -> Result:
        self._admin_only(call)
        reset = call.request.method == "POST"
        return (201 if reset else 200), self.webhooks.signing_secret(call.request.path_params["id"], reset), {}

    def webhook_invocations(self, call: Call) -> Result:
        self._admin_only(call)
        webhook_id = call.request.path_params["id"]
        return 200, self.webhooks.invocations(webhook_id, dict(call.request.query_params), call.base), {}

    def webhook_attempts(self, call: Call) -> Result:
        self._admin_only(call)
        params = call.request.path_params
        return 200, self.webhooks.attempts(params["id"], params["invocation"]), {}

    # --- Zendesk Guide (help_center.py) ----------------------------------------------------------

    def hc_search(self, call: Call) -> Result:
        params = dict(call.request.query_params)
        query = params.get("query") or ""
        category, section = set(_ids(params.get("category"))), set(_ids(params.get("section")))
        labels = {n.strip() for n in (params.get("label_names") or "").split(",") if n.strip()}
        if not query.strip() and not (category or section or labels):
            raise ZendeskError(
                400,
                {
                    "error": "InvalidSearchParameters",
                    "description": "You must specify at least one of query, category, section or label_names",
                },
            )
        per_page = _int(params.get("per_page"), help_center.DEFAULT_PER_PAGE, "per_page")
        page = _int(params.get("page"), 1, "page")
        if not 1 <= per_page <= help_center.MAX_PER_PAGE or page < 1:
            raise ZendeskError(
                400,
                {"error": "InvalidPaginationParameter", "description": "per_page must be 1-100 and page above 0"},
            )
        hc = self.account.help_center
        locale = hc.locale_of(call.request.path_params.get("locale"), params.get("locale"))
        found = hc.search(query, locale, category, section, labels)
        kept = {k: v for k, v in params.items() if k != "page"} | {"per_page": str(per_page)}
        link = help_center.query_link(call.base, call.request.url.path, kept)
        return 200, help_center.page_of(found, page, per_page, link), {}

    def _hc_listing(self, call: Call, key: str, items: list[dict[str, Any]]) -> Result:
        locale = self.account.help_center.locale_of(call.request.path_params.get("locale"), call.param("locale"))
        items = [i for i in items if locale is None or i["locale"] == locale]
        return 200, paginate(call, sorted(items, key=lambda i: i["id"]), key, call.request.url.path), {}

    def hc_articles(self, call: Call) -> Result:
        return self._hc_listing(call, "articles", list(self.account.help_center.articles.values()))

    def hc_sections(self, call: Call) -> Result:
        return self._hc_listing(call, "sections", list(self.account.help_center.sections.values()))

    def hc_categories(self, call: Call) -> Result:
        return self._hc_listing(call, "categories", list(self.account.help_center.categories.values()))

    def hc_article(self, call: Call) -> Result:
        found = help_center.leading_id(str(call.request.path_params["ref"]))
        article = self.account.help_center.articles.get(found) if found is not None else None
        if article is None:
            raise not_found()
        return 200, {"article": article}, {}

    def hc_create_article(self, call: Call) -> Result:
        data = call.json().get("article")
        if not isinstance(data, dict):
            raise ZendeskError(400, {"error": "InvalidParameter", "description": "article is required"})
        try:
            article = self.account.help_center.create_article(
                int(call.request.path_params["id"]), data, int(call.user["id"]), call.request.path_params.get("locale")
            )
        except LookupError as exc:
            raise not_found() from exc
        except ValueError as exc:
            raise record_invalid("title", "Title: cannot be blank") from exc
        return 201, {"article": article}, {"location": article["url"]}

    async def hc_page(self, request: Request) -> Response:
        """The article's public page (its html_url), so that a link in Slack opens something."""
        found = help_center.leading_id(str(request.path_params["ref"]))
        with self.lock:
            article = self.account.help_center.articles.get(found) if found is not None else None
        if article is None or article["draft"]:
            return Response("Not found", status_code=404, media_type="text/plain")
        title = html.escape(article["title"])
        page = f"<!doctype html><title>{title}</title><h1>{title}</h1>{article['body']}"
        return Response(page, media_type="text/html; charset=utf-8")

    def unknown(self, call: Call) -> Result:
        raise ZendeskError(404, {"error": "InvalidEndpoint", "description": "Not found"})

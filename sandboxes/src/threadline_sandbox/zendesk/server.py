"""A Zendesk account on localhost that the unmodified zenpy client cannot tell from Zendesk.

The REST API v2 subset Threadline uses, with Zendesk's JSON shapes, API-token and OAuth
authentication, its rules (closed tickets refuse updates with 422, solved tickets close after a
delay, follow-ups, `via.channel` on every comment, `Idempotency-Key` on ticket creation, a
per-minute rate limit with Zendesk's headers), and event webhooks signed as Zendesk signs them.
zenpy reaches it with ZENPY_FORCE_SCHEME=http and ZENPY_FORCE_NETLOC=127.0.0.1:<port>.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import queue
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from threadline_sandbox.common import BackgroundServer


class ZendeskError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(body)
        self.status, self.body, self.headers = status, body, headers or {}


def now_iso(t: float | None = None) -> str:
    return datetime.fromtimestamp(t or time.time(), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Knobs:
    latency_seconds: float = 0.0
    error_rate: float = 0.0
    rate_limit_per_minute: int = 700
    close_solved_after_seconds: float = 4 * 24 * 3600


@dataclass
class Account:
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    groups: dict[int, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotency: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)


class ZendeskSandbox:
    def __init__(
        self,
        subdomain: str = "sandbox",
        webhook_urls: list[str] | None = None,
        webhook_secret: str = "sandbox-webhook-secret",
        port: int = 0,
    ) -> None:
        self.subdomain = subdomain
        self.webhook_urls = list(webhook_urls or [])
        self.webhook_secret = webhook_secret
        self.knobs = Knobs()
        self.account = Account()
        self.deliveries: list[dict[str, Any]] = []
        self._lock = threading.RLock()
        self._ids = itertools.count(1001)
        self._calls: list[float] = []
        self._hooks: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._server = BackgroundServer(self._app(), port)
        self._worker = threading.Thread(target=self._deliver_loop, name="zendesk-webhooks", daemon=True)
        # The integration's API user, an agent, and one support group.
        self.api_user = self._user("Threadline Integration", "threadline@sandbox-corp.example", "admin")
        self.api_token = "sandbox-api-token"
        self.oauth_token = "sandbox-oauth-token"
        self.agent = self._user("Agent Ann", "ann@sandbox-corp.example", "agent")
        self.agent["photo"] = {"content_url": "https://avatars.sandbox.invalid/ann.png"}
        self.agent_token = "sandbox-agent-token"
        self.group_id = self._group("Support")
        self.infra_group_id = self._group("Infrastructure")
        # Seeded ids are fixed (the stack reads them); what the account creates later gets ids
        # that never repeat across runs, as in Zendesk, since Kafka keeps state between runs.
        self._ids = itertools.count((int(time.time()) - 1_700_000_000) * 10)
        self._tokens = {
            ("threadline@sandbox-corp.example", self.api_token): self.api_user["id"],
            ("ann@sandbox-corp.example", self.agent_token): self.agent["id"],
        }

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ZendeskSandbox:
        self._server.start()
        self._worker.start()
        return self

    def stop(self) -> None:
        self._hooks.put(None)
        self._server.stop()

    @property
    def base_url(self) -> str:
        return self._server.url

    @property
    def netloc(self) -> str:
        return self.base_url.removeprefix("http://")

    @property
    def api_email(self) -> str:
        return str(self.api_user["email"])

    def zenpy_env(self) -> dict[str, str]:
        """Environment that points an unmodified zenpy at this sandbox."""
        return {"ZENPY_FORCE_SCHEME": "http", "ZENPY_FORCE_NETLOC": self.netloc}

    def ticket_url(self, ticket_id: int) -> str:
        return f"{self.base_url}/agent/tickets/{ticket_id}"

    def wait_for_deliveries(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not self._hooks.empty() and time.monotonic() < deadline:
            time.sleep(0.05)

    # --- things that happen in Zendesk without the API -------------------------------------------

    def receive_email(
        self, from_name: str, from_email: str, subject: str, body: str, group_id: int | None = None
    ) -> int:
        """An inbound email: a new ticket with via.channel email (fires ticket.created)."""
        with self._lock:
            user = self._find_or_create_user(from_name, from_email)
            via = {
                "channel": "email",
                "source": {"from": {"address": from_email, "name": from_name}, "to": {}, "rel": None},
            }
            ticket = self._create_ticket(
                {"subject": subject, "comment": {"body": body}, "group_id": group_id or self.group_id}, user["id"], via
            )
            return int(ticket["id"])

    def agent_comment(self, ticket_id: int, body: str, public: bool = True) -> int:
        """Agent Ann answers in the agent interface (via.channel web)."""
        with self._lock:
            ticket = self._ticket(ticket_id)
            comment = self._update_ticket(
                ticket, {"comment": {"body": body, "public": public}}, self.agent["id"], "web"
            )
            return int(comment["id"]) if comment else 0

    def agent_set_status(self, ticket_id: int, status: str) -> None:
        with self._lock:
            self._update_ticket(self._ticket(ticket_id), {"status": status}, self.agent["id"], "web")

    def close_due_tickets(self) -> None:
        """Zendesk's automation: solved tickets close after the configured delay."""
        with self._lock:
            now = time.time()
            for ticket in self.account.tickets.values():
                if ticket["status"] == "solved" and now - ticket["_solved_at"] >= self.knobs.close_solved_after_seconds:
                    self._set_status(ticket, "closed", self.api_user["id"])

    def comments_of(self, ticket_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self.account.comments.get(ticket_id, [])]

    def tickets(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._public(t) for t in self.account.tickets.values()]

    # --- HTTP ---------------------------------------------------------------------------------

    def _app(self) -> Starlette:
        routes = [
            Route("/api/v2/tickets.json", self._wrap(self._tickets_root), methods=["GET", "POST"]),
            Route("/api/v2/tickets/create_many.json", self._wrap(self._tickets_create_many), methods=["POST"]),
            Route("/api/v2/tickets/{id:int}.json", self._wrap(self._ticket_one), methods=["GET", "PUT"]),
            Route("/api/v2/tickets/{id:int}/comments.json", self._wrap(self._ticket_comments), methods=["GET"]),
            Route("/api/v2/tickets/{id:int}/audits.json", self._wrap(self._ticket_audits), methods=["GET"]),
            Route("/api/v2/search.json", self._wrap(self._search), methods=["GET"]),
            Route("/api/v2/users/me.json", self._wrap(self._users_me), methods=["GET"]),
            Route("/api/v2/users/create_or_update.json", self._wrap(self._users_create_or_update), methods=["POST"]),
            Route("/api/v2/users/search.json", self._wrap(self._users_search), methods=["GET"]),
            Route("/api/v2/users/{id:int}.json", self._wrap(self._users_show), methods=["GET"]),
            Route("/api/v2/users.json", self._wrap(self._users_create), methods=["POST"]),
            Route("/api/v2/uploads.json", self._wrap(self._uploads), methods=["POST"]),
            Route("/api/v2/groups.json", self._wrap(self._groups), methods=["GET"]),
            Route("/api/v2/groups/{id:int}.json", self._wrap(self._group_show), methods=["GET"]),
            Route("/api/v2/incremental/tickets.json", self._wrap(self._incremental), methods=["GET"]),
            Route("/api/v2/incremental/tickets/cursor.json", self._wrap(self._incremental_cursor), methods=["GET"]),
            Route("/attachments/{token}/{name}", self._attachment, methods=["GET"]),
            Route("/_sandbox/email", self._admin_email, methods=["POST"]),
            Route("/_sandbox/knobs", self._admin_knobs, methods=["POST"]),
        ]
        return Starlette(routes=routes)

    def _wrap(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            headers = {"X-Rate-Limit": str(self.knobs.rate_limit_per_minute)}
            try:
                self._faults(headers)
                actor = self._authenticate(request)
                body = await request.body()
                with self._lock:
                    status, payload, extra = handler(request, actor, body)
                headers.update(extra)
                return JSONResponse(payload, status_code=status, headers=headers)
            except ZendeskError as exc:
                return JSONResponse(exc.body, status_code=exc.status, headers={**headers, **exc.headers})

        return endpoint

    def _faults(self, headers: dict[str, str]) -> None:
        if self.knobs.latency_seconds:
            time.sleep(self.knobs.latency_seconds)
        with self._lock:
            now = time.monotonic()
            self._calls = [t for t in self._calls if now - t < 60]
            limit = self.knobs.rate_limit_per_minute
            if limit and len(self._calls) >= limit:
                retry = max(1, int(60 - (now - self._calls[0])) + 1)
                raise ZendeskError(
                    429,
                    {"error": "APIRateLimitExceeded", "description": "Rate limit exceeded"},
                    {"Retry-After": str(retry), "X-Rate-Limit-Remaining": "0"},
                )
            self._calls.append(now)
            headers["X-Rate-Limit-Remaining"] = str(max(0, limit - len(self._calls))) if limit else "700"
        if self.knobs.error_rate and random.random() < self.knobs.error_rate:
            raise ZendeskError(503, {"error": "ServiceUnavailable", "description": "Try again later"})

    def _authenticate(self, request: Request) -> int:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer ") and header[7:] == self.oauth_token:
            return int(self.api_user["id"])
        if header.lower().startswith("basic "):
            try:
                user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, secret = "", ""
            email, _, kind = user.partition("/")
            if kind == "token" and (email, secret) in self._tokens:
                return self._tokens[(email, secret)]
        raise ZendeskError(401, {"error": "Couldn't authenticate you"})

    async def _attachment(self, request: Request) -> Response:
        upload = self.account.uploads.get(request.path_params["token"])
        if upload is None:
            return Response(status_code=404)
        return Response(upload["content"], media_type=upload["content_type"])

    async def _admin_email(self, request: Request) -> Response:
        data = await request.json()
        ticket_id = self.receive_email(
            data["from_name"], data["from_email"], data["subject"], data["body"], data.get("group_id")
        )
        return JSONResponse({"ticket_id": ticket_id})

    async def _admin_knobs(self, request: Request) -> Response:
        for key, value in (await request.json()).items():
            if hasattr(self.knobs, key):
                setattr(self.knobs, key, value)
        return JSONResponse({"ok": True})

    # --- model ----------------------------------------------------------------------------------

    def _next_id(self) -> int:
        return next(self._ids)

    def _user(self, name: str, email: str | None, role: str = "end-user") -> dict[str, Any]:
        uid = self._next_id()
        user = {
            "id": uid,
            "url": f"{self.base_url if hasattr(self, '_server') else ''}/api/v2/users/{uid}.json",
            "name": name,
            "email": email,
            "role": role,
            "active": True,
            "verified": True,
            "created_at": now_iso(),
            "updated_at": now_iso(),
            "external_id": None,
            "photo": None,
            "time_zone": "London",
            "locale": "en-US",
            "tags": [],
        }
        self.account.users[uid] = user
        return user

    def _group(self, name: str) -> int:
        gid = self._next_id()
        self.account.groups[gid] = {"id": gid, "name": name, "default": not self.account.groups, "deleted": False}
        return gid

    def _find_or_create_user(self, name: str | None, email: str | None) -> dict[str, Any]:
        if email:
            for user in self.account.users.values():
                if (user.get("email") or "").lower() == email.lower():
                    return user
        return self._user(name or (email or "Unknown").split("@")[0], email)

    def _ticket(self, ticket_id: int) -> dict[str, Any]:
        self.close_due_tickets()
        ticket = self.account.tickets.get(ticket_id)
        if ticket is None:
            raise ZendeskError(404, {"error": "RecordNotFound", "description": "Not found"})
        return ticket

    def _public(self, ticket: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in ticket.items() if not k.startswith("_")}

    def _comment(
        self,
        ticket: dict[str, Any],
        data: dict[str, Any],
        author_id: int,
        channel: str,
        audit_id: int,
        metadata: dict[str, Any],
    ) -> dict[str, Any]:
        body = str(data.get("body") or data.get("html_body") or "")
        attachments = []
        for token in data.get("uploads") or []:
            upload = self.account.uploads.get(token)
            if upload is None:
                raise ZendeskError(
                    422,
                    {
                        "error": "RecordInvalid",
                        "description": "Record validation errors",
                        "details": {"uploads": [{"description": f"unknown upload {token}"}]},
                    },
                )
            attachments.append(upload["attachment"])
        comment = {
            "id": self._next_id(),
            "type": "Comment",
            "author_id": author_id,
            "body": body,
            "html_body": f'<div class="zd-comment"><p>{body}</p></div>',
            "plain_body": body,
            "public": bool(data.get("public", True)),
            "attachments": attachments,
            "audit_id": audit_id,
            "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": now_iso(),
            "metadata": {"system": {"client": "sandbox"}, "custom": metadata},
        }
        self.account.comments.setdefault(ticket["id"], []).append(comment)
        return comment

    def _create_ticket(self, data: dict[str, Any], author_id: int, via: dict[str, Any]) -> dict[str, Any]:
        requester_id = data.get("requester_id")
        if isinstance(data.get("requester"), dict):
            requester = self._find_or_create_user(data["requester"].get("name"), data["requester"].get("email"))
            requester_id = requester["id"]
        requester_id = requester_id or author_id
        followup_of = data.get("via_followup_source_id")
        if followup_of is not None:
            source = self.account.tickets.get(int(followup_of))
            if source is None or source["status"] != "closed":
                raise ZendeskError(
                    422,
                    {
                        "error": "RecordInvalid",
                        "description": "Record validation errors",
                        "details": {"via_followup_source_id": [{"description": "is not a closed ticket"}]},
                    },
                )
            via = {
                "channel": via["channel"],
                "source": {"from": {"ticket_id": source["id"]}, "to": {}, "rel": "follow_up"},
            }
        tid = self._next_id()
        comment_data = data.get("comment") or {}
        ticket = {
            "id": tid,
            "url": f"{self.base_url}/api/v2/tickets/{tid}.json",
            "external_id": data.get("external_id"),
            "via": via,
            "created_at": now_iso(),
            "updated_at": now_iso(),
            "type": data.get("type"),
            "subject": data.get("subject") or str(comment_data.get("body", ""))[:80],
            "raw_subject": data.get("subject"),
            "description": comment_data.get("body", ""),
            "priority": data.get("priority"),
            "status": data.get("status") or "new",
            "requester_id": requester_id,
            "submitter_id": author_id,
            "assignee_id": data.get("assignee_id"),
            "group_id": data.get("group_id"),
            "brand_id": data.get("brand_id"),
            "ticket_form_id": data.get("ticket_form_id"),
            "tags": sorted(set(data.get("tags") or [])),
            "custom_fields": data.get("custom_fields") or [],
            "followup_ids": [],
            "via_followup_source_id": followup_of,
            "_solved_at": 0.0,
        }
        self.account.tickets[tid] = ticket
        if followup_of is not None:
            self.account.tickets[int(followup_of)]["followup_ids"].append(tid)
        audit_id = self._next_id()
        comment = self._comment(
            ticket,
            {**comment_data, "public": True},
            comment_data.get("author_id") or requester_id,
            via["channel"],
            audit_id,
            data.get("metadata") or {},
        )
        ticket["_audit"] = {
            "id": audit_id,
            "ticket_id": tid,
            "created_at": now_iso(),
            "author_id": author_id,
            "metadata": {"system": {"client": "sandbox"}, "custom": data.get("metadata") or {}},
            "via": via,
            "events": [
                {
                    "id": comment["id"],
                    "type": "Comment",
                    "body": comment["body"],
                    "public": True,
                    "author_id": comment["author_id"],
                    "attachments": comment["attachments"],
                },
                {"id": self._next_id(), "type": "Create", "field_name": "status", "value": ticket["status"]},
            ],
        }
        self._hook("ticket.created", ticket, {})
        return ticket

    def _set_status(self, ticket: dict[str, Any], status: str, actor: int) -> None:
        previous = ticket["status"]
        if status == previous:
            return
        ticket["status"] = status
        ticket["updated_at"] = now_iso()
        if status == "solved":
            ticket["_solved_at"] = time.time()
        self._hook("ticket.status_changed", ticket, {"current": status.upper(), "previous": previous.upper()}, actor)

    def _update_ticket(
        self, ticket: dict[str, Any], data: dict[str, Any], actor: int, channel: str
    ) -> dict[str, Any] | None:
        if ticket["status"] == "closed":
            raise ZendeskError(
                422,
                {
                    "error": "RecordInvalid",
                    "description": "Record validation errors",
                    "details": {"status": [{"description": "Status: closed prevents ticket update"}]},
                },
            )
        comment = None
        if data.get("comment"):
            comment_data = dict(data["comment"])
            author = int(comment_data.get("author_id") or actor)
            comment = self._comment(ticket, comment_data, author, channel, self._next_id(), data.get("metadata") or {})
            author_user = self.account.users.get(author, {})
            self._hook(
                "ticket.comment_added",
                ticket,
                {
                    "comment": {
                        "id": str(comment["id"]),
                        "body": comment["body"],
                        "is_public": comment["public"],
                        "author": {
                            "id": str(author),
                            "name": author_user.get("name"),
                            "is_staff": author_user.get("role") in ("agent", "admin"),
                        },
                    }
                },
                actor,
            )
            # An end user's public reply reopens a solved ticket, as in Zendesk.
            if (
                ticket["status"] == "solved"
                and comment["public"]
                and author_user.get("role") == "end-user"
                and "status" not in data
            ):
                self._set_status(ticket, "open", actor)
        for key in (
            "subject",
            "priority",
            "group_id",
            "assignee_id",
            "external_id",
            "custom_fields",
            "brand_id",
            "type",
        ):
            if key in data:
                ticket[key] = data[key]
        if "tags" in data:
            ticket["tags"] = sorted(set(data["tags"]))
        if data.get("status"):
            self._set_status(ticket, str(data["status"]), actor)
        ticket["updated_at"] = now_iso()
        return comment

    def _hook(self, kind: str, ticket: dict[str, Any], event: dict[str, Any], actor: int | None = None) -> None:
        if not self.webhook_urls:
            return
        detail = {
            "actor_id": str(actor or ticket["submitter_id"]),
            "assignee_id": str(ticket["assignee_id"]) if ticket.get("assignee_id") else None,
            "brand_id": str(ticket["brand_id"]) if ticket.get("brand_id") else None,
            "created_at": ticket["created_at"],
            "custom_status": None,
            "description": ticket["description"],
            "external_id": ticket.get("external_id"),
            "form_id": str(ticket["ticket_form_id"]) if ticket.get("ticket_form_id") else None,
            "group_id": str(ticket["group_id"]) if ticket.get("group_id") else None,
            "id": str(ticket["id"]),
            "is_public": True,
            "organization_id": None,
            "priority": (ticket.get("priority") or "").upper() or None,
            "requester_id": str(ticket["requester_id"]),
            "status": ticket["status"].upper(),
            "subject": ticket["subject"],
            "submitter_id": str(ticket["submitter_id"]),
            "tags": ticket["tags"],
            "type": (ticket.get("type") or "").upper() or None,
            "updated_at": ticket["updated_at"],
            "via": {
                "channel": {"email": "email", "web": "web_form", "api": "api_call"}.get(
                    ticket["via"]["channel"], ticket["via"]["channel"]
                )
            },
        }
        self._hooks.put(
            {
                "account_id": 10000001,
                "detail": detail,
                "event": event,
                "id": str(uuid.uuid4()),
                "subject": f"zen:ticket:{ticket['id']}",
                "time": datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
                "type": f"zen:event-type:{kind}",
                "zendesk_event_version": "2022-11-06",
            }
        )

    def _deliver_loop(self) -> None:
        with httpx.Client(timeout=10) as client:
            while True:
                body = self._hooks.get()
                if body is None:
                    return
                raw = json.dumps(body).encode()
                for url in self.webhook_urls:
                    for attempt in range(4):
                        ts = now_iso()
                        signature = base64.b64encode(
                            hmac.new(self.webhook_secret.encode(), ts.encode() + raw, hashlib.sha256).digest()
                        )
                        headers = {
                            "content-type": "application/json; charset=utf-8",
                            "x-zendesk-webhook-id": "01SANDBOXWEBHOOK000000000",
                            "x-zendesk-webhook-invocation-id": str(uuid.uuid4().int)[:12],
                            "x-zendesk-webhook-signature": signature.decode(),
                            "x-zendesk-webhook-signature-timestamp": ts,
                        }
                        status = None
                        with contextlib.suppress(httpx.HTTPError):
                            status = client.post(url, content=raw, headers=headers).status_code
                        self.deliveries.append(
                            {"id": body["id"], "type": body["type"], "attempt": attempt, "status": status, "body": body}
                        )
                        if status is not None and status < 500 and status != 429:
                            break
                        time.sleep(0.2 * 2**attempt)

    # --- endpoints: (request, acting user id, raw body) -> (status, json, headers) ----------------------

    def _json(self, body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body or b"{}")
        except ValueError as exc:
            raise ZendeskError(400, {"error": "InvalidJSON", "description": "Malformed JSON"}) from exc
        return data if isinstance(data, dict) else {}

    def _tickets_root(self, request: Request, actor: int, body: bytes) -> tuple[int, Any, dict[str, str]]:
        if request.method == "GET":
            tickets = list(self.account.tickets.values())
            external = request.query_params.get("external_id")
            if external is not None:
                tickets = [t for t in tickets if t.get("external_id") == external]
            return (
                200,
                {
                    "tickets": [self._public(t) for t in tickets],
                    "next_page": None,
                    "previous_page": None,
                    "count": len(tickets),
                },
                {},
            )
        key = request.headers.get("idempotency-key")
        digest = hashlib.sha256(body).hexdigest()
        if key and key in self.account.idempotency:
            seen_digest, response = self.account.idempotency[key]
            if seen_digest != digest:
                raise ZendeskError(
                    400,
                    {
                        "error": "IdempotentRequestError",
                        "description": "Request parameters don't match the original request for this idempotency key",
                    },
                )
            return 201, response, {"x-idempotency-lookup": "hit", "Location": response["ticket"]["url"]}
        data = self._json(body).get("ticket") or {}
        ticket = self._create_ticket(data, actor, {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}})
        response = {"ticket": self._public(ticket), "audit": ticket["_audit"]}
        if key:
            self.account.idempotency[key] = (digest, response)
        return (
            201,
            response,
            {"Location": ticket["url"], "x-idempotency-lookup": "miss"} if key else {"Location": ticket["url"]},
        )

    def _tickets_create_many(self, request: Request, actor: int, body: bytes) -> tuple[int, Any, dict[str, str]]:
        ids = [
            self._create_ticket(t, actor, {"channel": "api", "source": {}})["id"]
            for t in self._json(body).get("tickets", [])
        ]
        status = {
            "id": str(uuid.uuid4()),
            "status": "completed",
            "total": len(ids),
            "results": [{"id": i, "index": n} for n, i in enumerate(ids)],
        }
        return 200, {"job_status": status}, {}

    def _ticket_one(self, request: Request, actor: int, body: bytes) -> tuple[int, Any, dict[str, str]]:
        ticket = self._ticket(int(request.path_params["id"]))
        if request.method == "GET":
            return 200, {"ticket": self._public(ticket)}, {}
        data = self._json(body).get("ticket") or {}
        channel = "api"
        comment = self._update_ticket(ticket, data, actor, channel)
        audit = {
            "id": comment["audit_id"] if comment else self._next_id(),
            "ticket_id": ticket["id"],
            "author_id": actor,
            "created_at": now_iso(),
            "metadata": {"system": {"client": "sandbox"}, "custom": data.get("metadata") or {}},
            "events": [
                {
                    "id": comment["id"],
                    "type": "Comment",
                    "body": comment["body"],
                    "public": comment["public"],
                    "author_id": comment["author_id"],
                }
            ]
            if comment
            else [],
            "via": {"channel": channel, "source": {}},
        }
        return 200, {"ticket": self._public(ticket), "audit": audit}, {}

    def _ticket_comments(self, request: Request, actor: int, body: bytes) -> tuple[int, Any, dict[str, str]]:
        ticket = self._ticket(int(request.path_params["id"]))
        comments = self.account.comments.get(ticket["id"], [])
        size = int(request.query_params.get("page[size]") or 100)
        after = int(request.query_params.get("page[after]") or 0)
        chunk = comments[after : after + size]
        more = after + size < len(comments)
        next_url = (
            f"{self.base_url}/api/v2/tickets/{ticket['id']}/comments.json?page[size]={size}&page[after]={after + size}"
        )
        return (
            200,
            {
                "comments": chunk,
                "meta": {"has_more": more, "after_cursor": str(after + size) if more else None, "before_cursor": None},
                "links": {"next": next_url if more else None, "prev": None},
            },
            {},
        )

    def _ticket_audits(self, request: Request, actor: int, body: bytes) -> tuple[int, Any, dict[str, str]]:
        ticket = self._ticket(int(request.path_params["id"]))
        return 200, {"audits": [ticket["_audit"]], "next_page": None, "previous_page": None, "count": 1}, {}

    def _search(self, request: Request, actor: int, body: bytes) -> tuple[int, Any, dict[str, str]]:
        query = request.query_params.get("query", "")
        terms = dict(part.split(":", 1) for part in query.split() if ":" in part)
        results: list[dict[str, Any]] = []
        if terms.get("type", "ticket") == "ticket":
            for t in self.account.tickets.values():
                if "external_id" in terms and t.get("external_id") != terms["external_id"].strip('"'):
                    continue
                if "status" in terms and t["status"] != terms["status"]:
                    continue
                results.append({**self._public(t), "result_type": "ticket"})
        return (
            200,
            {"results": results, "count": len(results), "next_page": None, "previous_page": None, "facets": None},
            {},
        )

    def _users_me(self, request: Request, actor: int, body: bytes) -> tuple[int, Any, dict[str, str]]:
        return 200, {"user": self.account.users[actor]}, {}

    def _users_show(self, request: Request, actor: int, body: bytes) -> tuple[int, Any, dict[str, str]]:
        user = self.account.users.get(int(request.path_params["id"]))
        if user is None:
            raise ZendeskError(404, {"error": "RecordNotFound", "description": "Not found"})
        return 200, {"user": user}, {}

    def _users_create_or_update(self, request: Request, actor: int, body: bytes) -> tuple[int, Any, dict[str, str]]:
        data = self._json(body).get("user") or {}
        email = data.get("email")
        existing = next(
            (u for u in self.account.users.values() if email and (u.get("email") or "").lower() == email.lower()), None
        )
        if existing is None and data.get("external_id"):
            existing = next(
                (u for u in self.account.users.values() if u.get("external_id") == data["external_id"]), None
            )
        if existing is not None:
            for key in ("name", "external_id", "tags"):
                if data.get(key):
                    existing[key] = data[key]
            return 200, {"user": existing}, {}
        user = self._user(data.get("name") or "Unknown", email, data.get("role") or "end-user")
        user["external_id"] = data.get("external_id")
        return 201, {"user": user}, {}

    def _users_create(self, request: Request, actor: int, body: bytes) -> tuple[int, Any, dict[str, str]]:
        data = self._json(body).get("user") or {}
        if data.get("email") and any(
            (u.get("email") or "").lower() == data["email"].lower() for u in self.account.users.values()
        ):
            raise ZendeskError(
                422,
                {
                    "error": "RecordInvalid",
                    "description": "Record validation errors",
                    "details": {"email": [{"description": "Email is already being used by another user"}]},
                },
            )
        return (
            201,
            {"user": self._user(data.get("name") or "Unknown", data.get("email"), data.get("role") or "end-user")},
            {},
        )

    def _users_search(self, request: Request, actor: int, body: bytes) -> tuple[int, Any, dict[str, str]]:
        query = request.query_params.get("query", "").removeprefix("email:").strip().lower()
        external = request.query_params.get("external_id")
        users = [
            u
            for u in self.account.users.values()
            if (external and u.get("external_id") == external)
            or (query and (query == (u.get("email") or "").lower() or query in u["name"].lower()))
        ]
        return 200, {"users": users, "next_page": None, "previous_page": None, "count": len(users)}, {}

    def _uploads(self, request: Request, actor: int, body: bytes) -> tuple[int, Any, dict[str, str]]:
        filename = request.query_params.get("filename") or "upload.bin"
        token = request.query_params.get("token") or uuid.uuid4().hex[:24]
        content_type = request.headers.get("content-type", "application/octet-stream")
        attachment = {
            "id": self._next_id(),
            "file_name": filename,
            "content_url": f"{self.base_url}/attachments/{token}/{filename}",
            "mapped_content_url": f"{self.base_url}/attachments/{token}/{filename}",
            "content_type": content_type,
            "size": len(body),
            "inline": False,
            "deleted": False,
            "malware_access_override": False,
            "malware_scan_result": "malware_not_found",
            "thumbnails": [],
        }
        self.account.uploads[token] = {"content": body, "content_type": content_type, "attachment": attachment}
        return (
            201,
            {
                "upload": {
                    "token": token,
                    "expires_at": now_iso(time.time() + 3 * 86400),
                    "attachments": [attachment],
                    "attachment": attachment,
                }
            },
            {},
        )

    def _groups(self, request: Request, actor: int, body: bytes) -> tuple[int, Any, dict[str, str]]:
        groups = list(self.account.groups.values())
        return 200, {"groups": groups, "next_page": None, "previous_page": None, "count": len(groups)}, {}

    def _group_show(self, request: Request, actor: int, body: bytes) -> tuple[int, Any, dict[str, str]]:
        group = self.account.groups.get(int(request.path_params["id"]))
        if group is None:
            raise ZendeskError(404, {"error": "RecordNotFound", "description": "Not found"})
        return 200, {"group": group}, {}

    def _changed_since(self, start: int) -> list[dict[str, Any]]:
        tickets = [
            t
            for t in self.account.tickets.values()
            if datetime.strptime(t["updated_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp() >= start
        ]
        return sorted(tickets, key=lambda t: (t["updated_at"], t["id"]))

    def _incremental(self, request: Request, actor: int, body: bytes) -> tuple[int, Any, dict[str, str]]:
        start = int(request.query_params.get("start_time") or 0)
        tickets = [self._public(t) for t in self._changed_since(start)]
        end_time = int(time.time())
        return (
            200,
            {
                "tickets": tickets,
                "count": len(tickets),
                "end_time": end_time,
                "end_of_stream": True,
                "next_page": f"{self.base_url}/api/v2/incremental/tickets.json?start_time={end_time}",
            },
            {},
        )

    def _incremental_cursor(self, request: Request, actor: int, body: bytes) -> tuple[int, Any, dict[str, str]]:
        cursor = request.query_params.get("cursor")
        start = int(base64.b64decode(cursor).decode()) if cursor else int(request.query_params.get("start_time") or 0)
        tickets = [self._public(t) for t in self._changed_since(start)]
        after = base64.b64encode(str(int(time.time())).encode()).decode()
        return (
            200,
            {
                "tickets": tickets,
                "after_cursor": after,
                "after_url": f"{self.base_url}/api/v2/incremental/tickets/cursor.json?cursor={after}",
                "before_cursor": None,
                "before_url": None,
                "end_of_stream": True,
            },
            {},
        )

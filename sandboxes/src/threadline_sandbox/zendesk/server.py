"""A Zendesk account on localhost that the unmodified zenpy client cannot tell from Zendesk.

The REST API v2 subset Threadline uses (api.py) with Zendesk's JSON shapes and rules (model.py):
closed tickets refuse updates with 422, solved tickets close after a delay, follow-ups,
`via.channel` on every comment, `Idempotency-Key` on ticket creation, a per-minute rate limit
with Zendesk's headers. Event webhooks are signed and retried as Zendesk does (webhooks.py):
to the `webhook_urls` given here (every event, `webhook_secret`), and to the webhooks created
through the Webhooks API (webhooks_api.py: their subscribed event types, their own secret).
What happens outside the API (an agent answering in the agent UI, an email arriving) has a
Python method and an unauthenticated admin endpoint under /_sandbox.

    sandbox = ZendeskSandbox(webhook_urls=["http://127.0.0.1:8080/zendesk/webhook"]).start()
    zen = sandbox.zenpy()          # unmodified zenpy, API token of our integration user
    ...
    sandbox.stop()
"""

from __future__ import annotations

import copy
import logging
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from threadline_sandbox.common import BackgroundServer, free_port
from threadline_sandbox.zendesk.api import ZendeskApi
from threadline_sandbox.zendesk.client import zenpy_client, zenpy_env
from threadline_sandbox.zendesk.events import event_body
from threadline_sandbox.zendesk.knobs import Knobs
from threadline_sandbox.zendesk.model import Account, Actor, ZendeskError
from threadline_sandbox.zendesk.seed import DEFAULT_SEED, load_seed
from threadline_sandbox.zendesk.webhooks import Delivery, Target, WebhookDispatcher
from threadline_sandbox.zendesk.webhooks_api import WebhookRegistry

if TYPE_CHECKING:
    from zenpy import Zenpy

log = logging.getLogger(__name__)

SEED = DEFAULT_SEED
AGENT_UI = "Mozilla/5.0 (Zendesk agent interface; sandbox)"


class ZendeskSandbox:
    def __init__(
        self,
        subdomain: str | None = None,
        webhook_urls: list[str] | None = None,
        webhook_secret: str = "sandbox-webhook-secret",
        port: int = 0,
        seed: str | Path | dict[str, Any] | None = None,
        knobs: Knobs | None = None,
    ) -> None:
        self.seed = load_seed(seed)
        self.subdomain = subdomain or self.seed.subdomain
        self.account_id = self.seed.account_id
        self.webhook_urls = list(webhook_urls or [])
        self.webhook_secret = webhook_secret
        self.webhook_id = self.seed.webhook_id
        self.knobs = knobs or Knobs()
        self.port = port or free_port()
        self.account = Account(self.seed, f"http://127.0.0.1:{self.port}")
        self.events: list[dict[str, Any]] = []  # every event webhook body, delivered or not
        self._lock = threading.RLock()
        # Webhooks created through the API (GET/POST /api/v2/webhooks) receive the event types they
        # subscribe to, with their own secret; the webhook_urls given here receive every event.
        self.webhooks = WebhookRegistry(lambda: list(self.deliveries))
        self._dispatcher = WebhookDispatcher(self._targets, self.account_id, self.knobs)
        self._api = ZendeskApi(self.account, self.knobs, self._lock, self._flush_events, self.webhooks)
        self._server = BackgroundServer(self._api.app(self._admin_routes()), self.port)
        self._stopping = threading.Event()
        self._automations = threading.Thread(target=self._run_automations, name="zendesk-automations", daemon=True)
        integration, agent = self.seed.integration, self.seed.agent
        self.api_user: dict[str, Any] = self.account.users[integration.user_id]
        self.api_token, self.oauth_token = integration.api_token, integration.oauth_token
        self.agent: dict[str, Any] = self.account.users[agent.user_id]
        self.agent_token, self.agent_oauth_token = agent.api_token, agent.oauth_token
        groups = sorted(self.account.groups)
        self.group_id: int = self.seed.default_id("groups") or groups[0]
        self.infra_group_id: int = next(
            (g["id"] for g in self.account.groups.values() if g["name"] == "Infrastructure"),
            groups[-1],
        )
        self.brand_id = self.seed.default_id("brands")

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> ZendeskSandbox:
        self._server.start()
        self._dispatcher.start()
        self._automations.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._automations.is_alive():  # started
            self._server.stop()
        self._dispatcher.stop()
        if self._automations.is_alive():
            self._automations.join(5)

    def serve_forever(self) -> None:
        """Run in the foreground (the command line); webhooks and automations in the background."""
        self._dispatcher.start()
        self._automations.start()
        try:
            self._server.serve_forever()
        finally:
            self._stopping.set()
            self._dispatcher.stop()

    def __enter__(self) -> ZendeskSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- where and who -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._server.url

    @property
    def netloc(self) -> str:
        return self.base_url.removeprefix("http://")

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v2/"

    @property
    def api_email(self) -> str:
        return str(self.api_user["email"])

    @property
    def agent_email(self) -> str:
        return str(self.agent["email"])

    @property
    def deliveries(self) -> list[Delivery]:
        return self._dispatcher.deliveries

    def zenpy_env(self) -> dict[str, str]:
        """Environment that points an unmodified zenpy at this sandbox."""
        return zenpy_env(self.base_url)

    def zenpy(self, *, as_agent: bool = False, oauth: bool = False, **options: Any) -> Zenpy:
        """A configured zenpy client (sets the process's ZENPY_FORCE_* environment)."""
        return zenpy_client(self, as_agent=as_agent, oauth=oauth, **options)

    def ticket_url(self, ticket_id: int) -> str:
        return f"{self.base_url}/agent/tickets/{ticket_id}"

    # --- what happens in Zendesk outside the API -----------------------------------------------

    def receive_email(
        self, from_name: str, from_email: str, subject: str, body: str, group_id: int | None = None
    ) -> int:
        """An email to the support address: a new ticket with via.channel email (ticket.created)."""
        with self._lock:
            sender = self.account.find_or_create_user(from_name, from_email)
            data = {
                "subject": subject,
                "comment": {"body": body},
                "requester_id": sender["id"],
                "group_id": group_id or self.group_id,
                "recipient": self.seed.support_address,
            }
            try:
                return int(self.account.create_ticket(data, self._email_actor(sender))[0]["id"])
            finally:
                self._flush_events()

    def email_reply(self, ticket_id: int, from_email: str, body: str, from_name: str | None = None) -> int:
        """A reply by email: a comment on the ticket, or a follow-up ticket when it is closed.
        Returns the ticket the reply landed on."""
        with self._lock:
            sender = self.account.find_or_create_user(from_name, from_email)
            actor = self._email_actor(sender)
            ticket = self.account.ticket(ticket_id).data
            try:
                if ticket["status"] == "closed":
                    data = {
                        "subject": ticket["subject"],
                        "comment": {"body": body},
                        "requester_id": sender["id"],
                        "group_id": ticket["group_id"],
                        "via_followup_source_id": ticket_id,
                    }
                    return int(self.account.create_ticket(data, actor)[0]["id"])
                self.account.update_ticket(ticket_id, {"comment": {"body": body, "author_id": sender["id"]}}, actor)
                return ticket_id
            finally:
                self._flush_events()

    def agent_comment(
        self,
        ticket_id: int,
        body: str,
        public: bool = True,
        status: str | None = None,
        author_id: int | None = None,
    ) -> int:
        """An agent answers in the agent interface (via.channel web); `status` submits it as
        that status. Returns the comment id."""
        author = int(author_id or self.agent["id"])
        data: dict[str, Any] = {"comment": {"body": body, "public": public, "author_id": author}}
        if status:
            data["status"] = status
        with self._lock:
            try:
                self.account.update_ticket(ticket_id, data, Actor(author, "web", AGENT_UI))
                return int(self.account.ticket(ticket_id).comments[-1]["id"])
            finally:
                self._flush_events()

    def agent_set_status(self, ticket_id: int, status: str, author_id: int | None = None) -> None:
        """An agent changes the status in the agent interface (ticket.status_changed)."""
        author = int(author_id or self.agent["id"])
        with self._lock:
            try:
                self.account.update_ticket(ticket_id, {"status": status}, Actor(author, "web", AGENT_UI))
            finally:
                self._flush_events()

    def close_due_tickets(self) -> list[int]:
        """Run Zendesk's close automation now (it also runs in the background and before every
        API request). Returns the ids it closed."""
        with self._lock:
            try:
                return self.account.close_due_tickets(self.knobs.close_solved_after_seconds)
            finally:
                self._flush_events()

    def set_knobs(self, **changes: Any) -> None:
        self.knobs.update(changes)

    # --- reading the account, for assertions ---------------------------------------------------

    def requests(self, since: float = 0.0) -> list[tuple[float, int]]:
        """API requests answered since `since` (time.monotonic()), as (time, status): what the
        account's rate limit counts, failed ones included."""
        return [r for r in list(self._api.request_log) if r[0] >= since]

    def tickets(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(r.data) for r in self.account.visible_tickets()]

    def external_ids_since(self, start: int) -> list[str | None]:
        """The external_id of every ticket from the `start`-th created on, in creation order (for
        watchers that read only what is new)."""
        with self._lock:
            return [r.data.get("external_id") for r in list(self.account.tickets.values())[start:]]

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.account.ticket(ticket_id).data)

    def comments_of(self, ticket_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self.account.ticket(ticket_id).comments)

    def audits_of(self, ticket_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self.account.ticket(ticket_id).audits)

    def user(self, user_id: int) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.account.user(user_id))

    def find_user(self, email: str) -> dict[str, Any] | None:
        with self._lock:
            found = self.account.find_user(email=email)
            return copy.deepcopy(found) if found else None

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        """Wait until every event so far is delivered (or given up on after retries)."""
        return self._dispatcher.wait_idle(timeout)

    def delivered(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Bodies of the events a target accepted (2xx), in delivery order. `event_type` may be
        short ("comment_added") or full ("zen:event-type:ticket.comment_added")."""
        bodies = [d.body for d in list(self.deliveries) if d.ok]
        if event_type is None:
            return bodies
        return [b for b in bodies if b["type"] in (event_type, f"zen:event-type:ticket.{event_type}")]

    # --- internals -----------------------------------------------------------------------------

    def _email_actor(self, sender: dict[str, Any]) -> Actor:
        source = {
            "from": {"address": sender["email"], "name": sender["name"]},
            "to": {"name": self.seed.name, "address": self.seed.support_address},
            "rel": None,
        }
        return Actor(int(sender["id"]), "email", "Zendesk Mail", source)

    def _flush_events(self) -> None:
        """Called under the lock after every action: its events become webhooks, in order."""
        for event in self.account.drain_events():
            body = event_body(self.account_id, event, str(uuid.uuid4()))
            self.events.append(body)
            if self.webhook_urls or self.webhooks.webhooks:
                self._dispatcher.submit(body)

    def _targets(self, body: dict[str, Any]) -> list[Target]:
        """Where an event goes when it is sent: the constructor's URLs, then the API's webhooks."""
        with self._lock:
            fixed = [Target(url, self.webhook_secret, self.webhook_id) for url in self.webhook_urls]
            return fixed + self.webhooks.targets(str(body["type"]))

    def _run_automations(self) -> None:
        while not self._stopping.wait(0.2):
            try:
                self.close_due_tickets()
            except Exception:  # the automation must outlive a bad tick
                log.exception("close automation failed")

    # --- admin endpoints: what the sandbox offers beyond Zendesk's API -------------------------

    def _admin_routes(self) -> list[BaseRoute]:
        return [
            Route("/_sandbox/email", self._admin(self._admin_email), methods=["POST"]),
            Route("/_sandbox/agent/tickets/{id:int}", self._admin(self._admin_agent), methods=["POST"]),
            Route("/_sandbox/knobs", self._admin(self._admin_knobs), methods=["GET", "POST"]),
            Route("/_sandbox/webhooks", self._admin(self._admin_webhooks), methods=["GET", "PUT"]),
            Route("/_sandbox/close_due", self._admin(self._admin_close_due), methods=["POST"]),
            Route("/_sandbox/deliveries", self._admin(self._admin_deliveries), methods=["GET"]),
            Route("/_sandbox/tickets", self._admin(self._admin_tickets), methods=["GET"]),
        ]

    def _admin(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                data = await request.json() if request.method in ("POST", "PUT") and await request.body() else {}
                return JSONResponse(handler(request, data if isinstance(data, dict) else {}))
            except ZendeskError as exc:
                return JSONResponse(exc.body, status_code=exc.status)
            except (KeyError, ValueError, TypeError) as exc:
                return JSONResponse({"error": "InvalidValue", "description": str(exc)}, status_code=400)

        return endpoint

    def _admin_email(self, request: Request, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("ticket_id"):
            reply_to = int(data["ticket_id"])
            ticket_id = self.email_reply(reply_to, data["from_email"], data["body"], data.get("from_name"))
        else:
            group = int(data["group_id"]) if data.get("group_id") else None
            ticket_id = self.receive_email(data["from_name"], data["from_email"], data["subject"], data["body"], group)
        return {"ticket_id": ticket_id}

    def _admin_agent(self, request: Request, data: dict[str, Any]) -> dict[str, Any]:
        """The agent interface: {body?, public?, status?, author_email?}."""
        ticket_id = int(request.path_params["id"])
        author = self.find_user(data["author_email"]) if data.get("author_email") else self.agent
        if author is None:
            raise ZendeskError(404, {"error": "RecordNotFound", "description": "Not found"})
        comment_id = None
        if data.get("body"):
            comment_id = self.agent_comment(
                ticket_id, data["body"], bool(data.get("public", True)), data.get("status"), author["id"]
            )
        elif data.get("status"):
            self.agent_set_status(ticket_id, data["status"], author["id"])
        return {"ticket": self.ticket(ticket_id), "comment_id": comment_id}

    def _admin_knobs(self, request: Request, data: dict[str, Any]) -> dict[str, Any]:
        if data:
            self.knobs.update(data)
        return self.knobs.as_dict()

    def _admin_webhooks(self, request: Request, data: dict[str, Any]) -> dict[str, Any]:
        if "urls" in data:
            self.webhook_urls[:] = [str(u) for u in data["urls"]]
        if data.get("secret"):
            self.webhook_secret = str(data["secret"])
        return {"id": self.webhook_id, "urls": self.webhook_urls}

    def _admin_close_due(self, request: Request, data: dict[str, Any]) -> dict[str, Any]:
        return {"closed": self.close_due_tickets()}

    def _admin_deliveries(self, request: Request, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "deliveries": [
                {
                    "event_id": d.event_id,
                    "type": d.type,
                    "ticket_id": d.ticket_id,
                    "url": d.url,
                    "attempt": d.attempt,
                    "status": d.status,
                    "error": d.error,
                }
                for d in list(self.deliveries)
            ]
        }

    def _admin_tickets(self, request: Request, data: dict[str, Any]) -> dict[str, Any]:
        return {"tickets": self.tickets()}

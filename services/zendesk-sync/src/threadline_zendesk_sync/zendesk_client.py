"""Zendesk as zendesk-sync uses it (tickets, comments, users, uploads), through zenpy, within
the account's budget.

zenpy is synchronous: its calls run in a pool of threads, each with its own client and session.
Every failure comes out as the engine's kind (TransientError, NotFound, PermanentError). The
caches only spare API calls: they are dropped on every rebalance, and the entry a failed write
may have made stale is dropped at once, so a retry always looks at Zendesk again.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry
from zenpy import Zenpy
from zenpy.lib.api_objects import Ticket, User
from zenpy.lib.exception import APIException, RecordNotFoundException, ZenpyException

from threadline_common.retry import TransientError
from threadline_zendesk_sync.budgets import Budgets
from threadline_zendesk_sync.lru import LRU
from threadline_zendesk_sync.plan import failures, people, zendesk_requests
from threadline_zendesk_sync.plan.failures import NotFound, PermanentError
from threadline_zendesk_sync.plan.people import Person
from threadline_zendesk_sync.settings import ZendeskSyncSettings

log = logging.getLogger(__name__)
T = TypeVar("T")


class ZendeskRateLimited(TransientError):
    """Zendesk answered 429: the account's budget is spent until Retry-After."""


class KeyedSession(requests.Session):
    """zenpy's session, one per pool thread. Sends `idempotency_key` (set by `Zendesk.call` for
    the one call that runs in this thread) on its POST, and retries inside the client only a
    connection that never reached Zendesk. Anything Zendesk answered (a 503, a read that timed
    out) is retried by the engine, through the account's budget and with its pause: a retry here
    would be a request the budget never counted, and a PUT that timed out may have added its
    comment, which the executor looks for first."""

    def __init__(self, pool_size: int = 10) -> None:
        super().__init__()
        self.idempotency_key: str | None = None
        retry = Retry(
            total=3,
            connect=3,
            read=0,
            status=0,
            other=0,
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=False,
            raise_on_status=False,
        )
        for scheme in ("https://", "http://"):
            self.mount(scheme, HTTPAdapter(max_retries=retry, pool_connections=pool_size, pool_maxsize=pool_size))

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        key = self.idempotency_key
        if key and str(method).upper() == "POST":
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "Idempotency-Key": key}
        response = super().request(method, url, *args, **kwargs)
        if response.status_code == 429:
            # Raised before zenpy would sleep in this thread: the whole account waits (budgets).
            # Zendesk's 429 body is plain text; only the Retry-After header is read.
            raise ZendeskRateLimited("Zendesk rate limit", failures.seconds(response.headers or {}))
        return response


def _zendesk_error(exc: Exception) -> Exception:
    response = getattr(exc, "response", None)
    if response is None:
        if isinstance(exc, requests.RequestException):
            return TransientError(f"Zendesk unreachable: {type(exc).__name__}", service="zendesk")
        return PermanentError(f"zenpy: {str(exc)[:300]}")
    return failures.zendesk_failure(response.status_code, response.text or "", failures.seconds(response.headers or {}))


class Zendesk:
    def __init__(self, settings: ZendeskSyncSettings, budgets: Budgets) -> None:
        self.settings = settings
        self.budgets = budgets
        if settings.zendesk_oauth_token is not None:
            self._auth: dict[str, Any] = {"oauth_token": settings.zendesk_oauth_token.get_secret_value()}
        else:
            assert settings.zendesk_api_token is not None  # the settings validator made sure
            self._auth = {"email": settings.zendesk_email, "token": settings.zendesk_api_token.get_secret_value()}
        self._local = threading.local()
        # As many threads as calls may be in flight.
        self._pool = ThreadPoolExecutor(settings.zendesk_concurrency, thread_name_prefix="zendesk")
        self.reset_caches()

    def reset_caches(self) -> None:
        self.ticket_ids = LRU()  # external_id -> ticket id
        self.ticket_comments = LRU(2000)  # ticket id -> {comment id: comment}
        self.users = LRU()  # email or external id -> zendesk user id
        self.photos = LRU()  # zendesk user id -> photo url or None

    @property
    def zen(self) -> Zenpy:
        """This thread's zenpy client. zenpy keeps the object being written on its API objects
        until the answer is processed, so pool threads sharing one client race: one thread clears
        it while another reads it, and a write that succeeded raises TypeError (the command then
        failed for good, its ticket made). Each thread has its own, with one connection."""
        return self._thread_client()[0]

    def _thread_client(self) -> tuple[Zenpy, KeyedSession]:
        found: tuple[Zenpy, KeyedSession] | None = getattr(self._local, "client", None)
        if found is None:
            session = KeyedSession(2)
            client = Zenpy(
                subdomain=self.settings.zendesk_subdomain,
                session=session,
                timeout=self.settings.zendesk_timeout_seconds,
                **self._auth,
            )
            client.disable_caching()  # always read the server: another worker may have written
            found = self._local.client = (client, session)
        return found

    def _run(self, call: Callable[[], T], idempotency_key: str | None) -> T:
        """In a pool thread: `call`, its POST carrying `idempotency_key` (this thread's session
        sends it for this call only)."""
        session = self._thread_client()[1]
        session.idempotency_key = idempotency_key
        try:
            return call()
        finally:
            session.idempotency_key = None

    async def call(self, call: Callable[[], T], idempotency_key: str | None = None) -> T:
        """One Zendesk request (`call` uses `self.zen`), counted by the account's budget."""
        try:
            async with self.budgets.zendesk_call():
                return await asyncio.get_running_loop().run_in_executor(self._pool, self._run, call, idempotency_key)
        except ZendeskRateLimited as exc:
            self.budgets.zendesk_limited(exc.retry_after or 60.0)  # the whole account waits
            raise
        except RecordNotFoundException as exc:
            raise NotFound(f"Zendesk answered 404: {str(exc)[:200]}") from exc
        except (APIException, ZenpyException, requests.RequestException) as exc:
            raise _zendesk_error(exc) from exc

    # --- tickets ------------------------------------------------------------------------------------

    async def ticket(self, ticket_id: int) -> Any:
        return await self.call(lambda: self.zen.tickets(id=ticket_id))

    async def find_ticket(self, external_id: str) -> int | None:
        """The id of the ticket with this external_id, if there is one."""
        if external_id in self.ticket_ids:
            cached: int = self.ticket_ids[external_id]
            return cached
        # zenpy puts the value in the URL as it is: the "#" of a follow-up's id would end the query.
        found = await self.call(lambda: list(self.zen.tickets(external_id=quote(external_id, safe=""))))
        if not found:
            return None
        if len(found) > 1:
            log.warning("%d tickets share external_id %s; using the oldest", len(found), external_id)
        ticket_id = min(int(t.id) for t in found)
        self.ticket_ids.put(external_id, ticket_id)
        return ticket_id

    async def ticket_id_for(self, ticket_id: int | None, external_id: str) -> int:
        """A command's ticket, by the id the router knew (checked by listing its comments, which
        the command needs anyway), else by external_id."""
        if ticket_id:
            try:
                await self.comments(ticket_id)
                return ticket_id
            except NotFound:
                pass  # deleted or merged: the external_id may still find the live one
        found = await self.find_ticket(external_id)
        if found is None:
            # The create command is ahead of this one on the same partition, so this is not
            # a race: that ticket failed to be created (and the thread was told).
            raise PermanentError(f"no ticket with external_id {external_id}")
        return found

    async def create_ticket(self, external_id: str, body: dict[str, Any], idempotency_key: str) -> int:
        audit = await self.call(lambda: self.zen.tickets.create(Ticket(**body)), idempotency_key)
        ticket_id = int(audit.ticket.id)
        self.ticket_ids.put(external_id, ticket_id)
        return ticket_id

    async def comments(self, ticket_id: int, refresh: bool = False) -> dict[int, dict[str, Any]]:
        key = str(ticket_id)
        if refresh or key not in self.ticket_comments:
            listed = await self.call(lambda: [c.to_dict() for c in self.zen.tickets.comments(ticket=ticket_id)])
            self.ticket_comments.put(key, {int(c["id"]): c for c in listed})
        comments: dict[int, dict[str, Any]] = self.ticket_comments[key]
        return comments

    async def already_written(self, ticket_id: int, command_id: str) -> bool:
        return await self.written_comment(ticket_id, command_id) is not None

    async def written_comment(self, ticket_id: int, command_id: str) -> int | None:
        """The id of the comment Threadline wrote for `command_id`, if it is on the ticket."""
        comments = await self.comments(ticket_id)
        return next((cid for cid, c in comments.items() if zendesk_requests.written_by_us(c) == command_id), None)

    async def update_ticket(self, ticket_id: int, body: dict[str, Any]) -> int | None:
        """PUT the ticket; remember the comment it added, or forget what was known if the
        answer was lost (the comment may be there). The id of the comment it added, if any."""
        key = str(ticket_id)
        try:
            response = await self.call(lambda: self.zen.tickets.update(Ticket(id=ticket_id, **body)))
        except BaseException:
            self.ticket_comments.pop(key, None)
            raise
        audit = getattr(response, "audit", None)
        events = audit.get("events") if isinstance(audit, dict) else getattr(audit, "events", None)
        known = self.ticket_comments.get(key)
        added = None
        for event in events or []:
            event = event if isinstance(event, dict) else event.to_dict()
            if event.get("type") == "Comment" and event.get("id") is not None:
                added = int(event["id"])
                if known is not None:
                    known[added] = {**event, "metadata": {"custom": body.get("metadata") or {}}}
        return added

    async def upload(self, content: bytes, name: str, mimetype: str) -> str:
        """An attachment upload; its token goes with the comment that shows it."""
        upload = await self.call(
            lambda: self.zen.attachments.upload(io.BytesIO(content), target_name=name, content_type=mimetype)
        )
        return str(upload.token)

    # --- users --------------------------------------------------------------------------------------

    async def user(self, user_id: int) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = (await self.call(lambda: self.zen.users(id=user_id))).to_dict()
        except NotFound:
            return None
        return found

    async def user_id(self, person: Person) -> int | None:
        """The Zendesk user of a Slack person, matched by email, or for people Slack shares no
        email of (Slack Connect guests) by external_id `slack:<id>`; created when there is none,
        and never renamed when there is. None for bots."""
        key = person.email or person.zendesk_external_id
        if key is None:
            return None
        if key not in self.users:
            if person.email:
                query: dict[str, str] = {"query": f"email:{person.email}"}
                fields = {"name": person.name, "email": person.email}
            else:
                query = {"external_id": key}
                fields = {"name": person.name, "external_id": key}
            found = await self.call(lambda: list(self.zen.users.search(**query)))
            match: Any = next((u for u in found if people.same_user(u.to_dict(), person.email, key)), None)
            if match is None:
                match = await self.call(lambda: self.zen.users.create_or_update(User(**fields)))
            self.users.put(key, int(match.id))
        return int(self.users[key])

    async def agent_by_email(self, email: str) -> dict[str, Any] | None:
        """The Zendesk agent (or admin) with this email, if there is one."""
        found = await self.call(lambda: [u.to_dict() for u in self.zen.users.search(query=f"email:{email}")])
        return next((u for u in found if people.same_user(u, email, "") and people.is_agent(u)), None)

    async def user_by_email(self, email: str) -> dict[str, Any] | None:
        """The Zendesk user (of any role) with this email, if there is one."""
        found = await self.call(lambda: [u.to_dict() for u in self.zen.users.search(query=f"email:{email}")])
        return next((u for u in found if people.same_user(u, email, "")), None)

    async def photo(self, user_id: int | None) -> str | None:
        if not user_id:
            return None
        key = str(user_id)
        if key not in self.photos:
            self.photos.put(key, people.photo_url(await self.user(int(user_id))))
        photo: str | None = self.photos[key]
        return photo

"""The effects of commands on Zendesk (zenpy) and Slack (slack_sdk), each done once.

Before any write, the executor checks whether it already happened, using what the write left
behind: the ticket's external_id, the comment's audit metadata, the Slack message's metadata.
The caches only spare API calls: they are dropped on every rebalance, and the entry a failed
write may have made stale is dropped at once, so a retry always looks at Zendesk and Slack again.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
import requests
from requests.adapters import HTTPAdapter
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from urllib3.util.retry import Retry
from zenpy import Zenpy
from zenpy.lib.api_objects import Ticket, User
from zenpy.lib.exception import APIException, RecordNotFoundException, ZenpyException

from threadline_common import to_slack
from threadline_zendesk_sync import plan
from threadline_zendesk_sync.budgets import Budgets
from threadline_zendesk_sync.pagerduty import PagerDuty
from threadline_zendesk_sync.plan import NotFound, Outcome, PermanentError, Person, ThreadGone, TransientError
from threadline_zendesk_sync.settings import ZendeskSyncSettings

log = logging.getLogger(__name__)
T = TypeVar("T")


_idempotency_key: contextvars.ContextVar[str | None] = contextvars.ContextVar("idempotency_key", default=None)


class KeyedSession(requests.Session):
    """zenpy's session. Adds the Idempotency-Key of the ticket being created, and retries inside
    the client only a connection that never reached Zendesk. Anything Zendesk answered (a 503,
    a read that timed out) is retried by the engine, through the account's budget and with its
    pause: a retry here would be a request the budget never counted, made at once (every read
    during an outage was four requests to Zendesk), and a PUT that timed out may have added its
    comment, which the executor looks for first."""

    def __init__(self, pool_size: int = 10) -> None:
        super().__init__()
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
            # A connection per call in flight (each pool thread has its own session), none thrown away.
            self.mount(scheme, HTTPAdapter(max_retries=retry, pool_connections=pool_size, pool_maxsize=pool_size))

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        key = _idempotency_key.get()
        if key and str(method).upper() == "POST":
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "Idempotency-Key": key}
        response = super().request(method, url, *args, **kwargs)
        if response.status_code == 429:
            # Raised before zenpy would sleep in this thread: the whole account waits (budgets).
            # Zendesk's 429 body is plain text; only the Retry-After header is read.
            raise ZendeskRateLimited("Zendesk rate limit", plan.seconds(response.headers))
        return response


class LRU(OrderedDict[str, Any]):
    def __init__(self, size: int = 5000) -> None:
        super().__init__()
        self.size = size

    def put(self, key: str, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class ZendeskRateLimited(TransientError):
    """Zendesk answered 429: the account's budget is spent until Retry-After."""


def slack_method_name(method: Callable[..., Any]) -> str:
    """slack_sdk's `chat_postMessage` -> Slack's `chat.postMessage`."""
    return getattr(method, "__name__", "unknown").replace("_", ".", 1)


def _header(headers: Any, name: str) -> Any:
    for key, value in (headers or {}).items():
        if str(key).lower() == name:
            return value
    return None


def _zendesk_error(exc: Exception) -> Exception:
    response = getattr(exc, "response", None)
    if response is None:
        if isinstance(exc, requests.RequestException):
            return TransientError(f"Zendesk unreachable: {type(exc).__name__}", service="zendesk")
        return PermanentError(f"zenpy: {str(exc)[:300]}")
    return plan.zendesk_failure(response.status_code, response.text or "", _header(response.headers, "retry-after"))


class Effects:
    def __init__(self, settings: ZendeskSyncSettings, budgets: Budgets | None = None) -> None:
        self.settings = settings
        auth: dict[str, Any]
        if settings.zendesk_oauth_token is not None:
            auth = {"oauth_token": settings.zendesk_oauth_token.get_secret_value()}
        else:
            assert settings.zendesk_api_token is not None  # the settings validator made sure
            auth = {"email": settings.zendesk_email, "token": settings.zendesk_api_token.get_secret_value()}
        self._zendesk_auth = auth
        self._zen_local = threading.local()
        slack_options: dict[str, Any] = {}
        if settings.slack_api_url:
            slack_options["base_url"] = settings.slack_api_url
        # Nothing is retried inside the client: a 429 holds its resource for every command that
        # needs it (budgets), and a post whose answer was lost is looked for before it is retried.
        self.slack = AsyncWebClient(
            token=settings.slack_bot_token.get_secret_value(),
            timeout=int(settings.slack_timeout_seconds),
            retry_handlers=[],
            **slack_options,
        )
        self.pagerduty = (
            PagerDuty(settings.pagerduty_api_url, settings.pagerduty_api_token.get_secret_value())
            if settings.pagerduty_api_token is not None
            else None
        )
        self.budgets = budgets or Budgets(settings.zendesk_budget_per_minute, settings.slack_channel_interval_seconds)
        # zenpy is synchronous: its calls run in a pool of their own, as many as may be in flight.
        self._zendesk_pool = ThreadPoolExecutor(settings.zendesk_concurrency, thread_name_prefix="zendesk")
        self.team_id: str | None = None
        self._slack_loop: asyncio.AbstractEventLoop | None = None
        self.reset_caches()

    @property
    def zen(self) -> Zenpy:
        """This thread's zenpy client. zenpy keeps the object being written on its API objects
        until the answer is processed, so pool threads sharing one client race: one thread clears
        it while another reads it, and a write that succeeded raises TypeError (the command then
        failed for good, its ticket made). Each thread has its own, with one connection."""
        client: Zenpy | None = getattr(self._zen_local, "client", None)
        if client is None:
            client = Zenpy(
                subdomain=self.settings.zendesk_subdomain,
                session=KeyedSession(2),
                timeout=self.settings.zendesk_timeout_seconds,
                **self._zendesk_auth,
            )
            client.disable_caching()  # always read the server: another worker may have written
            self._zen_local.client = client
        return client

    def reset_caches(self) -> None:
        self.ticket_ids = LRU()  # external_id -> ticket id
        self.ticket_comments = LRU(2000)  # ticket id -> {comment id: comment}
        self.thread_posts = LRU(2000)  # "channel:thread" -> {command id: ts}
        self.slack_people = LRU()  # slack user id -> Person
        self.zendesk_users = LRU()  # email or external id -> zendesk user id
        self.zendesk_photos = LRU()  # zendesk user id -> photo url or None
        self.upload_tokens = LRU()  # slack file id -> zendesk upload token (a retry sends the same body)
        self.slack_by_email = LRU()  # email -> Slack user id or None

    # --- calls -----------------------------------------------------------------------------------

    async def zendesk(self, call: Callable[[], T], idempotency_key: str | None = None) -> T:
        token = _idempotency_key.set(idempotency_key)
        try:
            context = contextvars.copy_context()  # the context (and so the key) goes along
            async with self.budgets.zendesk_call():
                return await asyncio.get_running_loop().run_in_executor(self._zendesk_pool, context.run, call)
        except ZendeskRateLimited as exc:
            self.budgets.zendesk_limited(exc.retry_after or 60.0)  # the whole account waits
            raise
        except RecordNotFoundException as exc:
            raise NotFound(f"Zendesk answered 404: {str(exc)[:200]}") from exc
        except (APIException, ZenpyException, requests.RequestException) as exc:
            raise _zendesk_error(exc) from exc
        finally:
            _idempotency_key.reset(token)

    def _slack_session(self) -> None:
        """One aiohttp session (a pool of kept-alive connections) for every Slack call made in
        this event loop. Without one, slack_sdk opens a new session, and so a new connection
        (a TLS handshake against Slack), for each call and closes it after."""
        loop = asyncio.get_running_loop()
        session = self.slack.session
        if session is None or session.closed or self._slack_loop is not loop:
            self._slack_loop = loop
            self.slack.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.settings.slack_timeout_seconds),
                connector=aiohttp.TCPConnector(limit=max(100, self.settings.max_in_flight)),
            )

    async def close(self) -> None:
        session = self.slack.session
        if session is not None and not session.closed and self._slack_loop is asyncio.get_running_loop():
            await session.close()

    async def slack_call(self, method: Callable[..., Awaitable[AsyncSlackResponse]], **kwargs: Any) -> Any:
        name = slack_method_name(method)
        channel = kwargs.get("channel")
        await self.budgets.slack_call(name, channel)
        self._slack_session()
        try:
            return await method(**kwargs)
        except SlackApiError as exc:
            response = exc.response
            failure = plan.slack_failure(
                int(response.status_code), response.get("error"), _header(response.headers, "retry-after")
            )
            if isinstance(failure, TransientError) and failure.retry_after is not None:
                self.budgets.slack_limited(name, channel, failure.retry_after)
            raise failure from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise TransientError(f"Slack unreachable: {type(exc).__name__}", service="slack") from exc

    async def slack_in_channel(self, method: Callable[..., Awaitable[AsyncSlackResponse]], **kwargs: Any) -> Any:
        """A call in a channel (reading its threads, posting). In a public channel the app was
        never invited to, Slack answers not_in_channel: the app joins it by itself and calls
        again. (A private channel it is not in is channel_not_found: only an invitation helps.)"""
        try:
            return await self.slack_call(method, **kwargs)
        except PermanentError as exc:
            if "not_in_channel" not in str(exc):
                raise
        log.info("joining channel %s, which Threadline serves but was not invited to", kwargs["channel"])
        await self.slack_call(self.slack.conversations_join, channel=kwargs["channel"])
        return await self.slack_call(method, **kwargs)

    async def slack_team(self) -> str:
        if self.team_id is None:
            self.team_id = str((await self.slack_call(self.slack.auth_test))["team_id"])
        return self.team_id

    # --- people --------------------------------------------------------------------------------------

    async def slack_person(self, user_id: str | None, name: str | None = None, email: str | None = None) -> Person:
        if not user_id or (name and email):
            return plan.person_from_slack(user_id, None, name, email)
        if user_id not in self.slack_people:
            user = None
            try:
                if user_id.startswith("B"):
                    bot = (await self.slack_call(self.slack.bots_info, bot=user_id))["bot"]
                    user = {"name": bot.get("name"), "is_bot": True}
                else:
                    user = (await self.slack_call(self.slack.users_info, user=user_id))["user"]
            except PermanentError as exc:  # gone, or hidden from us (Slack Connect): fall back to the id
                log.info("no Slack profile for %s: %s", user_id, exc)
            self.slack_people.put(user_id, plan.person_from_slack(user_id, user))
        found: Person = self.slack_people[user_id]
        return replace(found, name=name or found.name, email=email or found.email)

    async def plain(self, text: str) -> str:
        """Slack mrkdwn with mentions named, for Zendesk."""
        names = {uid: (await self.slack_person(uid)).name for uid in plan.mentioned_users(text)}
        return plan.slack_to_plain(text, names)

    async def subject(self, text: str) -> str:
        """A ticket subject from the router's (or a message's) text, with people named."""
        names = {uid: (await self.slack_person(uid)).name for uid in plan.mentioned_users(text)}
        return plan.subject_from(text, names)

    async def named(self, note: str) -> str:
        """A note the router wrote, with people's names where it has their ids."""
        names = {uid: (await self.slack_person(uid)).name for uid in plan.note_people(note)}
        return plan.name_people(note, names)

    async def zendesk_user_id(self, person: Person) -> int | None:
        """The Zendesk user of a Slack person, matched by email, or for people Slack shares no
        email of (Slack Connect guests) by external_id `slack:<id>`; created when there is none,
        and never renamed when there is. None for bots."""
        key = person.email or person.zendesk_external_id
        if key is None:
            return None
        if key not in self.zendesk_users:
            if person.email:
                query: dict[str, str] = {"query": f"email:{person.email}"}
                fields = {"name": person.name, "email": person.email}
            else:
                query = {"external_id": key}
                fields = {"name": person.name, "external_id": key}
            found = await self.zendesk(lambda: list(self.zen.users.search(**query)))
            match: Any = next((u for u in found if plan.same_user(u.to_dict(), person.email, key)), None)
            if match is None:
                match = await self.zendesk(lambda: self.zen.users.create_or_update(User(**fields)))
            self.zendesk_users.put(key, int(match.id))
        return int(self.zendesk_users[key])

    async def agent_photo(self, user_id: Any) -> str | None:
        if not user_id:
            return None
        key = str(user_id)
        if key not in self.zendesk_photos:
            try:
                user = await self.zendesk(lambda: self.zen.users(id=int(user_id)))
                self.zendesk_photos.put(key, plan.photo_url(user.to_dict()))
            except NotFound:
                self.zendesk_photos.put(key, None)
        photo: str | None = self.zendesk_photos[key]
        return photo

    # --- tickets -------------------------------------------------------------------------------------

    async def find_ticket(self, external_id: str) -> int | None:
        """The id of the ticket with this external_id, if there is one."""
        if external_id in self.ticket_ids:
            cached: int = self.ticket_ids[external_id]
            return cached
        # zenpy puts the value in the URL as it is: the "#" of a follow-up's id would end the query.
        found = await self.zendesk(lambda: list(self.zen.tickets(external_id=quote(external_id, safe=""))))
        if not found:
            return None
        if len(found) > 1:
            log.warning("%d tickets share external_id %s; using the oldest", len(found), external_id)
        ticket_id = min(int(t.id) for t in found)
        self.ticket_ids.put(external_id, ticket_id)
        return ticket_id

    async def ticket_id_for(self, command: Mapping[str, Any]) -> int:
        """The command's ticket, by the id the router knew (checked by listing its comments,
        which the command needs anyway), else by external_id."""
        if command.get("ticket_id"):
            try:
                await self.comments(int(command["ticket_id"]))
                return int(command["ticket_id"])
            except NotFound:
                pass  # deleted or merged: the external_id may still find the live one
        ticket_id = await self.find_ticket(command["external_id"])
        if ticket_id is None:
            # The create command is ahead of this one on the same partition, so this is not
            # a race: that ticket failed to be created (and the thread was told).
            raise PermanentError(f"no ticket with external_id {command['external_id']}")
        return ticket_id

    async def comments(self, ticket_id: int, refresh: bool = False) -> dict[int, dict[str, Any]]:
        key = str(ticket_id)
        if refresh or key not in self.ticket_comments:
            listed = await self.zendesk(lambda: [c.to_dict() for c in self.zen.tickets.comments(ticket=ticket_id)])
            self.ticket_comments.put(key, {int(c["id"]): c for c in listed})
        comments: dict[int, dict[str, Any]] = self.ticket_comments[key]
        return comments

    async def already_written(self, ticket_id: int, command_id: str) -> bool:
        comments = await self.comments(ticket_id)
        return any(plan.written_by_us(c) == command_id for c in comments.values())

    async def update_ticket(self, ticket_id: int, body: dict[str, Any]) -> Any:
        """PUT the ticket; remember the comment it added, or forget what was known if the
        answer was lost (the comment may be there)."""
        key = str(ticket_id)
        try:
            response = await self.zendesk(lambda: self.zen.tickets.update(Ticket(id=ticket_id, **body)))
        except BaseException:
            self.ticket_comments.pop(key, None)
            raise
        audit = getattr(response, "audit", None)
        events = audit.get("events") if isinstance(audit, dict) else getattr(audit, "events", None)
        known = self.ticket_comments.get(key)
        for event in events or []:
            event = event if isinstance(event, dict) else event.to_dict()
            if event.get("type") == "Comment" and known is not None:
                known[int(event["id"])] = {**event, "metadata": {"custom": body.get("metadata") or {}}}
        return response

    async def carry_files(self, files: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
        """Upload Slack files to Zendesk: (upload tokens, notes about files that did not make it)."""
        tokens: list[str] = []
        notes: list[str] = []
        for f in files:
            name = str(f.get("name") or f["id"])
            if f["id"] in self.upload_tokens:
                tokens.append(self.upload_tokens[f["id"]])
                continue
            content = await self._download(f)
            if content is None:
                notes.append(f"{name}: could not be downloaded from Slack")
                continue
            upload = await self.zendesk(
                partial(
                    # self.zen in the pool's thread, where the call runs
                    lambda content, name, mimetype: self.zen.attachments.upload(
                        io.BytesIO(content), target_name=name, content_type=mimetype
                    ),
                    content,
                    name,
                    f.get("mimetype") or "application/octet-stream",
                )
            )
            self.upload_tokens.put(f["id"], str(upload.token))
            tokens.append(str(upload.token))
        return tokens, notes

    async def _download(self, f: Mapping[str, Any]) -> bytes | None:
        token = self.settings.slack_bot_token.get_secret_value()
        limit = self.settings.max_file_bytes

        def get() -> bytes | None:
            with requests.get(
                f["url_private"], headers={"Authorization": f"Bearer {token}"}, stream=True, timeout=30
            ) as response:
                # Without a valid token Slack answers 200 with its sign-in page.
                if response.status_code != 200 or response.headers.get("content-type", "").startswith("text/html"):
                    return None
                content = response.raw.read(limit + 1, decode_content=True)
                return None if len(content) > limit else content

        try:
            return await asyncio.to_thread(get)
        except requests.RequestException as exc:
            raise TransientError(f"Slack file unreachable: {type(exc).__name__}") from exc

    # --- Slack posts -----------------------------------------------------------------------------------

    async def posts(self, channel: str, thread_ts: str | None, since: float) -> dict[str, str]:
        """Threadline's posts in a thread (or at the top of a channel) since `since` (Slack epoch
        seconds): command id -> ts. Bounded by time, not by a count of messages: a post for a
        command cannot be older than the command, so however busy the channel was between a crash
        and the retry, every page since then is read."""
        key = f"{channel}:{thread_ts}"
        cached = self.thread_posts.get(key)
        if cached is not None and cached[0] <= since:
            return dict(cached[1])
        method = self.slack.conversations_replies if thread_ts else self.slack.conversations_history
        where: dict[str, Any] = {"ts": thread_ts} if thread_ts else {}
        found: dict[str, str] = {}
        cursor = None
        while True:
            page = await self.slack_in_channel(
                method,
                channel=channel,
                oldest=f"{since:.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
                **where,
            )
            found.update({cid: m["ts"] for m in page["messages"] if (cid := plan.posted_command(m))})
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                break
        self.thread_posts.put(key, (since, found))
        return dict(found)

    async def post_once(
        self,
        command_id: str,
        channel: str,
        thread_ts: str | None,
        text: str,
        metadata: dict[str, Any],
        *,
        since: float,
        **extra: Any,
    ) -> tuple[str, bool]:
        """Post unless a post for this command is already there (looked for since `since`, see
        `posts`): (its ts, whether posted now)."""
        posts = await self.posts(channel, thread_ts, since)
        if command_id in posts:
            return posts[command_id], False
        args: dict[str, Any] = {"channel": channel, "text": text, "metadata": metadata, **extra}
        if thread_ts:
            args["thread_ts"] = thread_ts
        try:
            response = await self.slack_in_channel(self.slack.chat_postMessage, **args)
        except BaseException:
            self.thread_posts.pop(f"{channel}:{thread_ts}", None)  # the post may have been made
            raise
        ts = str(response["ts"])
        cached = self.thread_posts.get(f"{channel}:{thread_ts}")
        if cached is not None:
            cached[1][command_id] = ts
        return ts, True

    # --- commands -------------------------------------------------------------------------------------

    async def create_ticket(self, command: dict[str, Any]) -> Outcome:
        """zendesk.create_ticket and zendesk.create_followup: the ticket, then its link in the thread."""
        ticket_id = await self.find_ticket(command["external_id"])
        created = ticket_id is None
        left: list[str] = []
        if ticket_id is None:
            ticket_id, left = await self._new_ticket(command)
            log.info("created ticket %s", ticket_id)
        url = self.settings.ticket_url(ticket_id)
        results = [plan.result("ticket_created", command, ticket_id=ticket_id, ticket_url=url)]
        text = plan.ticket_link_text(ticket_id, url, command.get("via_followup_source_id"))
        try:
            _, posted = await self.post_once(
                f"announce:{command['command_id']}",
                command["slack_channel_id"],
                command["slack_thread_ts"],
                text,
                plan.post_metadata(f"announce:{command['command_id']}", ticket_id=ticket_id),
                since=plan.look_back_from(command),
                blocks=plan.ticket_link_blocks(text, url),
            )
            await self.files_left(command, command["slack_channel_id"], command["slack_thread_ts"], left)
        except ThreadGone as exc:
            # The question was asked, so its ticket stands (made from the event's own text); the
            # thread to announce it in is gone, and the router tells the ticket so.
            posted = False
            results.append(plan.result("thread_gone", command, ticket_id=ticket_id, ticket_url=url, reason=str(exc)))
        return Outcome("done" if created or posted else "already_done", results, f"ticket {ticket_id}")

    async def files_left(
        self, command: Mapping[str, Any], channel: str, thread_ts: str | None, notes: list[str]
    ) -> None:
        """Tell the thread which files stayed in Slack (too large, or not downloadable)."""
        if notes and thread_ts:
            command_id = f"files:{command['command_id']}"
            text = plan.files_left_text(notes, self.settings.max_file_bytes)
            await self.post_once(
                command_id, channel, thread_ts, text, plan.post_metadata(command_id), since=plan.look_back_from(command)
            )

    async def _new_ticket(self, command: dict[str, Any]) -> tuple[int, list[str]]:
        if command.get("fetch_message"):
            command = await self._with_message(command)
        given = command.get("requester") or {}
        requester = await self.slack_person(given.get("slack_user_id"), given.get("name"), given.get("email"))
        requester_id = await self.zendesk_user_id(requester)
        carry, notes = plan.split_files(command.get("files") or [], self.settings.max_file_bytes)
        uploads, failed = await self.carry_files(carry)
        opened_by = None
        if command.get("opened_by") and command["opened_by"] != requester.slack_user_id:
            opened_by = (await self.slack_person(command["opened_by"])).name
        body = plan.ticket_request(
            command,
            body=await self.plain(command["body"]),
            requester_id=requester_id,
            requester=requester,
            permalink=command.get("permalink")
            or await self._permalink(command["slack_channel_id"], command["slack_thread_ts"]),
            uploads=uploads,
            file_notes=notes + failed,
            opened_by=opened_by,
            subject=await self.subject(command.get("subject") or command["body"]),
        )
        audit = await self.zendesk(lambda: self.zen.tickets.create(Ticket(**body)), command["command_id"])
        ticket_id = int(audit.ticket.id)
        self.ticket_ids.put(command["external_id"], ticket_id)
        return ticket_id, notes + failed

    async def _permalink(self, channel: str, ts: str) -> str | None:
        try:
            response = await self.slack_call(self.slack.chat_getPermalink, channel=channel, message_ts=ts)
        except PermanentError:
            return None
        return str(response["permalink"])

    async def _with_message(self, command: dict[str, Any]) -> dict[str, Any]:
        """A ticket asked for with a reaction: its text and author come from the message."""
        channel, ts = command["slack_channel_id"], command["slack_thread_ts"]
        page = await self.slack_in_channel(self.slack.conversations_replies, channel=channel, ts=ts, limit=1)
        messages = page["messages"]
        message = next((m for m in messages if m.get("ts") == ts), messages[0])
        text = str(message.get("text") or "")
        return {
            **command,
            "body": text,
            "subject": text,  # the router had no text to take it from
            "requester": {"slack_user_id": message.get("user") or message.get("bot_id")},
            "files": command.get("files") or message.get("files") or [],
        }

    async def add_comment(self, command: dict[str, Any]) -> Outcome:
        ticket_id = await self.ticket_id_for(command)
        if await self.already_written(ticket_id, command["command_id"]):
            return Outcome("already_done", detail=f"ticket {ticket_id}")
        # A closed ticket refuses the update with a 422 that says so: that is the check.
        given = command.get("author") or {}
        author = await self.slack_person(given.get("slack_user_id"), given.get("name"), given.get("email"))
        public = bool(command.get("public", True))
        author_id = await self.zendesk_user_id(author) if public else None
        carry, notes = plan.split_files(command.get("files") or [], self.settings.max_file_bytes)
        uploads, failed = await self.carry_files(carry)
        text = command["body"] if public else await self.named(command["body"])
        body = plan.comment_request(
            command,
            body=await self.plain(text),
            author_id=author_id,
            author=author,
            uploads=uploads,
            file_notes=notes + failed,
        )
        await self.update_ticket(ticket_id, body)
        if public:
            thread = plan.thread_of(command["conversation_id"])[2]
            await self.files_left(command, command["slack_channel_id"], thread, notes + failed)
        return Outcome("done", detail=f"ticket {ticket_id}")

    async def set_status(self, command: dict[str, Any]) -> Outcome:
        ticket_id = await self.ticket_id_for(command)
        ticket = await self.zendesk(lambda: self.zen.tickets(id=ticket_id))
        note = command.get("comment")
        if note:
            # A replay after the ticket moved on (reopened by a reply) must not solve it again.
            if await self.already_written(ticket_id, command["command_id"]):
                return Outcome("already_done", detail=f"ticket {ticket_id}")
            note = await self.named(note)
        body = plan.status_request(command, ticket_id, str(ticket.status), note)
        if body is None:
            return Outcome("already_done", detail=f"ticket {ticket_id} is {ticket.status}")
        await self.update_ticket(ticket_id, body)
        return Outcome("done", detail=f"ticket {ticket_id} {ticket.status} -> {command['status']}")

    async def post_message(self, command: dict[str, Any]) -> Outcome:
        extra: dict[str, Any] = {}
        if command["purpose"] == "agent_comment":
            payload = (command.get("metadata") or {}).get("event_payload") or {}
            ticket_id, comment_id = int(payload["ticket_id"]), int(payload["comment_id"])
            comment = (await self.comments(ticket_id)).get(comment_id)
            if comment is None:
                comment = (await self.comments(ticket_id, refresh=True)).get(comment_id)
            # Loop guard: what Threadline wrote to Zendesk, and internal notes, never come back.
            if not plan.agent_may_post(comment):
                return Outcome("skipped", detail=f"comment {comment_id} is ours or internal")
            extra = plan.agent_post(command, await self.agent_photo(payload.get("author_zendesk_id")))
            text = command["text"] + plan.attachment_lines((comment or {}).get("attachments") or [])
        elif command.get("blocks"):
            extra["blocks"] = command["blocks"]
            text = command["text"]
        else:
            text = command["text"]
        _, posted = await self.post_once(
            command["command_id"],
            command["channel_id"],
            command.get("thread_ts"),
            text,
            plan.post_metadata(command["command_id"], command.get("metadata")),
            since=plan.look_back_from(command),
            **extra,
        )
        return Outcome("done" if posted else "already_done", detail=command["purpose"])

    async def add_reaction(self, command: dict[str, Any]) -> Outcome:
        try:
            await self.slack_call(
                self.slack.reactions_add, channel=command["channel_id"], timestamp=command["ts"], name=command["name"]
            )
        except ThreadGone:
            return Outcome("skipped", detail="the message is gone")  # nothing to react to; the thread may live
        except PermanentError as exc:
            if "already_reacted" in str(exc):
                return Outcome("already_done", detail=command["name"])
            raise
        return Outcome("done", detail=command["name"])

    async def open_thread(self, command: dict[str, Any]) -> Outcome:
        """An emailed ticket: a root message in the channel, the ticket pointed at the thread,
        and the router told under both keys of the conversation."""
        team_id = await self.slack_team()
        ticket_id = int(command["ticket_id"])
        ticket = await self.zendesk(lambda: self.zen.tickets(id=ticket_id))
        url = command.get("ticket_url") or self.settings.ticket_url(ticket_id)
        requester: dict[str, Any] | None = None
        requester_id = command.get("requester_zendesk_id") or getattr(ticket, "requester_id", None)
        if requester_id:
            try:
                requester = (await self.zendesk(lambda: self.zen.users(id=int(requester_id)))).to_dict()
            except NotFound:
                requester = None
        channel = command["channel_id"]
        ts, posted = await self.post_once(
            command["command_id"],
            channel,
            None,
            plan.email_thread_text(command, plan.thread_opener(requester), url),
            plan.post_metadata(command["command_id"], ticket_id=ticket_id),
            since=plan.look_back_from(command),
        )
        key = plan.thread_key(team_id, channel, ts)
        # The ticket points at the thread, and an internal note gives the agent its permalink:
        # one update, written once (its command id is in the audit metadata).
        note_id = f"thread-note:{command['command_id']}"
        noted = not await self.already_written(ticket_id, note_id)
        if noted:
            permalink = await self._permalink(channel, ts)
            await self.update_ticket(ticket_id, plan.thread_note_request(note_id, key, permalink, channel))
        elif ticket.external_id != key:
            await self.update_ticket(ticket_id, {"external_id": key})
        common: dict[str, Any] = {
            "ticket_id": ticket_id,
            "ticket_url": url,
            "team_id": team_id,
            "channel_id": channel,
            "thread_ts": ts,
        }
        return Outcome(
            "done" if posted or noted else "already_done",
            [
                plan.result("thread_opened", command, conversation_id=key, **common),
                plan.result("thread_opened", command, moved_from=command["conversation_id"], **common),
            ],
            f"ticket {ticket_id} -> {key}",
        )

    async def set_priority(self, command: dict[str, Any]) -> Outcome:
        ticket_id = await self.ticket_id_for(command)
        ticket = await self.zendesk(lambda: self.zen.tickets(id=ticket_id))
        note = command.get("comment")
        body = None
        # A replay after an agent changed the priority again must not undo their change.
        if not await self.already_written(ticket_id, command["command_id"]):
            body = plan.priority_request(command, ticket.priority, await self.named(note) if note else None)
        if body is not None:
            await self.update_ticket(ticket_id, body)
        posted = False
        if command.get("slack_channel_id") and command.get("slack_thread_ts"):
            notice = f"notice:{command['command_id']}"
            _, posted = await self.post_once(
                notice,
                command["slack_channel_id"],
                command["slack_thread_ts"],
                plan.priority_text(ticket_id, command["priority"]),
                plan.post_metadata(notice, ticket_id=ticket_id),
                since=plan.look_back_from(command),
            )
        effect = "done" if body is not None or posted else "already_done"
        return Outcome(effect, detail=f"ticket {ticket_id} priority {command['priority']}")

    async def post_ephemeral(self, command: dict[str, Any]) -> Outcome:
        # Ephemeral messages leave nothing to look for: a redelivered command may show twice.
        args: dict[str, Any] = {"channel": command["channel_id"], "user": command["user"], "text": command["text"]}
        if command.get("thread_ts"):
            args["thread_ts"] = command["thread_ts"]
        try:
            await self.slack_call(self.slack.chat_postEphemeral, **args)
        except PermanentError as exc:
            # A notice to one person (a denied action emoji) they cannot be shown is nobody's
            # failure: the thread is not told about it.
            if command["purpose"] == "notice" and "user_not_in_channel" in str(exc):
                return Outcome("skipped", detail=f"{command['user']} is not in the channel")
            raise
        return Outcome("done", detail=command["purpose"])

    async def slack_mention(self, person: Mapping[str, Any]) -> str:
        """A PagerDuty user as named in Slack: a mention when Slack knows their email."""
        email = str(person.get("email") or "").lower()
        if email and email not in self.slack_by_email:
            try:
                found = await self.slack_call(self.slack.users_lookupByEmail, email=email)
                self.slack_by_email.put(email, str(found["user"]["id"]))
            except PermanentError:  # users_not_found: not in this workspace
                self.slack_by_email.put(email, None)
        user_id = self.slack_by_email.get(email) if email else None
        if user_id and to_slack.is_user_id(user_id):
            return to_slack.mention(user_id)  # the one mention: a person we mapped ourselves
        return to_slack.bold(str(person.get("name") or person.get("summary") or "someone"))

    async def assign_to(self, command: dict[str, Any], person: Mapping[str, Any]) -> str:
        """Assign the ticket to the Zendesk agent with the on-call person's email."""
        email = str(person.get("email") or "")
        found = await self.zendesk(lambda: [u.to_dict() for u in self.zen.users.search(query=f"email:{email}")])
        agent = next((u for u in found if plan.same_user(u, email, "") and plan.is_agent(u)), None)
        if agent is None:
            return f"no Zendesk agent has the email of {person.get('name')}"
        ticket_id = await self.ticket_id_for(command)
        ticket = await self.zendesk(lambda: self.zen.tickets(id=ticket_id))
        body = plan.assign_request(command, ticket.assignee_id, int(agent["id"]))
        if body is None:
            return f"ticket {ticket_id} already assigned to {agent['id']}"
        await self.update_ticket(ticket_id, body)
        return f"ticket {ticket_id} assigned to {agent['id']}"

    async def notify_on_call(self, command: dict[str, Any]) -> Outcome:
        channel, thread_ts = command["channel_id"], command["thread_ts"]
        if command["command_id"] in await self.posts(channel, thread_ts, plan.look_back_from(command)):
            return Outcome("already_done", detail=command["reason"])  # the post comes after the assignment
        if self.pagerduty is None:
            raise PermanentError("PagerDuty is not configured (set THREADLINE_ZENDESK_SYNC_PAGERDUTY_API_TOKEN)")
        people = await self.pagerduty.on_call(command.get("escalation_policy_id"), command.get("schedule_id"))
        detail = f"{len(people)} on call"
        if command.get("assign") and people:
            detail += "; " + await self.assign_to(command, people[0])
        names = [await self.slack_mention(p) for p in people[:2]]
        await self.post_once(
            command["command_id"],
            channel,
            thread_ts,
            plan.on_call_text(command, names),
            plan.post_metadata(command["command_id"], reason=command["reason"]),
            since=plan.look_back_from(command),
        )
        return Outcome("done", detail=detail)

    async def perform(self, command: dict[str, Any]) -> Outcome:
        handler = {
            "zendesk.create_ticket": self.create_ticket,
            "zendesk.create_followup": self.create_ticket,
            "zendesk.add_comment": self.add_comment,
            "zendesk.set_status": self.set_status,
            "slack.post_message": self.post_message,
            "slack.add_reaction": self.add_reaction,
            "slack.open_thread": self.open_thread,
            "zendesk.set_priority": self.set_priority,
            "slack.post_ephemeral": self.post_ephemeral,
            "oncall.notify": self.notify_on_call,
        }.get(command["type"])
        if handler is None:
            raise PermanentError(f"unknown command type {command['type']!r}")
        return await handler(command)

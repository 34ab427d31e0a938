"""The effects of commands on Zendesk (zenpy) and Slack (slack_sdk), each done once.

Before any write, the executor checks whether it already happened, using what the write left
behind: the ticket's external_id, the comment's audit metadata, the Slack message's metadata.
The caches only spare API calls; they are dropped on every rebalance, so a partition that moves
between workers is always checked against Zendesk and Slack again.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from zenpy import Zenpy
from zenpy.lib.api_objects import Ticket, User
from zenpy.lib.exception import APIException, RecordNotFoundException, ZenpyException

from threadline_zendesk_sync import plan
from threadline_zendesk_sync.plan import PermanentError, TransientError
from threadline_zendesk_sync.settings import ZendeskSyncSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

_idempotency_key: contextvars.ContextVar[str | None] = contextvars.ContextVar("idempotency_key", default=None)


class KeyedSession(requests.Session):
    """zenpy's session, adding the Idempotency-Key of the command being performed to creations."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        key = _idempotency_key.get()
        if key and str(method).upper() == "POST":
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "Idempotency-Key": key}
        return super().request(method, url, *args, **kwargs)


class MinuteBudget:
    """At most `per_minute` calls in any 60 s window; callers wait for a free slot."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._calls: list[float] = []
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self._calls = [t for t in self._calls if now - t < 60]
                if len(self._calls) < self.per_minute:
                    self._calls.append(now)
                    return
                await asyncio.sleep(60 - (now - self._calls[0]) + 0.01)


class ChannelPacer:
    """About one post per second per Slack channel, as Slack asks."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last: dict[str, float] = {}

    async def wait(self, channel: str) -> None:
        delay = self._last.get(channel, 0.0) + self.interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self._last[channel] = time.monotonic()


class LRU(OrderedDict[str, Any]):
    def __init__(self, size: int = 5000) -> None:
        super().__init__()
        self.size = size

    def put(self, key: str, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


def _zendesk_error(exc: Exception) -> Exception:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if status == 429 or (status is not None and status >= 500):
        retry = response.headers.get("retry-after") if response is not None else None
        return TransientError(f"Zendesk answered {status}", float(retry) if retry else None)
    if isinstance(exc, requests.RequestException):
        return TransientError(f"Zendesk unreachable: {type(exc).__name__}")
    return PermanentError(f"Zendesk answered {status}: {str(exc)[:300]}")


def _slack_error(exc: SlackApiError) -> Exception:
    status = exc.response.status_code
    error = exc.response.get("error")
    if status == 429 or error == "ratelimited":
        retry = exc.response.headers.get("retry-after") or exc.response.headers.get("Retry-After")
        return TransientError("Slack rate limit", float(retry) if retry else None)
    if status >= 500 or error in ("fatal_error", "internal_error", "service_unavailable", "request_timeout"):
        return TransientError(f"Slack answered {error or status}")
    return PermanentError(f"Slack answered {error}")


class Effects:
    def __init__(self, settings: ZendeskSyncSettings) -> None:
        self.settings = settings
        session = KeyedSession()
        email = settings.zendesk_email
        if settings.zendesk_oauth_token is not None:
            self.zen = Zenpy(
                subdomain=settings.zendesk_subdomain,
                oauth_token=settings.zendesk_oauth_token.get_secret_value(),
                session=session,
            )
        else:
            assert settings.zendesk_api_token is not None
            self.zen = Zenpy(
                subdomain=settings.zendesk_subdomain,
                email=email,
                token=settings.zendesk_api_token.get_secret_value(),
                session=session,
            )
        self.zen.disable_caching()  # several workers write the same tickets: always read the server
        kwargs: dict[str, Any] = {"token": settings.slack_bot_token.get_secret_value()}
        if settings.slack_api_url:
            kwargs["base_url"] = settings.slack_api_url
        self.slack = AsyncWebClient(**kwargs)
        self.budget = MinuteBudget(settings.zendesk_budget_per_minute)
        self.pacer = ChannelPacer(settings.slack_channel_interval_seconds)
        self.team_id: str | None = None
        self.api_user_id: int | None = None
        self.reset_caches()

    def reset_caches(self) -> None:
        self.ticket_ids = LRU()  # external_id -> ticket id
        self.ticket_comments = LRU(2000)  # ticket id -> {comment id: comment}
        self.thread_posts = LRU(2000)  # "channel:thread" -> set of command ids posted
        self.slack_people = LRU()  # slack user id -> Person
        self.zendesk_users = LRU()  # email -> zendesk user id

    # --- calls ---------------------------------------------------------------------------------

    async def zendesk(self, call: Callable[[], T], idempotency_key: str | None = None) -> T:
        await self.budget.take()
        token = _idempotency_key.set(idempotency_key)
        try:
            return await asyncio.to_thread(call)
        except RecordNotFoundException:
            raise
        except (APIException, ZenpyException, requests.RequestException) as exc:
            raise _zendesk_error(exc) from exc
        finally:
            _idempotency_key.reset(token)

    async def slack_call(self, method: str, **kwargs: Any) -> Any:
        try:
            return await self.slack.api_call(method, json=kwargs)
        except SlackApiError as exc:
            raise _slack_error(exc) from exc
        except (TimeoutError, OSError) as exc:
            raise TransientError(f"Slack unreachable: {type(exc).__name__}") from exc

    async def identity(self) -> None:
        if self.team_id is None:
            self.team_id = (await self.slack_call("auth.test"))["team_id"]
        if self.api_user_id is None:
            self.api_user_id = int((await self.zendesk(lambda: self.zen.users.me())).id)

    # --- lookups ------------------------------------------------------------------------------

    async def slack_person(self, user_id: str | None) -> plan.Person:
        if not user_id:
            return plan.person_from_slack(None, None)
        if user_id not in self.slack_people:
            try:
                user = (await self.slack_call("users.info", user=user_id))["user"]
            except PermanentError:
                user = None
            self.slack_people.put(user_id, plan.person_from_slack(user_id, user))
        person: plan.Person = self.slack_people[user_id]
        return person

    async def zendesk_user_id(self, person: plan.Person) -> int | None:
        """The Zendesk user for a Slack person, matched or created by email; None without email."""
        if not person.email:
            return None
        if person.email not in self.zendesk_users:
            user = await self.zendesk(
                lambda: self.zen.users.create_or_update(User(name=person.name, email=person.email))
            )
            self.zendesk_users.put(person.email, int(user.id))
        return int(self.zendesk_users[person.email])

    async def find_ticket(self, external_id: str) -> Any | None:
        if external_id in self.ticket_ids:
            return await self.zendesk(lambda: self.zen.tickets(id=self.ticket_ids[external_id]))
        found = await self.zendesk(lambda: list(self.zen.tickets(external_id=external_id)))
        if not found:
            return None
        ticket = found[0]
        self.ticket_ids.put(external_id, int(ticket.id))
        return ticket

    async def comments(self, ticket_id: int, refresh: bool = False) -> dict[int, dict[str, Any]]:
        key = str(ticket_id)
        if refresh or key not in self.ticket_comments:
            listed = await self.zendesk(lambda: [c.to_dict() for c in self.zen.tickets.comments(ticket=ticket_id)])
            self.ticket_comments.put(key, {int(c["id"]): c for c in listed})
        comments: dict[int, dict[str, Any]] = self.ticket_comments[key]
        return comments

    async def posted(self, channel: str, thread_ts: str | None) -> set[str]:
        """Command ids of Threadline's posts in a thread (or at the top of a channel)."""
        key = f"{channel}:{thread_ts}"
        if key not in self.thread_posts:
            if thread_ts:
                messages = (
                    await self.slack_call(
                        "conversations.replies", channel=channel, ts=thread_ts, include_all_metadata=True, limit=1000
                    )
                )["messages"]
            else:
                messages = (
                    await self.slack_call(
                        "conversations.history", channel=channel, include_all_metadata=True, limit=200
                    )
                )["messages"]
            self.thread_posts.put(key, {cid for m in messages if (cid := plan.posted_command(m))})
        posts: set[str] = self.thread_posts[key]
        return posts

    async def post_once(
        self, command_id: str, channel: str, thread_ts: str | None, text: str, **extra: Any
    ) -> str | None:
        """Post unless a post for this command is already there. Returns the new ts."""
        posted = await self.posted(channel, thread_ts)
        if command_id in posted:
            return None
        await self.pacer.wait(channel)
        metadata = plan.post_metadata(command_id, **extra.pop("metadata_extra", {}))
        args: dict[str, Any] = {"channel": channel, "text": text, "metadata": metadata, **extra}
        if thread_ts:
            args["thread_ts"] = thread_ts
        response = await self.slack_call("chat.postMessage", **args)
        posted.add(command_id)
        return str(response["ts"])

    # --- commands ----------------------------------------------------------------------------------

    async def create_ticket(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        ticket = await self.find_ticket(command["external_id"])
        if ticket is None:
            requester = await self.slack_person(command["requester"].get("slack_user_id"))
            if command.get("fetch_message"):
                command = await self._with_message(command)
                requester = await self.slack_person(command["requester"].get("slack_user_id"))
            requester_id = await self.zendesk_user_id(requester)
            permalink = command.get("permalink") or await self._permalink(
                command["slack_channel_id"], command["slack_thread_ts"]
            )
            body = plan.ticket_request(command, requester_id, permalink)
            if requester_id is None:
                body["comment"]["body"] = f"{requester.name} asked in Slack:\n\n{body['comment']['body']}"
            audit = await self.zendesk(lambda: self.zen.tickets.create(Ticket(**body)), command["command_id"])
            ticket = audit.ticket
            self.ticket_ids.put(command["external_id"], int(ticket.id))
            log.info("created ticket %s", ticket.id)
        url = self.settings.ticket_url(int(ticket.id))
        text = plan.ticket_link_text(int(ticket.id), url, command.get("via_followup_source_id"))
        await self.post_once(
            f"announce:{command['command_id']}",
            command["slack_channel_id"],
            command["slack_thread_ts"],
            text,
            blocks=plan.ticket_link_blocks(text, url),
            metadata_extra={"ticket_id": int(ticket.id)},
        )
        return [plan.result("ticket_created", command, ticket_id=int(ticket.id), ticket_url=url)]

    async def _permalink(self, channel: str, ts: str) -> str | None:
        try:
            return str((await self.slack_call("chat.getPermalink", channel=channel, message_ts=ts))["permalink"])
        except PermanentError:
            return None

    async def _with_message(self, command: dict[str, Any]) -> dict[str, Any]:
        history = await self.slack_call(
            "conversations.replies", channel=command["slack_channel_id"], ts=command["slack_thread_ts"], limit=1
        )
        message = history["messages"][0]
        return {
            **command,
            "body": message.get("text", ""),
            "requester": {"slack_user_id": message.get("user")},
            "subject": plan_subject(message.get("text", "")),
        }

    async def _ticket_for(self, command: dict[str, Any]) -> Any:
        ticket = None
        if command.get("ticket_id"):
            try:
                ticket = await self.zendesk(lambda: self.zen.tickets(id=command["ticket_id"]))
            except RecordNotFoundException:
                ticket = None
        if ticket is None:
            ticket = await self.find_ticket(command["external_id"])
        if ticket is None:
            raise PermanentError(f"no ticket with external_id {command['external_id']}")
        return ticket

    async def add_comment(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        ticket = await self._ticket_for(command)
        tid = int(ticket.id)
        comments = await self.comments(tid)
        if any(plan.written_by_us(c) == command["command_id"] for c in comments.values()):
            return []
        if ticket.status == "closed":
            raise PermanentError(f"ticket {tid} is closed")
        author = await self.slack_person((command.get("author") or {}).get("slack_user_id"))
        author_id = await self.zendesk_user_id(author) if command.get("public", True) else None
        uploads = [u for f in command.get("files") or [] if (u := await self._carry_file(f))]
        body = plan.comment_request(command, author_id, author, uploads)
        response = await self.zendesk(lambda: self.zen.tickets.update(Ticket(id=tid, **body)))
        audit = getattr(response, "audit", None)
        for event in getattr(audit, "events", None) or []:
            event = event if isinstance(event, dict) else event.to_dict()
            if event.get("type") == "Comment":
                comments[int(event["id"])] = {**event, "metadata": {"custom": body["metadata"]}}
        return []

    async def _carry_file(self, file: dict[str, Any]) -> str | None:
        if int(file.get("size") or 0) > self.settings.max_file_bytes or not file.get("url_private"):
            return None
        token = self.settings.slack_bot_token.get_secret_value()
        response = await asyncio.to_thread(
            requests.get, file["url_private"], headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        if response.status_code != 200:
            return None
        import io

        upload = await self.zendesk(
            lambda: self.zen.attachments.upload(
                io.BytesIO(response.content), target_name=file.get("name") or file["id"]
            )
        )
        return str(upload.token)

    async def set_status(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        ticket = await self._ticket_for(command)
        if ticket.status == command["status"] or (command["status"] == "solved" and ticket.status == "closed"):
            return []
        if ticket.status == "closed":
            raise PermanentError(f"ticket {ticket.id} is closed")
        body: dict[str, Any] = {
            "status": command["status"],
            "metadata": {"threadline_command_id": command["command_id"]},
        }
        if command.get("comment"):
            text = command["comment"]
            author = (command.get("author") or {}).get("slack_user_id")
            if author:  # the router knows ids; agents read names
                text = text.replace(author, (await self.slack_person(author)).name)
            body["comment"] = {"body": text, "public": False}
        await self.zendesk(lambda: self.zen.tickets.update(Ticket(id=int(ticket.id), **body)))
        return []

    async def post_message(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        extra: dict[str, Any] = {}
        if command["purpose"] == "agent_comment":
            payload = (command.get("metadata") or {}).get("event_payload") or {}
            comment = (await self.comments(int(payload["ticket_id"]))).get(int(payload["comment_id"]))
            if comment is None:
                comment = (await self.comments(int(payload["ticket_id"]), refresh=True)).get(int(payload["comment_id"]))
            # Loop guard: what Threadline wrote to Zendesk, or any internal note, never comes back.
            if comment is not None and (plan.written_by_us(comment) or not comment.get("public", True)):
                return []
            if payload.get("author_name"):
                extra["username"] = payload["author_name"]
            icon = await self._agent_icon(payload.get("author_zendesk_id"))
            if icon:
                extra["icon_url"] = icon
        if command.get("blocks"):
            extra["blocks"] = command["blocks"]
        await self.post_once(
            command["command_id"], command["channel_id"], command.get("thread_ts"), command["text"], **extra
        )
        return []

    async def _agent_icon(self, user_id: Any) -> str | None:
        if not user_id:
            return None
        try:
            user = await self.zendesk(lambda: self.zen.users(id=int(user_id)))
        except (RecordNotFoundException, PermanentError):
            return None
        photo = getattr(user, "photo", None)
        if isinstance(photo, dict):
            return photo.get("content_url")
        return getattr(photo, "content_url", None)

    async def open_thread(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        await self.identity()
        assert self.team_id is not None
        ticket = await self.zendesk(lambda: self.zen.tickets(id=command["ticket_id"]))
        url = self.settings.ticket_url(int(command["ticket_id"]))
        requester = "someone"
        if command.get("requester_zendesk_id"):
            try:
                user = await self.zendesk(lambda: self.zen.users(id=int(command["requester_zendesk_id"])))
                requester = f"{user.name} <{user.email}>" if user.email else str(user.name)
            except RecordNotFoundException:
                pass
        channel = command["channel_id"]
        ts = await self.post_once(
            command["command_id"],
            channel,
            None,
            plan.email_thread_text(command, requester, url),
            metadata_extra={"ticket_id": int(command["ticket_id"])},
        )
        if ts is None:  # posted before a crash: find it
            history = await self.slack_call(
                "conversations.history", channel=channel, include_all_metadata=True, limit=200
            )
            ts = next(m["ts"] for m in history["messages"] if plan.posted_command(m) == command["command_id"])
        key = plan.thread_key(self.team_id, channel, ts)
        if ticket.external_id != key:
            await self.zendesk(lambda: self.zen.tickets.update(Ticket(id=int(ticket.id), external_id=key)))
        common = {
            "ticket_id": int(command["ticket_id"]),
            "ticket_url": url,
            "team_id": self.team_id,
            "channel_id": channel,
            "thread_ts": ts,
        }
        return [
            plan.result("thread_opened", command, conversation_id=key, **common),
            plan.result("thread_opened", command, moved_from=command["conversation_id"], **common),
        ]

    async def perform(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        handler = {
            "zendesk.create_ticket": self.create_ticket,
            "zendesk.create_followup": self.create_ticket,
            "zendesk.add_comment": self.add_comment,
            "zendesk.set_status": self.set_status,
            "slack.post_message": self.post_message,
            "slack.open_thread": self.open_thread,
        }.get(command["type"])
        if handler is None:
            raise PermanentError(f"unknown command type {command['type']!r}")
        return await handler(command)


def plan_subject(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return (line[:117] + "…") if len(line) > 120 else (line or "Support request from Slack")

"""Slack as zendesk-sync uses it (posts found before they are made again, reactions, ephemeral
messages, permalinks, joins, people), through slack_sdk, within Slack's budgets.

Every failure comes out as the engine's kind (TransientError, ThreadGone, PermanentError). A post
is looked for by the command id in its metadata before it is made, so a retry never posts twice.
The caches only spare API calls: they are dropped on every rebalance, and the entry a failed post
may have made stale is dropped at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from threadline_common import to_slack
from threadline_common.installations import TokenResolver, UnknownTeam
from threadline_common.retry import TransientError
from threadline_zendesk_sync.budgets import Budgets
from threadline_zendesk_sync.lru import LRU
from threadline_zendesk_sync.plan import failures, people, slack_posts
from threadline_zendesk_sync.plan.failures import PermanentError, ThreadGone
from threadline_zendesk_sync.plan.people import Person
from threadline_zendesk_sync.settings import ZendeskSyncSettings

log = logging.getLogger(__name__)
SlackMethod = Callable[..., Awaitable[AsyncSlackResponse]]
# The Slack team the command being performed is for (its conversation's): with several
# workspaces every call is made with that team's bot token (Effects.perform sets it per command,
# each in its own task, so commands side by side do not see each other's).
ACTING_TEAM: ContextVar[str | None] = ContextVar("threadline_slack_team", default=None)
# Its Enterprise Grid organisation when the command's Slack request named one (the commands'
# threadline-slack-enterprise header): a workspace without an install of its own is then served
# by its organisation's org-wide install.
ACTING_ENTERPRISE: ContextVar[str | None] = ContextVar("threadline_slack_enterprise", default=None)
MEMBERS_TTL_SECONDS = 60.0  # how long a channel's member list is trusted (who may follow, who reads text)


def slack_method_name(method: Callable[..., Any]) -> str:
    """slack_sdk's `chat_postMessage` -> Slack's `chat.postMessage`."""
    return getattr(method, "__name__", "unknown").replace("_", ".", 1)


class Slack:
    def __init__(self, settings: ZendeskSyncSettings, budgets: Budgets, tokens: TokenResolver | None = None) -> None:
        self.settings = settings
        self.budgets = budgets
        self.tokens = tokens or TokenResolver(settings.slack_bot_token.get_secret_value())
        self.group_tokens: dict[str, str] = {}  # user group -> the token of the workspace it is in
        # channel -> (its workspace, its organisation), as workspace_of_channel found it
        self.channel_workspaces = LRU(2000)
        options: dict[str, Any] = {"base_url": settings.slack_api_url} if settings.slack_api_url else {}
        # Nothing is retried inside the client: a 429 holds its resource for every command that
        # needs it (budgets), and a post whose answer was lost is looked for before it is retried.
        self.client = AsyncWebClient(
            token=settings.slack_bot_token.get_secret_value(),
            timeout=int(settings.slack_timeout_seconds),
            retry_handlers=[],
            **options,
        )
        self.team_id: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.reset_caches()

    def reset_caches(self) -> None:
        self.thread_posts = LRU(2000)  # "channel:thread" -> (since, {command id: ts})
        self.people = LRU()  # slack user id -> Person
        self.by_email = LRU()  # email -> Slack user id or None
        self.dm_channels = LRU()  # slack user id -> the bot's DM channel with them
        self.members = LRU(200)  # channel -> (when read, monotonic seconds; its member ids)
        self.homes = LRU()  # slack user id -> the command id of the Home tab last published

    # --- calls ----------------------------------------------------------------------------------

    def _session(self) -> None:
        """One aiohttp session (a pool of kept-alive connections) for every Slack call made in
        this event loop. Without one, slack_sdk opens a new session, and so a new connection
        (a TLS handshake against Slack), for each call and closes it after."""
        loop = asyncio.get_running_loop()
        session = self.client.session
        if session is None or session.closed or self._loop is not loop:
            self._loop = loop
            self.client.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.settings.slack_timeout_seconds),
                connector=aiohttp.TCPConnector(limit=max(100, self.settings.max_in_flight)),
            )

    async def close(self) -> None:
        session = self.client.session
        if session is not None and not session.closed and self._loop is asyncio.get_running_loop():
            await session.close()

    def token(self) -> str:
        """The bot token of the acting team (the single one without several workspaces)."""
        try:
            return self.tokens.token_for(ACTING_TEAM.get(), ACTING_ENTERPRISE.get())
        except UnknownTeam as exc:
            raise PermanentError(str(exc)) from exc

    async def call(self, method: SlackMethod, **kwargs: Any) -> Any:
        name = slack_method_name(method)
        channel = kwargs.get("channel")
        if self.tokens.several_workspaces and "token" not in kwargs:
            if self.tokens.store is not None and not self.tokens.store.ready:
                await asyncio.to_thread(self.tokens.wait_ready)
            if self.tokens.needs_asking(ACTING_TEAM.get(), ACTING_ENTERPRISE.get()):
                kwargs["token"] = await asyncio.to_thread(self.token)  # may ask Slack (auth.teams.list)
            else:
                kwargs["token"] = self.token()
        await self.budgets.slack_call(name, channel)
        self._session()
        try:
            return await method(**kwargs)
        except SlackApiError as exc:
            response = exc.response
            failure = failures.slack_failure(
                int(response.status_code), response.get("error"), failures.seconds(response.headers or {})
            )
            if isinstance(failure, TransientError) and failure.retry_after is not None:
                self.budgets.slack_limited(name, channel, failure.retry_after)
            raise failure from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise TransientError(f"Slack unreachable: {type(exc).__name__}", service="slack") from exc

    async def usergroup_members(self, usergroup: str) -> list[str]:
        """usergroups.users.list: the user ids of a user group (needs usergroups:read). With
        several workspaces the group is read with its own workspace's token: the channels file
        does not say whose a group is, so each workspace's token is asked in turn (the one that
        knew it last time first) until one does not answer no_such_subteam."""
        if not self.tokens.several_workspaces or ACTING_TEAM.get() is not None:
            response = await self.call(self.client.usergroups_users_list, usergroup=usergroup)
            return [str(u) for u in response.get("users") or []]
        await asyncio.to_thread(self.tokens.wait_ready)
        current = self.tokens.bot_tokens()
        # The token that knew the group first, while it is still one of the installs' (a
        # reinstalled workspace's old token is not, and would answer token_revoked).
        known = self.group_tokens.get(usergroup)
        tokens = list(dict.fromkeys(t for t in (known if known in current else None, *current) if t))
        unknown: PermanentError | None = None
        for token in tokens:
            try:
                response = await self.call(self.client.usergroups_users_list, usergroup=usergroup, token=token)
            except PermanentError as exc:
                if "no_such_subteam" not in str(exc):
                    raise
                unknown = exc  # not this workspace's group
                continue
            self.group_tokens[usergroup] = token
            return [str(u) for u in response.get("users") or []]
        raise unknown or PermanentError(f"no Slack token to read user group {usergroup} with")

    async def workspace_of_channel(self, channel: str) -> tuple[str | None, str | None] | None:
        """The workspace (and its organisation) whose token sees `channel`, for a command whose
        key names no workspace: (None, None) for the single token, None when no token sees it.
        As with user groups, each workspace's token is asked in turn (the single one first,
        conversations.info) until one does not answer channel_not_found; the answer is kept
        (a channel does not move between workspaces; what is kept is a team, so a reinstalled
        workspace's new token is still the one used)."""
        if channel in self.channel_workspaces:
            found: tuple[str | None, str | None] | None = self.channel_workspaces[channel]
            return found
        await asyncio.to_thread(self.tokens.wait_ready)
        installs = self.tokens.store.installations() if self.tokens.store is not None else []
        asked: list[tuple[str, str | None, str | None]] = []
        if self.tokens.single_token:
            asked.append((self.tokens.single_token, None, None))
        asked += [(i.bot_token, i.team_id if not i.is_enterprise_install else None, i.enterprise_id)
                  for i in installs if i.bot_token]  # fmt: skip
        for token, team, enterprise in asked:
            try:
                answer = await self.call(self.client.conversations_info, channel=channel, token=token)
            except ThreadGone:  # channel_not_found: not this workspace's channel
                continue
            if team is None and enterprise is not None:  # an org-wide install: the channel says its workspace
                team = str((answer.get("channel") or {}).get("context_team_id") or "") or None
                if team is None:
                    continue
            self.channel_workspaces.put(channel, (team, enterprise))
            return team, enterprise
        log.warning("no workspace's token sees channel %s", channel)
        return None

    async def in_channel(self, method: SlackMethod, **kwargs: Any) -> Any:
        """A call in a channel (reading its threads, posting). In a public channel the app was
        never invited to, Slack answers not_in_channel: the app joins it by itself and calls
        again. (A private channel it is not in is channel_not_found: only an invitation helps.)"""
        try:
            return await self.call(method, **kwargs)
        except PermanentError as exc:
            if "not_in_channel" not in str(exc):
                raise
        log.info("joining channel %s, which Threadline serves but was not invited to", kwargs["channel"])
        await self.call(self.client.conversations_join, channel=kwargs["channel"])
        return await self.call(method, **kwargs)

    async def respond(self, response_url: str, **message: Any) -> bool:
        """Answer an interaction through its response_url (text, blocks, response_type,
        replace_original). False when Slack refuses it for good (the URL expired after 30 minutes
        or was used 5 times): there is nothing else to answer through."""
        self._session()
        webhook = AsyncWebhookClient(
            response_url,
            timeout=int(self.settings.slack_timeout_seconds),
            session=self.client.session,
            retry_handlers=[],
        )
        try:
            answer = await webhook.send(**message)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise TransientError(f"Slack response_url unreachable: {type(exc).__name__}", service="slack") from exc
        if answer.status_code == 429 or answer.status_code >= 500:
            retry_after = failures.seconds(answer.headers or {})
            raise TransientError(f"response_url answered {answer.status_code}", retry_after, service="slack")
        if answer.status_code >= 400:
            log.warning("response_url refused the answer: %s %s", answer.status_code, answer.body[:100])
            return False
        return True

    def home_published(self, user: str) -> str | None:
        """The command whose view is the person's Home tab, as far as this worker knows."""
        found: str | None = self.homes.get(user)
        return found

    async def publish_home(self, user: str, view: dict[str, Any], command_id: str) -> None:
        """views.publish: the person's Home tab becomes `view` (Slack keeps only the latest)."""
        self.homes.pop(user, None)  # whatever happens now, the last one known is no longer sure
        await self.call(self.client.views_publish, user_id=user, view=view)
        self.homes.put(user, command_id)

    async def team(self) -> str:
        acting = ACTING_TEAM.get()
        if acting is not None and self.tokens.several_workspaces:
            return acting
        if self.team_id is None:
            self.team_id = str((await self.call(self.client.auth_test))["team_id"])
        return self.team_id

    # --- people ---------------------------------------------------------------------------------

    async def person(self, user_id: str | None, name: str | None = None, email: str | None = None) -> Person:
        if not user_id or (name and email):
            return people.person_from_slack(user_id, None, name, email)
        if user_id not in self.people:
            user = None
            try:
                if user_id.startswith("B"):
                    bot = (await self.call(self.client.bots_info, bot=user_id))["bot"]
                    user = {"name": bot.get("name"), "is_bot": True}
                else:
                    user = (await self.call(self.client.users_info, user=user_id))["user"]
            except PermanentError as exc:  # gone, or hidden from us (Slack Connect): fall back to the id
                log.info("no Slack profile for %s: %s", user_id, exc)
            self.people.put(user_id, people.person_from_slack(user_id, user))
        found: Person = self.people[user_id]
        return replace(found, name=name or found.name, email=email or found.email)

    async def names(self, user_ids: Iterable[str]) -> dict[str, str]:
        """Slack user id -> the person's name, for text that mentions them."""
        return {uid: (await self.person(uid)).name for uid in user_ids}

    async def mention(self, person: dict[str, Any]) -> str:
        """A person known by email elsewhere (PagerDuty) as named in Slack: a mention when Slack
        knows their email, else their name in bold."""
        email = str(person.get("email") or "").lower()
        if email and email not in self.by_email:
            try:
                found = await self.call(self.client.users_lookupByEmail, email=email)
                self.by_email.put(email, str(found["user"]["id"]))
            except PermanentError:  # users_not_found: not in this workspace
                self.by_email.put(email, None)
        user_id = self.by_email.get(email) if email else None
        if user_id and to_slack.is_user_id(user_id):
            return to_slack.mention(user_id)  # the one mention: a person we mapped ourselves
        return to_slack.bold(str(person.get("name") or person.get("summary") or "someone"))

    async def is_member(self, channel: str, user: str) -> bool:
        """Whether `user` is a member of `channel` (conversations.members, every page; a channel
        the bot cannot see has no members it could name). Read at most once a minute."""
        cached = self.members.get(channel)
        if cached is not None and time.monotonic() - cached[0] < MEMBERS_TTL_SECONDS:
            return user in cached[1]
        found: set[str] = set()
        cursor = None
        try:
            while True:
                page = await self.call(self.client.conversations_members, channel=channel, limit=200, cursor=cursor)
                found.update(str(m) for m in page.get("members") or ())
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except (PermanentError, ThreadGone) as exc:  # gone, or a private channel without the bot
            log.info("members of %s unknown: %s", channel, exc)
        self.members.put(channel, (time.monotonic(), found))
        return user in found

    async def dm_channel(self, user: str) -> str:
        """The bot's direct message channel with `user` (conversations.open: the same one each time)."""
        if user not in self.dm_channels:
            opened = await self.call(self.client.conversations_open, users=user)
            self.dm_channels.put(user, str(opened["channel"]["id"]))
        channel: str = self.dm_channels[user]
        return channel

    async def direct_message(
        self, command_id: str, user: str, text: str, blocks: list[dict[str, Any]] | None, *, since: float
    ) -> tuple[str, bool]:
        """A DM from the bot, looked for in the DM by its command id before it is posted."""
        channel = await self.dm_channel(user)
        extra: dict[str, Any] = {"blocks": blocks} if blocks else {}
        return await self.post_once(
            command_id, channel, None, text, slack_posts.post_metadata(command_id), since=since, **extra
        )

    # --- messages -------------------------------------------------------------------------------

    async def permalink(self, channel: str, ts: str) -> str | None:
        try:
            response = await self.call(self.client.chat_getPermalink, channel=channel, message_ts=ts)
        except PermanentError:
            return None
        return str(response["permalink"])

    async def message(self, channel: str, ts: str) -> dict[str, Any]:
        """The message at `ts` (a thread's root), as conversations.replies shows it."""
        page = await self.in_channel(self.client.conversations_replies, channel=channel, ts=ts, limit=1)
        messages = page["messages"]
        found: dict[str, Any] = next((m for m in messages if m.get("ts") == ts), messages[0])
        return found

    async def reply_metadata(self, channel: str, thread_ts: str, ts: str) -> dict[str, Any]:
        """The metadata payload of the reply at `ts` in a thread ({} when it has none or is gone)."""
        page = await self.in_channel(
            self.client.conversations_replies,
            channel=channel,
            ts=thread_ts,
            oldest=f"{float(ts) - 0.000001:.6f}",
            include_all_metadata=True,
            limit=200,
        )
        found: dict[str, Any] = next((m for m in page["messages"] if m.get("ts") == ts), {})
        payload = (found.get("metadata") or {}).get("event_payload")
        return dict(payload) if isinstance(payload, dict) else {}

    async def react(self, channel: str, ts: str, name: str) -> None:
        await self.call(self.client.reactions_add, channel=channel, timestamp=ts, name=name)

    async def post_ephemeral(self, channel: str, user: str, text: str, thread_ts: str | None) -> None:
        args: dict[str, Any] = {"channel": channel, "user": user, "text": text}
        if thread_ts:
            args["thread_ts"] = thread_ts
        await self.call(self.client.chat_postEphemeral, **args)

    async def posts(self, channel: str, thread_ts: str | None, since: float) -> dict[str, str]:
        """Threadline's posts in a thread (or at the top of a channel) since `since` (Slack epoch
        seconds): command id -> ts. Bounded by time, not by a count of messages: a post for a
        command cannot be older than the command, so however busy the channel was between a crash
        and the retry, every page since then is read."""
        key = f"{channel}:{thread_ts}"
        cached = self.thread_posts.get(key)
        if cached is not None and cached[0] <= since:
            return dict(cached[1])
        method = self.client.conversations_replies if thread_ts else self.client.conversations_history
        where: dict[str, Any] = {"ts": thread_ts} if thread_ts else {}
        found: dict[str, str] = {}
        cursor = None
        while True:
            page = await self.in_channel(
                method,
                channel=channel,
                oldest=f"{since:.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
                **where,
            )
            found.update({cid: m["ts"] for m in page["messages"] if (cid := slack_posts.posted_command(m))})
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
            response = await self.in_channel(self.client.chat_postMessage, **args)
        except BaseException:
            self.thread_posts.pop(f"{channel}:{thread_ts}", None)  # the post may have been made
            raise
        ts = str(response["ts"])
        cached = self.thread_posts.get(f"{channel}:{thread_ts}")
        if cached is not None:
            cached[1][command_id] = ts
        return ts, True

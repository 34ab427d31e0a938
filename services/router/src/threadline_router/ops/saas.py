"""The Slack and Zendesk calls threadline-ops makes: reading a thread's history (slack_sdk), and
checking a ticket and pointing its external_id at a conversation (zenpy)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from zenpy import Zenpy
from zenpy.lib.api_objects import Ticket
from zenpy.lib.exception import APIException, RecordNotFoundException, ZenpyException

from threadline_common.installations import InstallationCipher, InstallationKeyError, KafkaInstallationStore
from threadline_common.settings import KafkaSettings
from threadline_router.ops.kafka_io import OpsError
from threadline_router.ops.settings import OpsSettings

PAGE = 200


def slack_client(settings: OpsSettings, token: str) -> WebClient:
    options: dict[str, Any] = {"base_url": settings.slack_api_url} if settings.slack_api_url else {}
    # History methods are rate limited (tier 3): wait as Slack says rather than fail.
    return WebClient(token=token, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=10)], **options)


@dataclass(frozen=True)
class Workspace:
    """A bot token threadline-ops may call Slack with, and whose it is."""

    label: str  # "bot token" (the single one), "bot token of Second Corp (T2)", ...
    token: str = field(repr=False)  # never in a line said
    team_id: str | None = None  # None: the single token's (auth.test says it), or an org-wide install's
    enterprise_id: str | None = None
    single: bool = False


def installed_workspaces(settings: OpsSettings, kafka: KafkaSettings, topic: str) -> list[Workspace]:
    """The installs of several workspaces, read from their topic (none without the key)."""
    if settings.slack_installations_key is None:
        return []
    try:
        cipher = InstallationCipher(settings.slack_installations_key.get_secret_value())
    except InstallationKeyError as exc:
        raise OpsError(str(exc).replace("THREADLINE_SLACK_", "THREADLINE_OPS_SLACK_")) from exc
    store = KafkaInstallationStore(kafka, topic, cipher, "threadline-ops").start()
    try:
        store.wait_ready(settings.kafka_timeout_seconds * 2)
        installs = store.installations()
    except (TimeoutError, RuntimeError) as exc:
        raise OpsError(f"cannot read the Slack installations from {topic}: {exc}") from exc
    finally:
        store.close()
    found = []
    for i in installs:
        if not i.bot_token:
            continue
        if i.is_enterprise_install:
            label = f"org-wide bot token of {i.enterprise_name or i.enterprise_id} ({i.enterprise_id})"
            found.append(Workspace(label, i.bot_token, None, i.enterprise_id))
        else:
            label = f"bot token of {i.team_name or i.team_id} ({i.team_id})"
            found.append(Workspace(label, i.bot_token, i.team_id, i.enterprise_id))
    return found


def workspaces(settings: OpsSettings, kafka: KafkaSettings | None, topic: str | None) -> list[Workspace]:
    """Every bot token to check or call with: the single one first, then each install's."""
    found = []
    if settings.slack_bot_token is not None:
        found.append(Workspace("bot token", settings.slack_bot_token.get_secret_value(), single=True))
    if settings.slack_installations_key is not None and kafka is not None and topic is not None:
        found += installed_workspaces(settings, kafka, topic)
    if not found:
        raise OpsError("set THREADLINE_OPS_SLACK_BOT_TOKEN (the bot token Threadline uses) to read Slack")
    return found


def slack_for_channel(settings: OpsSettings, kafka: KafkaSettings | None, topic: str | None, channel: str) -> Slack:
    """Slack with the bot token of the workspace `channel` is in: the single token alone, else the
    first workspace's (single first, then each install's) that Slack shows the channel to."""
    found = workspaces(settings, kafka, topic)
    if len(found) == 1:
        return Slack(settings, found[0].token)
    for workspace in found:
        slack = Slack(settings, workspace.token)
        try:
            info = slack.client.conversations_info(channel=channel)["channel"]
        except SlackApiError:
            continue
        except OSError as exc:
            raise OpsError(f"cannot reach Slack for conversations.info of {channel}: {exc}") from exc
        slack.channel_team = info.get("context_team_id") or workspace.team_id
        return slack
    raise OpsError(f"no workspace's bot token sees {channel}: install the app in its workspace (/slack/install)")


class Slack:
    def __init__(self, settings: OpsSettings, token: str | None = None) -> None:
        if token is None and settings.slack_bot_token is None:
            raise OpsError("set THREADLINE_OPS_SLACK_BOT_TOKEN (the bot token Threadline uses) to read Slack")
        self.client = slack_client(settings, token or settings.slack_bot_token.get_secret_value())  # type: ignore[union-attr]
        self.channel_team: str | None = None  # the workspace of the channel it was picked for, if known

    def _call(self, what: str, method: Any, **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else str(exc)
            hint = (
                " (invite the Threadline app to the channel)"
                if error in ("not_in_channel", "channel_not_found")
                else ""
            )
            raise OpsError(f"Slack answered {error} to {what}{hint}") from exc
        except OSError as exc:
            raise OpsError(f"cannot reach Slack for {what}: {exc}") from exc

    def team_id(self) -> str:
        """The workspace of the token's channel (the first part of its conversation ids): the one
        its install is for (auth.test), or the channel's own for an org-wide token."""
        if self.channel_team:
            return self.channel_team
        return str(self._call("auth.test", self.client.auth_test)["team_id"])

    def thread(self, channel: str, root_ts: str) -> list[dict[str, Any]]:
        """Every message of a thread, the root first, oldest to newest."""
        messages: dict[str, dict[str, Any]] = {}
        cursor = None
        while True:
            page = self._call(
                f"conversations.replies of {channel} {root_ts}",
                self.client.conversations_replies,
                channel=channel,
                ts=root_ts,
                limit=PAGE,
                cursor=cursor,
            )
            messages.update({m["ts"]: m for m in page["messages"]})
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                break
        return sorted(messages.values(), key=lambda m: float(m["ts"]))

    def top_level(self, channel: str, since: datetime, until: datetime | None) -> list[dict[str, Any]]:
        """The channel's top-level messages in [since, until], oldest first."""
        found: dict[str, dict[str, Any]] = {}
        cursor = None
        bounds: dict[str, Any] = {"oldest": f"{since.timestamp():.6f}", "inclusive": True}
        if until is not None:
            bounds["latest"] = f"{until.timestamp():.6f}"
        while True:
            page = self._call(
                f"conversations.history of {channel}",
                self.client.conversations_history,
                channel=channel,
                limit=PAGE,
                cursor=cursor,
                **bounds,
            )
            for m in page["messages"]:
                if m.get("thread_ts") in (None, m.get("ts")):  # not a reply also sent to the channel
                    found[m["ts"]] = m
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                break
        return sorted(found.values(), key=lambda m: float(m["ts"]))


class Zendesk:
    def __init__(self, settings: OpsSettings) -> None:
        if not settings.zendesk_subdomain:
            raise OpsError("set THREADLINE_OPS_ZENDESK_SUBDOMAIN (and its credentials) to check and link tickets")
        if settings.zendesk_oauth_token is not None:
            auth: dict[str, Any] = {"oauth_token": settings.zendesk_oauth_token.get_secret_value()}
        elif settings.zendesk_api_token is not None and settings.zendesk_email:
            auth = {"email": settings.zendesk_email, "token": settings.zendesk_api_token.get_secret_value()}
        else:
            raise OpsError(
                "set THREADLINE_OPS_ZENDESK_OAUTH_TOKEN, or THREADLINE_OPS_ZENDESK_EMAIL and _ZENDESK_API_TOKEN"
            )
        self.settings = settings
        self.zen = Zenpy(subdomain=settings.zendesk_subdomain, timeout=30, **auth)
        self.zen.disable_caching()

    def ticket(self, ticket_id: int) -> Ticket | None:
        try:
            return self.zen.tickets(id=ticket_id)
        except RecordNotFoundException:
            return None
        except (APIException, ZenpyException, OSError) as exc:
            raise OpsError(f"Zendesk: cannot read ticket #{ticket_id}: {str(exc)[:200]}") from exc

    def set_external_id(self, ticket: Ticket, external_id: str | None) -> bool:
        """Point the ticket at a conversation (None: at none); False when it already was."""
        if (ticket.external_id or None) == external_id:
            return False
        change = Ticket(id=ticket.id)
        change.external_id = external_id  # set after creation, so that zenpy sends it even when None
        try:
            self.zen.tickets.update(change)
        except (APIException, ZenpyException, OSError) as exc:
            raise OpsError(f"Zendesk: cannot set the external_id of ticket #{ticket.id}: {str(exc)[:200]}") from exc
        return True

    def url(self, ticket_id: int) -> str:
        return self.settings.ticket_url(ticket_id)

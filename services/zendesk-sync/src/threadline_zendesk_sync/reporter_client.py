"""The reporter's HTTP API as zendesk-sync uses it: a channel's report as Block Kit, for
`/support report` (GET /reports/{kind}?channel=&date=&format=slack, with its bearer token), and
solved conversations like a new question, for automatic answers (GET /similar).

Failures come out as the engine's kinds: an unreachable or failing reporter is transient (the
person's answer waits for it, within response_url's 30 minutes), a refusal is permanent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import aiohttp

from threadline_common.retry import TransientError
from threadline_zendesk_sync.plan import failures
from threadline_zendesk_sync.plan.failures import PermanentError
from threadline_zendesk_sync.settings import ZendeskSyncSettings

log = logging.getLogger(__name__)
# The reporter refuses longer questions; the first words say what a question is about.
MAX_SIMILAR_TEXT = 2000
# A suggestion is worth a short wait only: the answer it goes with is posted without it.
SIMILAR_TIMEOUT_SECONDS = 5.0


class UnknownReportChannel(PermanentError):
    """The reporter does not report on this channel (404)."""


class Reporter:
    def __init__(
        self, api_url: str, token: str, timeout: float = 30.0, ticket_url: Callable[[int], str] | None = None
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        # Where people open a ticket (zendesk-sync's setting): the link of a similar conversation.
        self.ticket_url = ticket_url
        self._similar_off_logged = False

    async def similar(
        self, team_id: str, channel: str, text: str, exclude: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """Solved conversations of the channel like `text`, best first (the reporter's records:
        conversation_id, ticket_id, question, answer, solved_at, solved_source, ...); [] when the
        reporter keeps no text (said once in the log). Other failures raise, as `report` does."""
        params = {"team": team_id, "channel": channel, "text": text[:MAX_SIMILAR_TEXT], "limit": str(limit)}
        if exclude:
            params["exclude"] = exclude
        headers = {"Authorization": f"Bearer {self.token}"}
        timeout = aiohttp.ClientTimeout(total=min(self.timeout, SIMILAR_TIMEOUT_SECONDS))
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(f"{self.api_url}/similar", params=params, headers=headers) as response,
            ):
                status, text_body = response.status, await response.text()
                body: dict[str, Any] = await response.json(content_type=None) if status in (200, 409) else {}
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            raise TransientError(f"reporter unreachable: {type(exc).__name__}", service="reporter") from exc
        if status == 409:
            if not self._similar_off_logged:
                log.info("similar solved conversations are off: %s", body.get("detail"))
                self._similar_off_logged = True
            return []
        if status == 429 or status >= 500:
            raise TransientError(f"reporter answered {status}", service="reporter")
        if status != 200:
            raise PermanentError(f"reporter answered {status}: {text_body[:200]}")
        found = body.get("similar")
        return [s for s in found if isinstance(s, dict)] if isinstance(found, list) else []

    async def report(self, kind: str, channel: str, date: str) -> dict[str, Any]:
        """{"text": ..., "blocks": [...]}: the report as the reporter posts it in Slack."""
        params = {"channel": channel, "date": date, "format": "slack"}
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session,
                session.get(f"{self.api_url}/reports/{kind}", params=params, headers=headers) as response,
            ):
                status, text = response.status, await response.text()
                retry_after = failures.seconds(response.headers)
                body: dict[str, Any] = await response.json(content_type=None) if status == 200 else {}
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise TransientError(f"reporter unreachable: {type(exc).__name__}", service="reporter") from exc
        if status == 429 or status >= 500:
            raise TransientError(f"reporter answered {status}", retry_after, service="reporter")
        if status == 404:
            raise UnknownReportChannel(f"the reporter has no reports for {channel}")
        if status != 200:
            raise PermanentError(f"reporter answered {status}: {text[:200]}")
        return body


def from_settings(settings: ZendeskSyncSettings) -> Reporter | None:
    """The reporter's client, when its URL and token are both set (else None: not available here)."""
    token = settings.reporter_api_token
    if not settings.reporter_api_url or token is None:
        return None
    return Reporter(settings.reporter_api_url, token.get_secret_value(), ticket_url=settings.ticket_url)

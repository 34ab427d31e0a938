"""The reporter's HTTP API as zendesk-sync uses it: a channel's report as Block Kit, for
`/support report` (GET /reports/{kind}?channel=&date=&format=slack, with its bearer token).

Failures come out as the engine's kinds: an unreachable or failing reporter is transient (the
person's answer waits for it, within response_url's 30 minutes), a refusal is permanent.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from threadline_common.retry import TransientError
from threadline_zendesk_sync.plan import failures
from threadline_zendesk_sync.plan.failures import PermanentError


class UnknownReportChannel(PermanentError):
    """The reporter does not report on this channel (404)."""


class Reporter:
    def __init__(self, api_url: str, token: str, timeout: float = 30.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.timeout = timeout

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

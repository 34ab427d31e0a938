"""Which failures are worth retrying and which are final, in Zendesk's, Slack's and PagerDuty's
own words: a TransientError is retried (through the budgets, after Retry-After), a
PermanentError dead-letters the command, ThreadGone reports a thread that is no more."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from threadline_common.retry import TransientError


class PermanentError(Exception):
    """The command can never succeed as it is (closed ticket, unknown channel): dead-letter it."""


class NotFound(PermanentError):
    """Zendesk has no such record."""


class ThreadGone(PermanentError):
    """Slack has no such thread or message any more (deleted, or its channel is gone or archived):
    nothing can be said there. Not dead-lettered: the router records it and tells the ticket once."""


def retry_after_seconds(value: Any) -> float | None:
    """A Retry-After header's seconds (None when absent or not a number)."""
    try:
        return max(0.0, float(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def seconds(headers: Mapping[str, Any]) -> float | None:
    """A Retry-After header, in seconds."""
    return retry_after_seconds(next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None))


def zendesk_reason(body: str) -> str:
    """Zendesk's own words from an error body: description and field details."""
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200]
    if not isinstance(data, dict):
        return body[:200]
    details = data.get("details") or {}
    said = [
        str(item.get("description"))
        for items in details.values()
        if isinstance(items, list)
        for item in items
        if isinstance(item, dict) and item.get("description")
    ]
    error = data.get("error")
    head = data.get("description") or (error if isinstance(error, str) else None) or ""
    return "; ".join([str(head), *said]) if said else str(head or body[:200])


def zendesk_failure(status: int | None, body: str = "", retry_after: Any = None) -> Exception:
    """What a Zendesk answer means for the command. 429 and 409 (an update raced another) and
    5xx are worth retrying; any other 4xx will not change by itself."""
    if status is None:
        return TransientError("Zendesk unreachable", service="zendesk")
    if status in (429, 409) or status >= 500:
        return TransientError(f"Zendesk answered {status}", retry_after_seconds(retry_after), "zendesk")
    if status == 404:
        return NotFound(f"Zendesk answered 404: {zendesk_reason(body)}")
    return PermanentError(f"Zendesk answered {status}: {zendesk_reason(body)}")


SLACK_TRANSIENT_ERRORS = frozenset({"fatal_error", "internal_error", "service_unavailable", "request_timeout"})


# Slack's answers when the thread, its parent message or its channel is no longer there.
SLACK_GONE_ERRORS = frozenset(
    {"thread_not_found", "message_not_found", "channel_not_found", "is_archived", "invalid_thread_ts"}
)


# Slack answers channel_not_found both for a channel that is gone and for a private channel the
# app is not a member of (to a non-member it does not exist): whoever reads it must hear both.
CHANNEL_NOT_FOUND = (
    "Slack answered channel_not_found: the channel was deleted, or it is private and the Threadline app "
    "is not a member of it (invite the app to the channel)"
)


def slack_failure(status: int, error: str | None, retry_after: Any = None) -> Exception:
    if status == 429 or error == "ratelimited":
        return TransientError("Slack rate limit", retry_after_seconds(retry_after), "slack")
    if status >= 500 or error in SLACK_TRANSIENT_ERRORS:
        return TransientError(f"Slack answered {error or status}", service="slack")
    if error == "channel_not_found":
        return ThreadGone(CHANNEL_NOT_FOUND)
    if error in SLACK_GONE_ERRORS:
        return ThreadGone(f"Slack answered {error}")
    return PermanentError(f"Slack answered {error or status}")


def pagerduty_reason(body: str) -> str:
    try:
        error = (json.loads(body) or {}).get("error") or {}
    except (ValueError, AttributeError):
        return body[:200]
    if not isinstance(error, dict):
        return str(error)[:200]
    return "; ".join([str(error.get("message") or "error"), *map(str, error.get("errors") or [])])

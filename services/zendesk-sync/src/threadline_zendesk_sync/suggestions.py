"""Suggestions for a new question: similar solved conversations (the reporter's Elasticsearch) and
Help Center articles (Zendesk Guide's search).

PLACEHOLDER until the search work is merged: the signatures agreed for issue #17, returning
nothing. Both are best-effort: they return [] when unconfigured or on any error, never raise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from threadline_zendesk_sync.reporter_client import Reporter as ReporterClient
    from threadline_zendesk_sync.zendesk_client import Zendesk as ZendeskClient


@dataclass(frozen=True)
class Suggestion:
    title: str  # a solved conversation's question (first line, trimmed) or the article's title
    url: str  # the ticket's agent/requester link, or the article's html_url
    detail: str  # e.g. "solved 3 days ago: <how it was solved>" or the article's snippet; plain text


async def similar_solved(
    reporter: ReporterClient | None,
    *,
    team_id: str,
    channel: str,
    text: str,
    exclude_conversation: str,
    limit: int = 3,
) -> list[Suggestion]:
    return []


async def help_center_articles(
    zendesk: ZendeskClient, *, text: str, locale: str | None, limit: int = 3
) -> list[Suggestion]:
    return []

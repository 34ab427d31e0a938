"""The two searches behind automatic answers: solved conversations of the same channel that
look like a new question (the reporter's GET /similar), and Help Center articles (Zendesk
Guide's article search, through zenpy).

Suggestions are best-effort: both functions return [] when unconfigured or on any failure
(logged once, with its reason) and never raise, so the rule answers they go with are posted
whatever happens here. `solved_suggestion` and `article_suggestion` are the pure parts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bs4 import BeautifulSoup

from threadline_common.times import parse_time
from threadline_zendesk_sync.plan.ticket_answers import duration

if TYPE_CHECKING:
    from threadline_zendesk_sync.reporter_client import Reporter as ReporterClient
    from threadline_zendesk_sync.zendesk_client import Zendesk as ZendeskClient

log = logging.getLogger(__name__)
MAX_DETAIL = 200
# Zendesk Guide's search reads the query as words; what the first words of a question say is enough.
MAX_ARTICLE_QUERY = 500
# A suggestion is worth a short wait only (zenpy's own timeout is the commands' 30 s).
SEARCH_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Suggestion:
    title: str  # a solved conversation's question (first line, trimmed) or the article's title
    url: str  # the ticket's agent/requester link, or the article's html_url
    detail: str  # e.g. "solved 3 days ago: <how it was solved>" or the article's snippet; plain text


def _shorten(text: str, limit: int = MAX_DETAIL) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plain_text(html: str | None) -> str:
    """Zendesk's HTML (an article body, a snippet with <em> around the matches) as plain text.
    BeautifulSoup (maintained, already what threadline_common reads HTML with) rather than a
    regular expression: entities, comments and unclosed tags come out right."""
    if not html:
        return ""
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


def solved_suggestion(found: dict[str, Any], ticket_url: Callable[[int], str], now: dt.datetime) -> Suggestion | None:
    """One of the reporter's similar conversations as a suggestion (None: nothing to link to)."""
    question, ticket = found.get("question"), found.get("ticket_id")
    if not isinstance(question, str) or not question.strip() or not isinstance(ticket, int):
        return None
    when = ""
    try:
        solved_at = parse_time(str(found["solved_at"])) if found.get("solved_at") else None
    except ValueError:
        solved_at = None
    if solved_at is not None:
        when = f" {duration((now - solved_at).total_seconds())} ago"
    how = found.get("answer") if isinstance(found.get("answer"), str) else None
    if not how:
        how = {"zendesk": "solved by an agent in Zendesk", "slack": "marked solved in Slack"}.get(
            str(found.get("solved_source")), "no answer was written down"
        )
    return Suggestion(title=_shorten(question, 150), url=ticket_url(ticket), detail=_shorten(f"solved{when}: {how}"))


def article_suggestion(article: dict[str, Any]) -> Suggestion | None:
    """A Help Center search result as a suggestion: its title, its page, its snippet (else the
    beginning of its body) as plain text."""
    title, url = article.get("title") or article.get("name"), article.get("html_url")
    if not isinstance(title, str) or not title.strip() or not isinstance(url, str) or not url:
        return None
    detail = plain_text(article.get("snippet")) or plain_text(article.get("body"))
    return Suggestion(title=_shorten(title, 150), url=url, detail=_shorten(detail))


async def similar_solved(
    reporter: ReporterClient | None,
    *,
    team_id: str,
    channel: str,
    text: str,
    exclude_conversation: str,
    limit: int = 3,
) -> list[Suggestion]:
    """Up to `limit` solved conversations of the channel like `text`, best first."""
    if reporter is None or not text.strip() or limit < 1:
        return []
    if reporter.ticket_url is None:
        log.warning(
            "similar solved conversations: the reporter client has no ticket link (reporter_client.from_settings)"
        )
        return []
    try:
        found = await reporter.similar(team_id, channel, text, exclude_conversation, limit)
        now = dt.datetime.now(dt.UTC)
        made = (solved_suggestion(f, reporter.ticket_url, now) for f in found)
        return [s for s in made if s is not None][:limit]
    except Exception as exc:  # best-effort by contract: whatever failed, the answer goes out without it
        log.warning("similar solved conversations not suggested: %s: %s", type(exc).__name__, exc)
        return []


async def help_center_articles(
    zendesk: ZendeskClient, *, text: str, locale: str | None, limit: int = 3
) -> list[Suggestion]:
    """Up to `limit` Help Center articles for `text` (in `locale`, else the Help Center's default)."""
    if not text.strip() or limit < 1:
        return []
    query: dict[str, Any] = {"query": " ".join(text.split())[:MAX_ARTICLE_QUERY], "per_page": limit}
    if locale:
        query["locale"] = locale

    def search() -> list[dict[str, Any]]:
        results = zendesk.zen.help_center.articles.search(**query)
        # One page: the generator would fetch the next one past `limit`.
        return [a.to_dict() for a in itertools.islice(results, limit)]

    try:
        articles = await asyncio.wait_for(zendesk.call(search), SEARCH_TIMEOUT_SECONDS)
        made = (article_suggestion(a) for a in articles)
        return [s for s in made if s is not None][:limit]
    except Exception as exc:  # best-effort by contract, as above
        log.warning("Help Center articles not suggested: %s: %s", type(exc).__name__, exc)
        return []

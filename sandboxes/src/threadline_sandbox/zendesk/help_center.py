"""Zendesk Guide (the Help Center API) as far as Threadline reads it: categories, sections and
articles, and the article search.

    GET  /api/v2/help_center[/{locale}]/articles/search[.json]?query=&locale=&category=&section=
         &label_names=&page=&per_page=                         relevance first; offset pagination
    GET  /api/v2/help_center[/{locale}]/articles[.json]         GET .../articles/{id}[.json]
    POST /api/v2/help_center[/{locale}]/sections/{id}/articles[.json]   {"article": {...}}
    GET  /api/v2/help_center[/{locale}]/sections[.json], .../categories[.json]
    GET  /hc/{locale}/articles/{id}[-{slug}]                    the article's page (its html_url)

As the public reference describes them: a search result is the article with `result_type`
("article") and `snippet` (the matching words between <em></em>); pages of `per_page` 1-100
(default 25), `page` > 0, at most 1000 results; one of query, category, section or label_names
is required (400 without); the locale is the path's, else the `locale` parameter, else the Help
Center's default (`*`: every locale). Only published articles are found. Relevance is the
sandbox's own approximation: distinct query words found, a title word counting twice, a few
English function words ignored (Guide's engine is not public).
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

DEFAULT_LOCALE = "en-us"
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 25
MAX_RESULTS = 1000
SNIPPET_WORDS = 24
_WORD = re.compile(r"\w+", re.UNICODE)
# Words that match nearly every article; the sandbox leaves them out of relevance.
_FUNCTION_WORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from", "how",
        "i", "if", "in", "into", "is", "it", "my", "me", "no", "not", "of", "on", "or", "our", "so", "such",
        "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "what", "when",
        "where", "which", "who", "why", "will", "with", "you", "your",
    }
)  # fmt: skip


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(body: str) -> str:
    parser = _Text()
    parser.feed(body or "")
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def slug(title: str) -> str:
    """The title in an article's links, as Zendesk writes it ("Notify-None-Article-Name")."""
    return "-".join(_WORD.findall(title))[:60] or "article"


def leading_id(ref: str) -> int | None:
    """The id of `<id>` or `<id>-<slug>` (Guide's links carry the slug; either is accepted)."""
    head = ref.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def query_words(query: str) -> list[str]:
    return [w for w in dict.fromkeys(w.lower() for w in _WORD.findall(query)) if w not in _FUNCTION_WORDS]


@dataclass
class HelpCenter:
    base_url: str  # where the sandbox serves (API urls and the articles' pages)
    now: Any  # () -> ISO 8601 time
    next_id: Any  # () -> a new id
    default_locale: str = DEFAULT_LOCALE
    categories: dict[int, dict[str, Any]] = field(default_factory=dict)
    sections: dict[int, dict[str, Any]] = field(default_factory=dict)
    articles: dict[int, dict[str, Any]] = field(default_factory=dict)

    def seed(self, raw: dict[str, Any]) -> None:
        """The seed's `help_center`: {locale, categories: [{id, name}], sections: [{id, name, category_id}]}."""
        self.default_locale = str(raw.get("locale") or DEFAULT_LOCALE)
        stamp = self.now()
        for c in raw.get("categories") or ():
            cid = int(c["id"])
            self.categories[cid] = {
                "id": cid,
                "url": f"{self.base_url}/api/v2/help_center/{self.default_locale}/categories/{cid}.json",
                "html_url": f"{self.base_url}/hc/{self.default_locale}/categories/{cid}-{slug(c['name'])}",
                "position": 0,
                "created_at": stamp,
                "updated_at": stamp,
                "name": str(c["name"]),
                "description": str(c.get("description") or ""),
                "locale": self.default_locale,
                "source_locale": self.default_locale,
                "outdated": False,
            }
        for s in raw.get("sections") or ():
            sid = int(s["id"])
            self.sections[sid] = {
                "id": sid,
                "url": f"{self.base_url}/api/v2/help_center/{self.default_locale}/sections/{sid}.json",
                "html_url": f"{self.base_url}/hc/{self.default_locale}/sections/{sid}-{slug(s['name'])}",
                "category_id": int(s["category_id"]),
                "position": 0,
                "sorting": "manual",
                "created_at": stamp,
                "updated_at": stamp,
                "name": str(s["name"]),
                "description": str(s.get("description") or ""),
                "locale": self.default_locale,
                "source_locale": self.default_locale,
                "outdated": False,
                "parent_section_id": None,
                "theme_template": "section_page",
            }

    # --- writes --------------------------------------------------------------------------------

    def create_article(
        self, section_id: int, data: dict[str, Any], author_id: int, path_locale: str | None
    ) -> dict[str, Any]:
        if section_id not in self.sections:
            raise LookupError(section_id)
        title = str(data.get("title") or "").strip()
        if not title:
            raise ValueError("title")
        locale = str(data.get("locale") or path_locale or self.default_locale).lower()
        aid = int(self.next_id())
        stamp = self.now()
        article = {
            "id": aid,
            "url": f"{self.base_url}/api/v2/help_center/{locale}/articles/{aid}-{slug(title)}.json",
            "html_url": f"{self.base_url}/hc/{locale}/articles/{aid}-{slug(title)}",
            "author_id": int(data.get("author_id") or author_id),
            "comments_disabled": bool(data.get("comments_disabled", False)),
            "draft": bool(data.get("draft", False)),
            "promoted": bool(data.get("promoted", False)),
            "position": int(data.get("position") or 0),
            "vote_sum": 0,
            "vote_count": 0,
            "section_id": section_id,
            "created_at": stamp,
            "updated_at": stamp,
            "name": title,
            "title": title,
            "source_locale": locale,
            "locale": locale,
            "outdated": False,
            "outdated_locales": [],
            "edited_at": stamp,
            "user_segment_id": data.get("user_segment_id"),
            "user_segment_ids": [data["user_segment_id"]] if data.get("user_segment_id") else [],
            "permission_group_id": data.get("permission_group_id"),
            "content_tag_ids": list(data.get("content_tag_ids") or []),
            "label_names": [str(n) for n in data.get("label_names") or []],
            "body": str(data.get("body") or ""),
        }
        self.articles[aid] = article
        return copy.deepcopy(article)

    # --- reads ---------------------------------------------------------------------------------

    def locale_of(self, path_locale: str | None, param: str | None) -> str | None:
        """The locale searched: the path's, else the parameter's, else the default; None: all."""
        chosen = (path_locale or param or self.default_locale).lower()
        return None if chosen == "*" else chosen

    def search(
        self,
        query: str,
        locale: str | None,
        category: set[int],
        section: set[int],
        labels: set[str],
    ) -> list[dict[str, Any]]:
        words = query_words(query)
        phrases = [p.lower() for p in re.findall(r"['\"]([^'\"]+)['\"]", query)]
        found: list[tuple[int, int, dict[str, Any]]] = []
        for article in self.articles.values():
            if article["draft"] or (locale is not None and article["locale"] != locale):
                continue
            if section and article["section_id"] not in section:
                continue
            if category and self.sections[article["section_id"]]["category_id"] not in category:
                continue
            if labels and not labels & set(article["label_names"]):
                continue
            title, text = article["title"].lower(), html_text(article["body"]).lower()
            title_words, body_words = set(_WORD.findall(title)), set(_WORD.findall(text))
            score = sum(2 * (w in title_words) + (w in body_words) for w in words)
            if phrases and not all(p in f"{title} {text}" for p in phrases):
                continue
            if query.strip() and score == 0 and not phrases:
                continue
            found.append((-score, article["id"], article))
        found.sort(key=lambda t: (t[0], t[1]))
        return [{**copy.deepcopy(a), "result_type": "article", "snippet": snippet(a, words)} for _, _, a in found]


def snippet(article: dict[str, Any], words: list[str]) -> str:
    """The body's words around the first match, the matching words between <em></em>."""
    text = html_text(article["body"])
    tokens = text.split()
    hits = [i for i, t in enumerate(tokens) if any(w in _WORD.findall(t.lower()) for w in words)]
    start = max(0, (hits[0] if hits else 0) - SNIPPET_WORDS // 3)
    chosen = tokens[start : start + SNIPPET_WORDS]
    out = []
    for token in chosen:
        escaped = token.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        out.append(f"<em>{escaped}</em>" if any(w in _WORD.findall(token.lower()) for w in words) else escaped)
    prefix, suffix = ("..." if start > 0 else ""), ("..." if start + SNIPPET_WORDS < len(tokens) else "")
    return f"{prefix}{' '.join(out)}{suffix}"


def page_of(items: list[dict[str, Any]], page: int, per_page: int, link: Any) -> dict[str, Any]:
    """Guide's offset pagination: results, count (at most MAX_RESULTS), next/previous page links."""
    items = items[:MAX_RESULTS]
    page_count = max(1, math.ceil(len(items) / per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    return {
        "results": chunk,
        "count": len(items),
        "next_page": link(page + 1) if page * per_page < len(items) else None,
        "previous_page": link(page - 1) if page > 1 else None,
        "page": page,
        "per_page": per_page,
        "page_count": page_count,
    }


def query_link(base: str, path: str, params: dict[str, str]) -> Any:
    def link(number: int) -> str:
        return f"{base}{path}?{urlencode({**params, 'page': number})}"

    return link

"""What of a text that did not come from Slack may reach Slack, and how it reads there.

Everything Threadline posts that was written elsewhere (agents' Zendesk comments, emailed
subjects, bodies and sender names, Zendesk's error texts, file names, PagerDuty names) goes
through this module, and nothing else decides it. Slack's "Formatting text for app surfaces"
reference: in text from outside, `&`, `<` and `>` are escaped (`&amp;`, `&lt;`, `&gt;`), so
none of it can be a control sequence: no `<!channel>`, `<!here>`, `<!everyone>`, no `<@U…>`
mention, no `<#C…>` channel, no disguised `<http://evil|click>` link. A person is mentioned
only where Threadline itself mapped them (`mention`); links only where the source really had
one (an HTML `<a href>` or a Markdown link), shown with the address Slack can check.

Agents write HTML (the comment's `html_body`) or Markdown (`body` / `plain_body`); Slack shows
neither. Both become Slack mrkdwn here:

- HTML: markdownify (maintained, BeautifulSoup-based) with a Slack dialect (`_Mrkdwn`): its
  per-text-node escape hook is where the Slack escaping happens, so every character of text is
  escaped by construction and the only markup that comes out is what the converter emits for
  real tags (bold, italic, strike, code, quote, lists, links). Tags it does not know keep their
  text and lose their markup; `<script>` and `<style>` lose both.
- Markdown / plain text: markdown-it-py (CommonMark, maintained) renders it to HTML with raw
  HTML *off*, so `<b>` or `<!channel>` typed into a plain body stays text, then the same dialect.

We chose these over a Markdown-to-mrkdwn converter of its own (markdown-to-mrkdwn, slackstyler):
those rewrite with regular expressions and leave `<`, `>` and `&` as they were, so escaping
would have to be undone around their output; here escaping is part of the conversion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit

from bs4 import BeautifulSoup
from mailparser_reply import EmailReplyParser
from markdown_it import MarkdownIt
from markdownify import MarkdownConverter

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_SLACK_IDS = re.compile(r"[UW][A-Z0-9]{2,}")  # people; bots and apps are never mentioned
_GRAVE = "\u02cb"  # shown for a backtick inside code, which would end it
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})


def escape(text: str) -> str:
    """Outside text as Slack text: `&`, `<`, `>` escaped, so that it is shown as written.
    Already-escaped input (`&lt;!channel&gt;`) is escaped again and so shown as typed."""
    return str(text).translate(_ESCAPES)


def bold(text: str) -> str:
    """An outside name in bold; `*` inside it cannot end the bold early."""
    return "*" + escape(text).replace("*", "\u2217") + "*" if text else ""


def is_user_id(value: str) -> bool:
    return bool(_SLACK_IDS.fullmatch(value))


def mention(slack_user_id: str) -> str:
    """A Slack mention of a person Threadline itself resolved (never from outside text)."""
    if not is_user_id(slack_user_id):
        raise ValueError(f"not a Slack user id: {slack_user_id!r}")
    return f"<@{slack_user_id}>"


def safe_url(url: str) -> str | None:
    """A URL fit for `<url|label>`: http(s) or mailto only, with nothing that ends the markup."""
    url = str(url or "").strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    if scheme not in SAFE_SCHEMES:
        return None
    # Keep what a URL may hold; percent-encode `|`, `<`, `>`, spaces and the like.
    return escape(quote(url, safe=":/?#[]@!$&'()*+,;=%~-._"))


def link(url: str, label: str | None = None) -> str:
    """A link Threadline makes to an address it trusts the shape of; the label is escaped."""
    target = safe_url(url)
    if target is None:
        return escape(label or url)
    shown = escape(label) if label else ""
    return f"<{target}|{shown}>" if shown else f"<{target}>"


class _Mrkdwn(MarkdownConverter):
    """markdownify's converter speaking Slack mrkdwn instead of Markdown."""

    def __init__(self, **options: Any) -> None:
        super().__init__(
            bullets="•",
            escape_asterisks=False,
            escape_underscores=False,
            escape_misc=False,
            heading_style="atx",
            newline_style="backslash",
            strip_document="strip",
            **options,
        )

    # Every text node passes here (not those in code: see process_text).
    def escape(self, text: str, parent_tags: set[str]) -> str:
        return escape(text) if text else ""

    def process_text(self, el: Any, parent_tags: set[str] | None = None) -> str:
        text: str = super().process_text(el, parent_tags)  # type: ignore[misc]
        if parent_tags is not None and "_noformat" in parent_tags:
            text = escape(text)  # markdownify leaves code alone; Slack still needs it escaped
        return text

    def _wrap(self, text: str, mark: str) -> str:
        inner = text.strip()
        if not inner:
            return text
        lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
        return f"{lead}{mark}{inner}{mark}{trail}"

    def convert_b(self, el: Any, text: str, parent_tags: set[str]) -> str:
        return text if "_inline" in parent_tags and "pre" in parent_tags else self._wrap(text, "*")

    convert_strong = convert_b

    def convert_em(self, el: Any, text: str, parent_tags: set[str]) -> str:
        return self._wrap(text, "_")

    convert_i = convert_em

    def convert_del(self, el: Any, text: str, parent_tags: set[str]) -> str:
        return self._wrap(text, "~")

    convert_s = convert_del

    def convert_hN(self, n: int, el: Any, text: str, parent_tags: set[str]) -> str:
        if "_inline" in parent_tags:
            return text
        return f"\n\n{self._wrap(text.strip(), '*')}\n\n"

    def convert_a(self, el: Any, text: str, parent_tags: set[str]) -> str:
        href = el.get("href") or ""
        target = safe_url(href)
        label = text.strip()
        if "_noformat" in parent_tags or target is None:
            return text
        if not label or label == escape(href):
            return f"<{target}>"
        return f"<{target}|{label}>"

    def convert_img(self, el: Any, text: str, parent_tags: set[str]) -> str:
        src, alt = el.get("src") or "", el.get("alt") or "image"
        return link(src, alt) if safe_url(src) else escape(alt)

    def convert_br(self, el: Any, text: str, parent_tags: set[str]) -> str:
        return "\n" if "_inline" not in parent_tags else " "

    def convert_script(self, el: Any, text: str, parent_tags: set[str]) -> str:
        return ""

    convert_style = convert_script

    def convert_code(self, el: Any, text: str, parent_tags: set[str]) -> str:
        if "pre" in parent_tags or not text.strip():
            return text
        return "`" + text.replace("`", _GRAVE) + "`"

    def convert_pre(self, el: Any, text: str, parent_tags: set[str]) -> str:
        if not text.strip():
            return ""
        # A fence inside the text would end the block early.
        return "\n\n```\n" + text.strip("\n").replace("```", _GRAVE * 3) + "\n```\n\n"


_MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("strikethrough")
_BLANK_RUNS = re.compile(r"\n{3,}")


def html_to_mrkdwn(markup: str) -> str:
    """Zendesk HTML (a comment's html_body) as Slack mrkdwn, every text character escaped."""
    text = _Mrkdwn().convert(str(markup or ""))
    return _BLANK_RUNS.sub("\n\n", text).strip()


def markdown_to_mrkdwn(text: str) -> str:
    """Zendesk Markdown or plain text (body / plain_body) as Slack mrkdwn; HTML in it is text."""
    return html_to_mrkdwn(_MARKDOWN.render(str(text or "")))


# Tags that say the HTML carries the agent's formatting; Zendesk wraps a plain comment in
# div/p/br only, and then its body (which may be Markdown) says more than its html_body.
FORMATTING_TAGS = (
    "a", "b", "strong", "i", "em", "s", "del", "strike", "u", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "img", "table", "hr",
)  # fmt: skip


def zendesk_to_mrkdwn(html_body: str | None, body: str | None) -> str:
    """A Zendesk comment for Slack: its html_body when that carries formatting (the rich text
    editor's bold, links, lists), else its body (plain text or Markdown) read as Markdown."""
    if html_body and html_body.strip() and BeautifulSoup(html_body, "html.parser").find(FORMATTING_TAGS):
        return html_to_mrkdwn(html_body)
    if not (body or "").strip() and html_body:
        return html_to_mrkdwn(html_body)
    return markdown_to_mrkdwn(body or "")


def quote_lines(mrkdwn: str) -> str:
    """Slack mrkdwn (already safe) as a block quote."""
    return "\n".join(f">{line}" for line in mrkdwn.splitlines()) or ">(no text)"


# --- emails -----------------------------------------------------------------------------------------
# The languages mail-parser-reply knows the reply headers ("On … wrote:", "Am … schrieb:") and
# signatures of; it keeps the whole text when it finds neither.
EMAIL_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "da", "sv", "pl", "cs")


@lru_cache(maxsize=1)
def _reply_parser() -> EmailReplyParser:
    return EmailReplyParser(languages=list(EMAIL_LANGUAGES))


@dataclass(frozen=True)
class Excerpt:
    text: str  # Slack mrkdwn, escaped
    shortened: str  # "" when the whole email is there; else what was left out, for the post to say


def email_excerpt(body: str, limit: int) -> Excerpt:
    """What of an email is posted to Slack: its latest reply without signature and quoted
    history (mail-parser-reply), at most `limit` characters, escaped. The email stays whole on
    the ticket. An email is plain text: it is escaped, not read as Markdown (a line starting
    with `#` or `1.` in a mail is not a heading or a list)."""
    full = str(body or "").strip()
    try:
        replies = _reply_parser().read(full).replies
        latest = (replies[0].body if replies else full).strip()
    except Exception:
        latest = full
    reasons = []
    if not latest:
        latest = full  # nothing but quotes or a signature: show it as it came
    elif latest != full:
        reasons.append("signature and quoted replies left out")
    if len(latest) > limit:
        latest = latest[:limit].rstrip() + "…"
        reasons.append("shortened")
    return Excerpt(escape(latest), "; ".join(reasons).capitalize())

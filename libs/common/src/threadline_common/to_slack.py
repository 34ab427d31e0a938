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
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

if TYPE_CHECKING:
    from mailparser_reply import EmailReplyParser


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


# The converters (markdownify, BeautifulSoup, markdown-it-py) are in rich_text, imported at the
# first conversion: they cost ~0.15 s at every start of a process that imports this module for
# escape() and mention() only (the router; measured with `python -X importtime`).


def html_to_mrkdwn(markup: str) -> str:
    """Zendesk HTML (a comment's html_body) as Slack mrkdwn, every text character escaped."""
    from threadline_common import rich_text

    return rich_text.html_to_mrkdwn(markup)


def markdown_to_mrkdwn(text: str) -> str:
    """Zendesk Markdown or plain text (body / plain_body) as Slack mrkdwn; HTML in it is text."""
    from threadline_common import rich_text

    return rich_text.markdown_to_mrkdwn(text)


def zendesk_to_mrkdwn(html_body: str | None, body: str | None) -> str:
    """A Zendesk comment for Slack: its html_body when that carries formatting (the rich text
    editor's bold, links, lists), else its body (plain text or Markdown) read as Markdown."""
    from threadline_common import rich_text

    return rich_text.zendesk_to_mrkdwn(html_body, body)


def quote_lines(mrkdwn: str) -> str:
    """Slack mrkdwn (already safe) as a block quote."""
    return "\n".join(f">{line}" for line in mrkdwn.splitlines()) or ">(no text)"


# --- emails -----------------------------------------------------------------------------------------
# The languages mail-parser-reply knows the reply headers ("On … wrote:", "Am … schrieb:") and
# signatures of; it keeps the whole text when it finds neither.
EMAIL_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "da", "sv", "pl", "cs")


@lru_cache(maxsize=1)
def _reply_parser() -> EmailReplyParser:
    from mailparser_reply import EmailReplyParser  # at the first email, as rich_text

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

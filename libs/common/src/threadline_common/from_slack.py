"""How Slack text reads in Zendesk: what agents see of a Slack message, and ticket subjects.

Slack sends mrkdwn: `:fire:` shortcodes, `<@U…>` and `<#C…|name>` mentions, `<!here>`,
`<url|label>` links, `*bold*`, `_italic_`, `~strike~`, code, and `&`, `<`, `>` escaped. Agents
get emoji as characters (the `emoji` library with Slack's alias names, `language="alias"`),
people and channels by name, links as links and the formatting as Zendesk Markdown.

Slack's control sequences (`<…>`) are a small, closed grammar Slack documents (Formatting text
for app surfaces), and no maintained Python library parses mrkdwn (the converters on PyPI go the
other way, Markdown to mrkdwn): the patterns below are that grammar, nothing more. Code spans and
blocks are left as they are, apart from Slack's escapes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping

import emoji

from threadline_common.text import subject_line

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
SUBTEAM = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>")
DATE = re.compile(r"<!date\^[0-9]+\^[^|>]*\|([^>]*)>")
LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]+))?>")
# Code blocks first, then code spans: their content is not formatting.
_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.DOTALL)
# Slack's formatting marks: the mark at a word boundary, text that neither starts nor ends
# with a space, on one line.
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")


def mentioned_users(text: str) -> list[str]:
    """User ids mentioned in Slack mrkdwn, in order, once each."""
    return list(dict.fromkeys(m.group(1) for m in MENTION.finditer(text)))


def emojize(text: str) -> str:
    """`:fire:` -> 🔥 with Slack's names (unknown shortcodes, custom emoji, stay as they are)."""
    return str(emoji.emojize(text, language="alias"))


def _outside_code(text: str, convert: Callable[[str], str]) -> str:
    parts: list[str] = []
    last = 0
    for m in _CODE.finditer(text):
        parts.append(convert(text[last : m.start()]))
        parts.append(m.group(0))
        last = m.end()
    parts.append(convert(text[last:]))
    return "".join(parts)


def _references(text: str, names: Mapping[str, str] | None, link: Callable[[str, str | None], str]) -> str:
    def mention(m: re.Match[str]) -> str:
        if names is None:
            return m.group(0)  # named later by whoever knows the names
        return "@" + (names.get(m.group(1)) or m.group(2) or m.group(1))

    def channel(m: re.Match[str]) -> str:
        if names is None and not m.group(2):
            return m.group(0)
        return "#" + (m.group(2) or (names or {}).get(m.group(1)) or m.group(1))

    text = MENTION.sub(mention, text)
    text = CHANNEL.sub(channel, text)
    text = SPECIAL.sub(lambda m: "@" + m.group(1), text)
    text = SUBTEAM.sub(lambda m: m.group(1) or "@group", text)
    text = DATE.sub(lambda m: m.group(1), text)
    return LINK.sub(lambda m: link(m.group(1), m.group(2)), text)


def _markdown_link(url: str, label: str | None) -> str:
    address = url.removeprefix("mailto:")
    if not label or label in (url, address):
        return address if url.startswith("mailto:") else f"<{url}>"
    return f"[{label}]({url})"


def _plain_link(url: str, label: str | None) -> str:
    return label or url.removeprefix("mailto:")  # a subject reads the link as Slack shows it


def to_zendesk(text: str, names: Mapping[str, str]) -> str:
    """Slack mrkdwn as a Zendesk comment body (Markdown): names, emoji, links, formatting."""

    def convert(part: str) -> str:
        part = _references(part, names, _markdown_link)
        part = emojize(part)
        part = _BOLD.sub(r"**\1**", part)
        part = _ITALIC.sub(r"*\1*", part)
        return _STRIKE.sub(r"~~\1~~", part)

    return html.unescape(_outside_code(text, convert))  # Slack escapes only &, < and >


def to_plain(text: str, names: Mapping[str, str] | None) -> str:
    """Slack mrkdwn as plain text (a subject): names, emoji, links as Slack shows them (the
    label, else the address), no formatting marks. `names=None` keeps mentions as Slack wrote them, for
    whoever can name them later."""

    def convert(part: str) -> str:
        part = _references(part, names, _plain_link)
        part = emojize(part)
        for mark in (_BOLD, _ITALIC, _STRIKE):
            part = mark.sub(r"\1", part)
        return part

    plain = _outside_code(text, convert)
    if names is None:
        return plain  # still mrkdwn where it matters (mentions, escapes, code): a second pass ends it
    return html.unescape(plain.replace("```", "").replace("`", ""))


def subject(text: str, names: Mapping[str, str] | None = None, limit: int = 120) -> str:
    """A ticket subject from a Slack message: the shared subject rule over its plain text."""
    return subject_line(to_plain(text, names), limit)

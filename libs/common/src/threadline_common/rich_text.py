"""The converters behind to_slack's html_to_mrkdwn, markdown_to_mrkdwn and zendesk_to_mrkdwn
(what they do and why these libraries: to_slack's docstring). A module of their own so that
markdownify, BeautifulSoup and markdown-it-py are imported at the first conversion, not by every
process that imports to_slack; use them through to_slack."""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from markdownify import MarkdownConverter

from threadline_common.to_slack import _GRAVE, escape, link, safe_url


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
    text = _Mrkdwn().convert(str(markup or ""))
    return _BLANK_RUNS.sub("\n\n", text).strip()


def markdown_to_mrkdwn(text: str) -> str:
    return html_to_mrkdwn(_MARKDOWN.render(str(text or "")))


# Tags that say the HTML carries the agent's formatting; Zendesk wraps a plain comment in
# div/p/br only, and then its body (which may be Markdown) says more than its html_body.
FORMATTING_TAGS = (
    "a", "b", "strong", "i", "em", "s", "del", "strike", "u", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "img", "table", "hr",
)  # fmt: skip


def zendesk_to_mrkdwn(html_body: str | None, body: str | None) -> str:
    if html_body and html_body.strip() and BeautifulSoup(html_body, "html.parser").find(FORMATTING_TAGS):
        return html_to_mrkdwn(html_body)
    if not (body or "").strip() and html_body:
        return html_to_mrkdwn(html_body)
    return markdown_to_mrkdwn(body or "")

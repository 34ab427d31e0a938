"""Text rules both the router and zendesk-sync apply, so a ticket's subject is the same whoever writes it."""

from __future__ import annotations

DEFAULT_SUBJECT = "Support request from Slack"


def subject_line(text: str, limit: int = 120) -> str:
    """The first non-empty line, cut at a word boundary (or at `limit` within one long word)."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if not line:
        return DEFAULT_SUBJECT
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0] or line[:limit]
    return cut + "…"

"""Files both ways: which Slack files are carried to Zendesk (and the notes for those that stay),
and the links to an agent comment's attachments in Slack."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from msgspec import UNSET

from threadline_common import to_slack
from threadline_common.models.generated.commands_v4 import SlackFile


def split_files(files: Iterable[SlackFile], max_bytes: int) -> tuple[list[SlackFile], list[str]]:
    """Files to carry to Zendesk, and notes for those that cannot be (too large, no URL)."""
    carry: list[SlackFile] = []
    notes: list[str] = []
    for f in files:
        name = f.name or f.id or "a file"
        if not f.url_private:
            notes.append(f"{name}: not downloadable from Slack")
        elif f.size is not UNSET and f.size > max_bytes:
            notes.append(f"{name}: {human_size(f.size)}, over the {human_size(max_bytes)} limit")
        else:
            carry.append(f)
    return carry, notes


def message_files(message: Mapping[str, Any]) -> list[SlackFile]:
    """The files of a Slack message (conversations.replies) as commands carry them."""
    files: list[SlackFile] = []
    for f in message.get("files") or []:
        if not isinstance(f, Mapping) or not f.get("id"):
            continue
        size, url = f.get("size"), f.get("url_private")
        files.append(
            SlackFile(
                id=str(f["id"]),
                name=str(f.get("name") or f["id"]),
                mimetype=str(f.get("mimetype") or "application/octet-stream"),
                size=size if isinstance(size, int) and size >= 0 else UNSET,
                url_private=str(url) if url else UNSET,
            )
        )
    return files


def human_size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"


def files_note(notes: list[str]) -> str:
    if not notes:
        return ""
    lines = "\n".join(f"• {n}" for n in notes)
    return f"\n\nAttachments left in Slack (open the thread to see them):\n{lines}"


def attachment_lines(attachments: list[Mapping[str, Any]]) -> str:
    """Links to an agent comment's attachments, for its post in Slack."""
    lines = []
    for a in attachments:
        url, name = a.get("content_url"), str(a.get("file_name") or "attachment")
        if not url:
            continue
        size = f" ({human_size(int(a['size']))})" if a.get("size") is not None else ""
        lines.append(f":paperclip: {to_slack.link(str(url), name)}{size}")
    return "\n" + "\n".join(lines) if lines else ""


def files_left_text(notes: list[str], max_bytes: int) -> str:
    """The thread's notice about files that stayed in Slack."""
    lines = "\n".join(f"• {to_slack.escape(n)}" for n in notes)
    return (
        f":warning: Some files could not be added to the ticket (the limit is {human_size(max_bytes)} a file); "
        f"the agent sees a note and can open them here:\n{lines}"
    )

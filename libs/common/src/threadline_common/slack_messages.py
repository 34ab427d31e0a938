"""Which Slack `message` events are conversation: the one rule ingest's keying, the router and
`threadline-ops backfill` follow.

An allow-list, not a deny-list: a plain message (no subtype), a file shared with it, a reply
also sent to the channel, and a bot's post (the router then checks the bot is allowed) are
conversation; edits and deletions are edits and deletions; everything else Slack sends as a
`message` (joins, renames, topics, pins, `/me`, hidden `message_replied` notices, and any
subtype Slack adds tomorrow) is not, and never opens a ticket or adds a comment.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Literal

log = logging.getLogger(__name__)

CONVERSATION_SUBTYPES = frozenset({"file_share", "thread_broadcast", "bot_message"})
EDIT, DELETE, REPLIED = "message_changed", "message_deleted", "message_replied"

# Subtypes Slack documents (https://api.slack.com/events/message) that are not conversation:
# ignored quietly. Any other subtype is ignored too, and logged once per process.
DOCUMENTED_IGNORED = frozenset(
    {
        "assistant_app_thread",
        "bot_add",
        "bot_remove",
        "channel_archive",
        "channel_convert_to_private",
        "channel_convert_to_public",
        "channel_join",
        "channel_leave",
        "channel_name",
        "channel_posting_permissions",
        "channel_purpose",
        "channel_topic",
        "channel_unarchive",
        "ekm_access_denied",
        "file_comment",
        "file_mention",
        "group_archive",
        "group_join",
        "group_leave",
        "group_name",
        "group_purpose",
        "group_topic",
        "group_unarchive",
        "huddle_thread",
        "me_message",
        "message_replied",
        "pinned_item",
        "reminder_add",
        "tombstone",
        "unpinned_item",
    }
)

Kind = Literal["conversation", "edit", "delete", "ignored"]


def message_kind(event: dict[str, Any]) -> Kind:
    """What a Slack `message` event (or a message object of conversations.history) is."""
    subtype = event.get("subtype")
    if subtype == EDIT:
        message = event.get("message")
        if not isinstance(message, dict):
            message = {}
        # A parent deleted while it has replies stays as a tombstone: that is a deletion.
        if message.get("subtype") == "tombstone" or message.get("hidden") is True:
            return "delete"
        return "edit"
    if subtype == DELETE:
        return "delete"
    if event.get("hidden"):
        return "ignored"  # Slack's own notices (message_replied and the like), never shown
    if subtype is None or subtype in CONVERSATION_SUBTYPES:
        return "conversation"
    if subtype not in DOCUMENTED_IGNORED:
        _log_new_subtype(str(subtype))
    return "ignored"


def is_conversation(message: dict[str, Any]) -> bool:
    return message_kind(message) == "conversation"


@lru_cache(maxsize=256)
def _log_new_subtype(subtype: str) -> None:
    """Once per subtype per process (the cache is the memory of what was said)."""
    log.info("ignoring Slack message subtype %r: not one Threadline treats as conversation", subtype)

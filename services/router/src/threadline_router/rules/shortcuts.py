"""The rules for message shortcuts."""

from __future__ import annotations

from threadline_router.conversation import Conversation
from threadline_router.inbound import MessageShortcut
from threadline_router.rules.decision import Context, Decision, ignore


def on_shortcut(event: MessageShortcut, state: Conversation | None, ctx: Context) -> Decision:
    return ignore(state, "not served yet")

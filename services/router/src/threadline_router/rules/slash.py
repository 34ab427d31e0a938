"""The rules for slash commands (/support <verb>)."""

from __future__ import annotations

from threadline_router.conversation import Conversation
from threadline_router.inbound import SlashCommand
from threadline_router.rules.decision import Context, Decision, ignore


def on_slash_command(event: SlashCommand, state: Conversation | None, ctx: Context) -> Decision:
    return ignore(state, "not served yet")

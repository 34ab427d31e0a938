"""The rules for submitted modals."""

from __future__ import annotations

from threadline_router.conversation import Conversation
from threadline_router.inbound import SlashCommand, ViewSubmission
from threadline_router.rules.decision import Context, Decision, ignore


def on_view_submission(event: ViewSubmission, state: Conversation | None, ctx: Context) -> Decision:
    return ignore(state, "not served yet")


def open_from_command(event: SlashCommand, state: Conversation | None, ctx: Context) -> Decision:
    return ignore(state, "/support open: not served yet")  # stub: the modals' rules replace it

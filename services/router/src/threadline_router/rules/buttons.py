"""The rules for presses on Threadline's buttons."""

from __future__ import annotations

from threadline_router.conversation import Conversation
from threadline_router.inbound import BlockAction
from threadline_router.rules.decision import Context, Decision, ignore


def on_block_action(event: BlockAction, state: Conversation | None, ctx: Context) -> Decision:
    return ignore(state, "not served yet")

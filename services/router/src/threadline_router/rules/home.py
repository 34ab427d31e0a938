"""The rules for App Home visits."""

from __future__ import annotations

from threadline_router.conversation import Conversation
from threadline_router.inbound import HomeOpened
from threadline_router.rules.decision import Context, Decision, ignore


def on_home_opened(event: HomeOpened, state: Conversation | None, ctx: Context) -> Decision:
    return ignore(state, "not served yet")

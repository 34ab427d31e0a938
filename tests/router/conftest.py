import pytest

from threadline_common.channels import parse_channels
from threadline_router.rules import Context


@pytest.fixture
def ctx() -> Context:
    channels = parse_channels(
        {
            "defaults": {"zendesk": {"tags": ["slack"]}},
            "channels": {
                "C1": {"name": "support", "zendesk": {"group_id": 10, "priority": "normal"}},
                "C2": {"name": "infra", "resolvers": "requester_and_responders", "on_closed_reply": "notice"},
            },
            "email_groups": {10: "C1"},
        }
    )
    return Context(
        channels=channels,
        bot_user_id="UBOT",
        bot_id="BBOT",
        zendesk_api_user_id=999,
        now="2026-11-23T10:00:00Z",
    )

"""The Slack sandbox says which scopes a token was granted, as Slack does: in the x-oauth-scopes
header of every Web API answer (read here through slack_sdk's response headers)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from threadline_router.ops.slack_manifest import BOT_SCOPES
from threadline_sandbox.slack.server import SlackSandbox

pytestmark = pytest.mark.unit


@pytest.fixture
def slack() -> Iterator[SlackSandbox]:
    sandbox = SlackSandbox("scopes-test-secret", []).start()
    yield sandbox
    sandbox.stop()


def granted(response) -> list[str]:
    return [s for s in response.headers.get("x-oauth-scopes", "").split(",") if s]


def test_the_bot_token_carries_the_scopes_of_its_seed(slack):
    answer = WebClient(token=slack.bot_token, base_url=slack.api_url).auth_test()
    assert granted(answer) == list(BOT_SCOPES)  # the seeded app is installed as the manifest asks


def test_scopes_are_per_token_and_follow_the_workspace(slack):
    slack.ws.scopes[slack.bot_token] = ["chat:write"]  # an app installed with fewer scopes
    client = WebClient(token=slack.bot_token, base_url=slack.api_url)
    assert granted(client.auth_test()) == ["chat:write"]
    assert granted(client.conversations_info(channel="C0SUPPORT")) == ["chat:write"]
    user = WebClient(token=slack.user_token("alice"), base_url=slack.api_url)
    assert granted(user.auth_test()) == []  # no scopes seeded for her token

"""usergroups.users.list in the Slack sandbox, through the unmodified slack_sdk, as Slack's
documentation describes it: `{"ok": true, "users": [...]}`; `no_such_subteam` for an unknown
(or disabled, unless include_disabled) group; `missing_scope` naming `usergroups:read` for a
token installed without it; a missing `usergroup` is invalid_arguments."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from threadline_sandbox.slack.server import SlackSandbox

pytestmark = pytest.mark.unit


@pytest.fixture
def slack() -> Iterator[SlackSandbox]:
    sandbox = SlackSandbox("usergroups-test-secret", []).start()
    yield sandbox
    sandbox.stop()


def error_of(call) -> dict:
    with pytest.raises(SlackApiError) as err:
        call()
    return dict(err.value.response.data)


def test_a_groups_members_and_their_change(slack):
    client = WebClient(token=slack.bot_token, base_url=slack.api_url)
    answer = client.usergroups_users_list(usergroup="S0SUPPORT")
    assert answer.data == {"ok": True, "users": ["U0BOB", "U0SRE"]}  # the seed's support team
    slack.set_usergroup("S0SUPPORT", ["U0ALICE"])
    assert client.usergroups_users_list(usergroup="S0SUPPORT")["users"] == ["U0ALICE"]


def test_unknown_and_disabled_groups_are_no_such_subteam(slack):
    client = WebClient(token=slack.bot_token, base_url=slack.api_url)
    assert error_of(lambda: client.usergroups_users_list(usergroup="S0NOPE")) == {
        "ok": False,
        "error": "no_such_subteam",
    }
    slack.set_usergroup("S0OLD", ["U0BOB"], disabled=True)
    assert error_of(lambda: client.usergroups_users_list(usergroup="S0OLD"))["error"] == "no_such_subteam"
    assert client.usergroups_users_list(usergroup="S0OLD", include_disabled=True)["users"] == ["U0BOB"]


def test_a_token_without_usergroups_read_is_missing_scope(slack):
    slack.ws.scopes[slack.bot_token] = ["chat:write", "users:read"]
    client = WebClient(token=slack.bot_token, base_url=slack.api_url)
    assert error_of(lambda: client.usergroups_users_list(usergroup="S0SUPPORT")) == {
        "ok": False,
        "error": "missing_scope",
        "needed": "usergroups:read",
        "provided": "chat:write,users:read",
    }


def test_without_a_usergroup_it_is_invalid_arguments(slack):
    client = WebClient(token=slack.bot_token, base_url=slack.api_url)
    assert error_of(lambda: client.api_call("usergroups.users.list", params={}))["error"] == "invalid_arguments"

"""The sandbox's OAuth v2 install flow through slack_sdk's own helpers (AuthorizeUrlGenerator,
WebClient.oauth_v2_access): the documented response and errors, and the issued bot token acting
in its team in the other methods and in the events it causes."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth import AuthorizeUrlGenerator

from threadline_sandbox.slack import SlackSandbox
from threadline_sandbox.slack.oauth import OAuthApp

from .test_slack_sandbox import Receiver

pytestmark = pytest.mark.unit
REDIRECT = "https://threadline.example/slack/oauth_redirect"
APP = OAuthApp(client_id="111.222", client_secret="s3cret", redirect_urls=(REDIRECT,))


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def slack(receiver):
    sandbox = SlackSandbox("sig", [receiver.url], oauth_app=APP).start()
    yield sandbox
    sandbox.stop()


def authorize_url(slack: SlackSandbox, state: str = "st-1") -> str:
    generator = AuthorizeUrlGenerator(
        client_id=APP.client_id,
        scopes=["chat:write", "channels:history"],
        user_scopes=["chat:write"],
        redirect_uri=REDIRECT,
        authorization_url=f"{slack.base_url}/oauth/v2/authorize",
    )
    return generator.generate(state)


def code_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_install_returns_documented_response_and_token_acts_in_its_team(slack, receiver):
    page = httpx.get(authorize_url(slack))
    assert page.status_code == 200 and "chat:write" in page.text
    location = slack.approve_install(authorize_url(slack), "T2", "Second Corp")
    assert location.startswith(REDIRECT)
    query = code_of(location)
    assert query["state"] == "st-1"

    client = WebClient(base_url=slack.api_url)
    install = client.oauth_v2_access(
        client_id=APP.client_id, client_secret=APP.client_secret, code=query["code"], redirect_uri=REDIRECT
    )
    assert install["token_type"] == "bot" and install["access_token"].startswith("xoxb-")
    assert install["team"] == {"id": "T2", "name": "Second Corp"}
    assert install["bot_user_id"] == slack.bot_user_id and install["app_id"] == slack.ws.app_id
    assert install["scope"] == "chat:write,channels:history"
    assert install["is_enterprise_install"] is False and install["enterprise"] is None
    assert install["authed_user"]["access_token"].startswith("xoxp-")

    bot = WebClient(token=install["access_token"], base_url=slack.api_url)
    assert bot.auth_test()["team_id"] == "T2"
    posted = bot.chat_postMessage(channel=slack.channel_id("support"), text="hello from T2")
    assert posted["message"]["team"] == "T2"
    # The seed token still acts in the seed team.
    seed = WebClient(token=slack.bot_token, base_url=slack.api_url)
    assert seed.auth_test()["team_id"] == slack.ws.team_id

    # A person of T2 posts with their token: the event comes from T2.
    person = WebClient(token=install["authed_user"]["access_token"], base_url=slack.api_url)
    person.chat_postMessage(channel=slack.channel_id("support"), text="a question from T2")
    slack.wait_for_deliveries()
    from_t2 = [e for e in receiver.events() if e["event"].get("text") == "a question from T2"]
    assert from_t2 and from_t2[0]["team_id"] == "T2"
    assert from_t2[0]["authorizations"][0]["team_id"] == "T2"


def test_oauth_v2_access_documented_errors(slack):
    client = WebClient(base_url=slack.api_url)

    def error(**kw: str) -> str:
        with pytest.raises(SlackApiError) as exc:
            client.oauth_v2_access(**{"client_id": APP.client_id, "client_secret": APP.client_secret, **kw})
        return str(exc.value.response["error"])

    code = code_of(slack.approve_install(authorize_url(slack), "T2"))["code"]
    assert error(code=code, client_secret="wrong", redirect_uri=REDIRECT) == "bad_client_secret"
    assert error(code=code, client_id="999.999", redirect_uri=REDIRECT) == "invalid_client_id"
    assert error(code="not-a-code", redirect_uri=REDIRECT) == "invalid_code"
    assert error(code=code, redirect_uri="https://elsewhere.example/cb") == "bad_redirect_uri"
    # A code is good once: used (even by a failed exchange on its redirect_uri), it is gone.
    assert error(code=code, redirect_uri=REDIRECT) == "invalid_code"

    fresh = code_of(slack.approve_install(authorize_url(slack), "T3"))["code"]
    # HTTP Basic credentials, as the documentation prefers.
    answer = httpx.post(
        f"{slack.api_url}oauth.v2.access",
        data={"code": fresh, "redirect_uri": REDIRECT},
        auth=(APP.client_id, APP.client_secret),
    ).json()
    assert answer["ok"] and answer["team"]["id"] == "T3"


def test_authorize_page_refuses_unknown_client_and_redirect(slack):
    url = authorize_url(slack)
    assert httpx.get(url.replace(APP.client_id, "000.000")).status_code == 400
    assert httpx.get(url.replace("threadline.example", "evil.example")).status_code == 400
    denied = code_of(slack.approve_install(url, "T2", allow=False))
    assert denied == {"error": "access_denied", "state": "st-1"}


def test_an_org_wide_install_names_the_enterprise_and_no_team(slack):
    location = slack.approve_install(authorize_url(slack), "T2", enterprise_id="E1", org_wide=True)
    install = WebClient(base_url=slack.api_url).oauth_v2_access(
        client_id=APP.client_id, client_secret=APP.client_secret, code=code_of(location)["code"], redirect_uri=REDIRECT
    )
    assert install["is_enterprise_install"] is True
    assert install["team"] is None and install["enterprise"] == {"id": "E1", "name": "E1"}
    answer = WebClient(token=install["access_token"], base_url=slack.api_url).auth_test()
    assert answer["enterprise_id"] == "E1" and answer["is_enterprise_install"] is True


def install_token(slack: SlackSandbox, team: str, **kw: object) -> str:
    location = slack.approve_install(authorize_url(slack), team, **kw)
    install = WebClient(base_url=slack.api_url).oauth_v2_access(
        client_id=APP.client_id, client_secret=APP.client_secret, code=code_of(location)["code"], redirect_uri=REDIRECT
    )
    return str(install["access_token"])


def test_a_channel_of_one_workspace_refuses_the_token_of_another(slack):
    slack.add_workspace("T2", "Second Corp")
    slack.add_channel("C2HELP", "help", "T2", members=[slack.bot_user_id])
    t2 = WebClient(token=install_token(slack, "T2"), base_url=slack.api_url)
    assert t2.chat_postMessage(channel="C2HELP", text="hello")["message"]["team"] == "T2"
    # The seed workspace's bot token does not reach T2's channel: Slack answers as if it did not exist.
    seed = WebClient(token=slack.bot_token, base_url=slack.api_url)
    for call in (
        lambda: seed.chat_postMessage(channel="C2HELP", text="wrong token"),
        lambda: seed.conversations_info(channel="C2HELP"),
        lambda: seed.conversations_history(channel="C2HELP"),
    ):
        with pytest.raises(SlackApiError) as exc:
            call()
        assert exc.value.response["error"] == "channel_not_found"
    # The seed's channels stay shared by every workspace.
    assert t2.conversations_info(channel=slack.channel_id("support"))["ok"]


def test_an_org_wide_token_reaches_the_workspaces_of_its_organisation(slack, receiver):
    slack.add_workspace("T3", "Third Corp", enterprise_id="E1")
    slack.add_workspace("T4", "Elsewhere", enterprise_id="E9")
    slack.add_channel("C3HELP", "help", "T3", members=[slack.bot_user_id, "W3ALICE"])
    slack.add_channel("C4HELP", "help", "T4", members=[slack.bot_user_id])
    org = WebClient(token=install_token(slack, "T3", enterprise_id="E1", org_wide=True), base_url=slack.api_url)
    assert org.chat_postMessage(channel="C3HELP", text="from the org app")["ok"]
    with pytest.raises(SlackApiError) as exc:
        org.chat_postMessage(channel="C4HELP", text="another organisation")
    assert exc.value.response["error"] == "channel_not_found"

    # A person of T3 asks: the event is T3's, delivered for the org-wide install, as Slack's
    # Enterprise Grid payload (team_id T3, enterprise_id, authorizations[0].team_id null).
    person = WebClient(token=slack.person_token("T3", "W3ALICE"), base_url=slack.api_url)
    person.chat_postMessage(channel="C3HELP", text="a question from T3")
    slack.wait_for_deliveries()
    [event] = [e for e in receiver.events() if e["event"].get("text") == "a question from T3"]
    assert event["team_id"] == "T3" and event["enterprise_id"] == "E1"
    assert event["authorizations"][0] == {
        "enterprise_id": "E1",
        "team_id": None,
        "user_id": slack.bot_user_id,
        "is_bot": True,
        "is_enterprise_install": True,
    }


def test_the_home_tab_of_a_person_of_another_workspace_needs_that_workspaces_token(slack, receiver):
    """views.publish answers invalid_arguments ("invalid `user_id`", the documented error for a
    user_id that is not viable) to a token of another workspace; the person's own workspace's
    token, or its organisation's org-wide one, publishes. Opening the Home is an event of the
    person's workspace (team_id, authorizations), as Slack sends app_home_opened."""
    slack.add_workspace("T2", "Second Corp")
    slack.add_workspace("T3", "Third Corp", enterprise_id="E1")
    t2 = WebClient(token=install_token(slack, "T2"), base_url=slack.api_url)
    org = WebClient(token=install_token(slack, "T3", enterprise_id="E1", org_wide=True), base_url=slack.api_url)
    seed = WebClient(token=slack.bot_token, base_url=slack.api_url)
    slack.person_token("T2", "W2DANA")
    slack.person_token("T3", "W3ALICE")
    home = {"type": "home", "blocks": []}

    for token, person in ((seed, "W2DANA"), (org, "W2DANA"), (seed, "W3ALICE"), (t2, "W3ALICE"), (t2, "U0BOB")):
        with pytest.raises(SlackApiError) as exc:
            token.views_publish(user_id=person, view=home)
        assert exc.value.response["error"] == "invalid_arguments"
        assert exc.value.response["response_metadata"]["messages"] == ["invalid `user_id`"]
    assert slack.home("w2dana") is None and slack.home("w3alice") is None

    assert t2.views_publish(user_id="W2DANA", view=home)["view"]["team_id"] == "T2"
    assert slack.home_published_by("w2dana") == "T2"
    assert org.views_publish(user_id="W3ALICE", view=home)["view"]["team_id"] == "T3"
    assert slack.home_published_by("w3alice") == "E1"
    assert seed.views_publish(user_id="U0BOB", view=home)["view"]["team_id"] == slack.ws.team_id  # as before

    slack.open_home("w2dana")
    slack.open_home("w3alice")
    slack.wait_for_deliveries()
    opened = {e["event"]["user"]: e for e in receiver.events() if e["event"]["type"] == "app_home_opened"}
    assert opened["W2DANA"]["team_id"] == "T2" and opened["W2DANA"]["authorizations"][0]["team_id"] == "T2"
    assert opened["W3ALICE"]["team_id"] == "T3"
    assert opened["W3ALICE"]["authorizations"][0]["enterprise_id"] == "E1"
    assert opened["W3ALICE"]["authorizations"][0]["is_enterprise_install"] is True

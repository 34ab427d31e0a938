"""Several workspaces: a second workspace (T2) installs the app through ingest's OAuth flow
(Slack sandbox, installations in real Kafka); a question asked in T2 gets its ticket link
posted with T2's bot token, while the first workspace keeps working with the single token. An
Enterprise Grid organisation installs the app org-wide: a question in one of its workspaces,
which has no install of its own, gets its link posted with the org's token (the sandbox, as
Slack, answers channel_not_found to the single token there). A person's App Home is published
with their workspace's token too (the sandbox, as Slack, refuses views.publish for a person of
another workspace)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet
from slack_sdk import WebClient

from threadline_common.installations import InstallationCipher, KafkaInstallationStore
from threadline_common.settings import KafkaSettings
from threadline_sandbox.slack.oauth import OAuthApp
from threadline_sandbox.zendesk import ZendeskSandbox

from .conftest import Pipeline, wait_until

pytestmark = pytest.mark.integration
KEY = Fernet.generate_key().decode()
APP = OAuthApp()  # the sandbox's own credentials


@pytest.fixture
def pipeline_settings() -> dict[str, dict[str, str]]:
    return {
        "ingest": {
            "slack_client_id": APP.client_id,
            "slack_client_secret": APP.client_secret,
            "slack_installations_key": KEY,
            "slack_oauth_redirect_uri": "{ingest_url}/slack/oauth_redirect",
            "slack_api_url": "{slack_url}/api/",
            "slack_authorize_url": "{slack_url}/oauth/v2/authorize",
            # A person's token too, so that the test can post as someone of T2.
            "slack_oauth_user_scopes": "chat:write",
        },
        "zendesk-sync": {"slack_installations_key": KEY},
    }


@pytest.fixture
def pipeline_channels() -> Callable[[ZendeskSandbox], str]:
    """The seed workspace's #support, #help of a workspace of the organisation E1, and T2's own #help-t2."""
    return lambda zendesk: (
        f"channels:\n  C0SUPPORT: {{name: support, zendesk: {{group_id: {zendesk.group_id}}}}}\n"
        f"  C3HELP: {{name: help, zendesk: {{group_id: {zendesk.group_id}}}}}\n"
        f"  C2HELP: {{name: help-t2, zendesk: {{group_id: {zendesk.group_id}}}}}\n"
    )


def install(p: Pipeline, team: str, name: str, **org: Any) -> None:
    ingest = f"http://127.0.0.1:{p.ports['ingest']}"
    started = httpx.get(f"{ingest}/slack/install")
    assert started.status_code == 302
    cookie = started.headers["set-cookie"].split(";")[0]
    back = urlsplit(p.slack.approve_install(started.headers["location"], team, name, **org))
    done = httpx.get(f"{ingest}{back.path}?{back.query}", headers={"cookie": cookie})
    assert done.status_code == 200 and "installed in" in done.text, done.text


def person_of(p: Pipeline, team: str) -> WebClient:
    """The installer's own token of that workspace, read back from the installations topic."""
    store = KafkaInstallationStore(
        KafkaSettings(bootstrap_servers=p.kafka_bootstrap),
        p.topics.slack_installations,
        InstallationCipher(KEY),
        client_id="test",
    ).start()
    try:
        store.wait_ready()
        installation = store.find_installation(None, team)
    finally:
        store.close()
    assert installation is not None and installation.user_token
    return WebClient(token=installation.user_token, base_url=p.slack.api_url)


def bot_replies(p: Pipeline, channel: str, ts: str) -> list[dict]:
    return [m for m in p.slack.thread(channel, ts) if m.get("bot_id") and m["ts"] != ts]


def test_an_installed_workspace_is_answered_with_its_own_token(pipeline: Pipeline):
    p = pipeline
    install(p, "T2", "Second Corp")
    alice_t2 = person_of(p, "T2")
    root = alice_t2.chat_postMessage(channel="C0SUPPORT", text="Our badge readers are offline")["ts"]
    [link] = wait_until("the ticket link in T2's thread", lambda: bot_replies(p, "C0SUPPORT", root))[:1]
    assert "opened ticket" in link["text"]
    assert link["team"] == "T2"  # posted with T2's bot token

    # The first workspace keeps the single token.
    root1 = p.user("alice").chat_postMessage(channel="C0SUPPORT", text="The coffee machine is leaking")["ts"]
    [link1] = wait_until("the ticket link in T1's thread", lambda: bot_replies(p, "C0SUPPORT", root1))[:1]
    assert link1["team"] == p.slack.ws.team_id


def test_a_workspace_covered_only_by_an_org_wide_install_is_answered_with_the_org_token(pipeline: Pipeline):
    p = pipeline
    p.slack.add_workspace("T3", "Third Corp", enterprise_id="E1")
    p.slack.add_channel("C3HELP", "help", "T3", members=[p.slack.bot_user_id, "W3ALICE"])
    install(p, "T3", "Acme Grid", enterprise_id="E1", org_wide=True)
    alice_t3 = WebClient(token=p.slack.person_token("T3", "W3ALICE"), base_url=p.slack.api_url)
    root = alice_t3.chat_postMessage(channel="C3HELP", text="The Grid badge readers are offline")["ts"]
    [link] = wait_until("the ticket link in T3's thread", lambda: bot_replies(p, "C3HELP", root))[:1]
    assert "opened ticket" in link["text"]
    assert link["_token_team"] == "E1"  # posted with the org-wide install's token

    # An agent's answer from Zendesk: no Slack request behind it, the workspace's organisation
    # as its question named it.
    [ticket] = list(p.zen().tickets(external_id=f"T3:C3HELP:{root}"))
    p.zendesk.agent_comment(ticket.id, "The readers are back, badge in again please.")
    [answer] = wait_until(
        "the agent's answer in T3's thread",
        lambda: [m for m in bot_replies(p, "C3HELP", root) if "badge in again" in m["text"]],
    )
    assert answer["_token_team"] == "E1"


def test_a_persons_home_tab_is_published_with_the_token_of_their_workspace(pipeline: Pipeline):
    p = pipeline
    p.slack.add_workspace("T2", "Second Corp")
    p.slack.add_channel("C2HELP", "help-t2", "T2", members=[p.slack.bot_user_id, "W2DANA"])
    install(p, "T2", "Second Corp")
    p.slack.add_workspace("T3", "Third Corp", enterprise_id="E1")
    p.slack.add_channel("C3HELP", "help", "T3", members=[p.slack.bot_user_id, "W3ALICE"])
    install(p, "T3", "Acme Grid", enterprise_id="E1", org_wide=True)
    dana_t2 = WebClient(token=p.slack.person_token("T2", "W2DANA"), base_url=p.slack.api_url)
    alice_t3 = WebClient(token=p.slack.person_token("T3", "W3ALICE"), base_url=p.slack.api_url)

    # A request of each lists itself on its asker's Home, unasked: published when the
    # conversation changes, with T2's token for Dana, the org-wide install's for Alice of T3.
    root2 = dana_t2.chat_postMessage(channel="C2HELP", text="The T2 printers jam")["ts"]
    root3 = alice_t3.chat_postMessage(channel="C3HELP", text="The T3 printers jam")["ts"]
    [ticket2] = wait_until("T2's ticket", lambda: list(p.zen().tickets(external_id=f"T2:C2HELP:{root2}")))
    [ticket3] = wait_until("T3's ticket", lambda: list(p.zen().tickets(external_id=f"T3:C3HELP:{root3}")))
    wait_until("the request on Dana's Home", lambda: f"#{ticket2.id}" in str(p.slack.home("w2dana") or ""))
    wait_until("the request on Alice's Home in T3", lambda: f"#{ticket3.id}" in str(p.slack.home("w3alice") or ""))
    assert p.slack.home_published_by("w2dana") == "T2"
    assert p.slack.home_published_by("w3alice") == "E1"

    # An agent solves Alice's request in Zendesk (no Slack request behind it): her Home loses
    # it, published with the org's token as her workspace's earlier commands named it.
    p.zendesk.agent_set_status(ticket3.id, "solved")
    wait_until("Alice's Home updated", lambda: "You have no open requests" in str(p.slack.home("w3alice") or ""))
    assert p.slack.home_published_by("w3alice") == "E1"

    # Someone with nothing going on opens the tab (app_home_opened of their workspace: its
    # team_id, and authorizations[0] naming the org-wide install for T3).
    p.slack.person_token("T2", "W2ERIN")
    p.slack.person_token("T3", "W3BEN")
    p.slack.open_home("w2erin")
    p.slack.open_home("w3ben")
    wait_until("Erin's Home", lambda: "You have no open requests" in str(p.slack.home("w2erin") or ""))
    wait_until("Ben's Home", lambda: "You have no open requests" in str(p.slack.home("w3ben") or ""))
    assert p.slack.home_published_by("w2erin") == "T2" and p.slack.home_published_by("w3ben") == "E1"


def test_a_follower_in_a_second_workspace_gets_the_ticket_s_dm_with_its_token(pipeline: Pipeline):
    """The ticket's follows row (`ticket:<id>`) names no workspace: the router names the
    follower's on the DM's command, and zendesk-sync opens the DM with that workspace's token
    (the sandbox, as Slack, answers user_not_found to the single token for a person of T2)."""
    p = pipeline
    p.slack.add_workspace("T2", "Second Corp")
    p.slack.add_channel("C2HELP", "help-t2", "T2", members=[p.slack.bot_user_id, "W2DANA"])
    install(p, "T2", "Second Corp")
    dana_t2 = WebClient(token=p.slack.person_token("T2", "W2DANA"), base_url=p.slack.api_url)
    root = dana_t2.chat_postMessage(channel="C2HELP", text="The T2 scanners are down")["ts"]
    [ticket] = wait_until("T2's ticket", lambda: list(p.zen().tickets(external_id=f"T2:C2HELP:{root}")))

    response = p.slack.slash_command("w2dana", "C2HELP", "/support", f"follow {ticket.id}")
    assert response.status == 200
    wait_until(
        "Dana's follow answer",
        lambda: any(e["text"].startswith("You now follow ticket") for e in p.slack.ephemerals("w2dana")),
        timeout=60,
    )

    p.zendesk.agent_comment(ticket.id, "The scanners are back.")

    def dana_dm() -> list[dict[str, Any]]:
        ims = [c["id"] for c in p.slack.ws.channels.values() if c.get("type") == "im" and "W2DANA" in c["members"]]
        return [m for dm in ims for m in p.slack.channel_messages(dm) if "scanners are back" in m.get("text", "")]

    [dm] = wait_until("the agent's reply in Dana's DM", dana_dm, timeout=60)
    assert dm["_token_team"] == "T2"

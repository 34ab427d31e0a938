"""Several workspaces: a second workspace (T2) installs the app through ingest's OAuth flow
(Slack sandbox, installations in real Kafka); a question asked in T2 gets its ticket link
posted with T2's bot token, while the first workspace keeps working with the single token."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet
from slack_sdk import WebClient

from threadline_common.installations import InstallationCipher, KafkaInstallationStore
from threadline_common.settings import KafkaSettings
from threadline_sandbox.slack.oauth import OAuthApp

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


def install(p: Pipeline, team: str, name: str) -> None:
    ingest = f"http://127.0.0.1:{p.ports['ingest']}"
    started = httpx.get(f"{ingest}/slack/install")
    assert started.status_code == 302
    cookie = started.headers["set-cookie"].split(";")[0]
    back = urlsplit(p.slack.approve_install(started.headers["location"], team, name))
    done = httpx.get(f"{ingest}{back.path}?{back.query}", headers={"cookie": cookie})
    assert done.status_code == 200 and f"installed in {name}" in done.text


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

"""The app installed to a workspace of the Slack sandbox through its OAuth v2 flow (authorize
page, then oauth.v2.access with slack_sdk), and the installation kept in the real installations
topic, as ingest keeps it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from slack_sdk import WebClient
from slack_sdk.oauth import AuthorizeUrlGenerator
from slack_sdk.oauth.installation_store import Installation

from threadline_common.installations import InstallationCipher, KafkaInstallationStore
from threadline_common.settings import KafkaSettings
from threadline_sandbox.slack import SlackSandbox

REDIRECT = "https://threadline.example/slack/oauth_redirect"


def install(
    slack: SlackSandbox, team: str, name: str, enterprise_id: str | None = None, org_wide: bool = False
) -> Installation:
    url = AuthorizeUrlGenerator(
        client_id=slack.oauth_app.client_id,
        scopes=["chat:write", "channels:history"],
        redirect_uri=REDIRECT,
        authorization_url=f"{slack.base_url}/oauth/v2/authorize",
    ).generate("st")
    location = slack.approve_install(url, team, name, enterprise_id=enterprise_id, org_wide=org_wide)
    code = parse_qs(urlsplit(location).query)["code"][0]
    answer = WebClient(base_url=slack.api_url).oauth_v2_access(
        client_id=slack.oauth_app.client_id,
        client_secret=slack.oauth_app.client_secret,
        code=code,
        redirect_uri=REDIRECT,
    )
    enterprise = answer.get("enterprise") or {}
    return Installation(
        team_id=None if org_wide else team,
        team_name=None if org_wide else name,
        enterprise_id=enterprise.get("id"),
        enterprise_name=enterprise.get("name"),
        is_enterprise_install=org_wide,
        bot_token=answer["access_token"],
        bot_user_id=answer["bot_user_id"],
        bot_scopes=answer["scope"],
        user_id=answer["authed_user"]["id"],
        app_id=answer["app_id"],
    )


def keep(kafka: KafkaSettings, topic: str, key: str, *installations: Installation) -> None:
    """Save installations into the installations topic (encrypted with `key`)."""
    store = KafkaInstallationStore(kafka, topic, InstallationCipher(key), client_id="ingest").start()
    try:
        store.wait_ready()
        for installation in installations:
            store.save(installation)
    finally:
        store.close()

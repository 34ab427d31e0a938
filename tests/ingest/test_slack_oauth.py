"""Installing the app into another workspace through ingest (OAuth v2 against the Slack
sandbox, installations in real Kafka): the install is stored encrypted and its bot token acts
in that team; a changed state or one from another browser is refused with a clear page; a bad
client secret gives one clear line; without OAuth settings nothing of this is served."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pytest
from cryptography.fernet import Fernet
from fastapi.routing import iter_route_contexts
from ingest.support import make_settings, serving, slack_headers
from slack_sdk import WebClient
from threadline_testing.kafka import read_topic

from threadline_common.installations import InstallationCipher, KafkaInstallationStore
from threadline_common.settings import KafkaSettings
from threadline_ingest.app import create_app
from threadline_ingest.settings import BOT_SCOPES
from threadline_sandbox.slack import SlackSandbox
from threadline_sandbox.slack.oauth import OAuthApp

pytestmark = pytest.mark.integration
REDIRECT = "http://ingest/slack/oauth_redirect"
KEY = Fernet.generate_key().decode()
APP = OAuthApp(client_id="1111.2222", client_secret="client-secret-for-tests", redirect_urls=(REDIRECT,))


@pytest.fixture
def slack():
    sandbox = SlackSandbox(oauth_app=APP).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def kafka_settings(kafka_bootstrap, kafka_topics) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=kafka_topics.prefix)


def oauth_app(slack: SlackSandbox, kafka_settings: KafkaSettings, secret: str = APP.client_secret, **more):
    settings = make_settings(
        **more,
        slack_client_id=APP.client_id,
        slack_client_secret=secret,
        slack_installations_key=KEY,
        slack_oauth_redirect_uri=REDIRECT,
        slack_api_url=slack.api_url,
        slack_authorize_url=f"{slack.base_url}/oauth/v2/authorize",
    )
    return create_app(settings, kafka_settings)


async def start_install(client, slack: SlackSandbox, team: str, name: str) -> tuple[str, str]:
    """/slack/install, then a person's Allow for `team` on Slack's page: the redirect's path and
    query, and the state cookie the browser holds."""
    started = await client.get("/slack/install")
    assert started.status_code == 302
    cookie = started.headers["set-cookie"].split(";")[0]
    back = urlsplit(slack.approve_install(started.headers["location"], team, name))
    return f"{back.path}?{back.query}", cookie


async def test_install_stores_the_workspace_encrypted_and_its_token_acts_there(slack, kafka_settings, kafka_topics):
    async with serving(oauth_app(slack, kafka_settings)) as client:
        redirect, cookie = await start_install(client, slack, "T2", "Second Corp")
        answer = await client.get(redirect, headers={"cookie": cookie})
        assert answer.status_code == 200, answer.text
        assert "installed in Second Corp" in answer.text

    reader = KafkaInstallationStore(
        kafka_settings, kafka_topics.slack_installations, InstallationCipher(KEY), client_id="test"
    ).start()
    try:
        reader.wait_ready()
        bot = reader.find_bot(None, "T2")
    finally:
        reader.close()
    assert bot is not None
    assert WebClient(token=bot.bot_token, base_url=slack.api_url).auth_test()["team_id"] == "T2"
    # At rest the record holds no token and no team name.
    records = read_topic(kafka_settings.bootstrap_servers, kafka_topics.slack_installations)
    assert records and all(b"xoxb-" not in r.value() and b"Second Corp" not in r.value() for r in records)


async def test_an_installed_workspace_is_served_though_not_listed(slack, kafka_settings, kafka_topics, real_payloads):
    command = (real_payloads / "slack" / "interactivity" / "slash_command_form_body.txt").read_bytes().strip()
    form = "application/x-www-form-urlencoded"
    async with serving(oauth_app(slack, kafka_settings, slack_team_ids=["T999"])) as client:
        before = await client.post(
            "/slack/commands", content=command, headers=slack_headers(command, content_type=form)
        )
        assert before.json()["text"] == "Threadline does not serve this workspace."
        redirect, cookie = await start_install(client, slack, "T111", "Test Domain")
        assert (await client.get(redirect, headers={"cookie": cookie})).status_code == 200
        after = await client.post("/slack/commands", content=command, headers=slack_headers(command, content_type=form))
        assert after.status_code == 200 and "does not serve" not in after.text
    [record] = read_topic(kafka_settings.bootstrap_servers, kafka_topics.slack_events)
    assert b"T111" in record.value()


async def test_changed_state_or_another_browser_is_refused(slack, kafka_settings):
    async with serving(oauth_app(slack, kafka_settings)) as client:
        redirect, cookie = await start_install(client, slack, "T2", "Second Corp")
        state = redirect.split("state=")[1]
        tampered = redirect.replace(state, state[:-1] + ("0" if state[-1] != "0" else "1"))
        refused = await client.get(tampered, headers={"cookie": cookie})
        assert refused.status_code == 400
        assert "the state was changed or not issued by this app" in refused.text
        elsewhere = await client.get(redirect)  # no state cookie: not the browser that started
        assert elsewhere.status_code == 400 and "another browser" in elsewhere.text


async def test_bad_client_secret_gives_one_clear_line(slack, kafka_settings, caplog):
    async with serving(oauth_app(slack, kafka_settings, secret="a-wrong-client-secret")) as client:
        redirect, cookie = await start_install(client, slack, "T2", "Second Corp")
        with caplog.at_level(logging.WARNING, logger="threadline_ingest"):
            answer = await client.get(redirect, headers={"cookie": cookie})
    assert answer.status_code == 400 and "bad_client_secret" in answer.text
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("threadline_ingest")]
    assert lines == [
        "Slack install failed: oauth.v2.access answered bad_client_secret (check THREADLINE_INGEST_SLACK_CLIENT_SECRET)"
    ]


@pytest.mark.unit
def test_without_oauth_settings_nothing_is_served_and_half_a_setup_is_named():
    app = create_app(make_settings(), KafkaSettings(bootstrap_servers="127.0.0.1:9"))
    assert not {r.path for r in iter_route_contexts(app.routes)} & {"/slack/install", "/slack/oauth_redirect"}
    with pytest.raises(ValueError, match="missing THREADLINE_INGEST_SLACK_INSTALLATIONS_KEY"):
        make_settings(slack_client_id="1.2", slack_client_secret="s3cret-value", slack_oauth_redirect_uri=REDIRECT)
    with pytest.raises(ValueError, match="must be Fernet keys"):
        make_settings(
            slack_client_id="1.2",
            slack_client_secret="s3cret-value",
            slack_oauth_redirect_uri=REDIRECT,
            slack_installations_key="not-a-fernet-key",
        )


@pytest.mark.unit
def test_an_install_asks_for_the_manifests_scopes():
    from threadline_router.ops.slack_manifest import BOT_SCOPES as MANIFEST_SCOPES

    assert list(BOT_SCOPES) == list(MANIFEST_SCOPES)

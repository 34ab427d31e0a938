"""Slack installations in their compacted topic: encrypted at rest (the token is nowhere in the
record's bytes), keys rotated with MultiFernet, a bad key named at start, and the store read
back by another service's store over real Kafka."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from confluent_kafka import Consumer
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation
from threadline_testing.installs import install, keep

from threadline_common.installations import (
    InstallationCipher,
    InstallationKeyError,
    KafkaInstallationStore,
    TokenResolver,
    UnknownTeam,
    decode,
    encode,
    enterprise_header,
    enterprise_in,
    enterprise_of,
    team_of_conversation,
    token_resolver,
)
from threadline_common.schemas import validate
from threadline_common.settings import KafkaSettings
from threadline_devstack.waiting import wait_until
from threadline_sandbox.slack import SlackSandbox

KEY = Fernet.generate_key().decode()


def t2(token: str = "xoxb-T2-secret-token") -> Installation:  # noqa: S107 (a test token)
    return Installation(
        app_id="A0THREADLINE",
        team_id="T2",
        team_name="Second Corp",
        bot_token=token,
        bot_user_id="U0BOT",
        bot_scopes="chat:write",
        user_id="U0ALICE",
        installed_at=1764630000.0,
    )


@pytest.mark.unit
def test_record_is_encrypted_valid_and_reads_back():
    cipher = InstallationCipher(KEY)
    key, value = encode(t2(), cipher)
    assert key == b"-/T2"
    assert b"xoxb-T2-secret-token" not in value and b"Second Corp" not in value
    import json

    validate("threadline.slack.installations", 1, json.loads(value))
    assert decode(value, cipher).bot_token == "xoxb-T2-secret-token"


@pytest.mark.unit
def test_key_rotation_and_bad_keys():
    old = InstallationCipher(KEY)
    _, value = encode(t2(), old)
    new_key = Fernet.generate_key().decode()
    rotated = InstallationCipher(f"{new_key},{KEY}")
    assert decode(value, rotated).team_id == "T2"  # the old key still opens old records
    _, fresh = encode(t2(), rotated)
    assert decode(fresh, InstallationCipher(new_key)).team_id == "T2"  # new records use the new key
    with pytest.raises(InstallationKeyError, match="Fernet keys"):
        InstallationCipher("not-a-key")


@pytest.mark.unit
def test_resolver_without_installations_is_the_single_token():
    assert TokenResolver("xoxb-single").token_for("T1") == "xoxb-single"
    with pytest.raises(UnknownTeam):
        TokenResolver(None).token_for("T9")


@pytest.mark.integration
def test_store_over_kafka(kafka_bootstrap, kafka_topics, unique_group):
    settings = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    topic = kafka_topics.slack_installations
    writer = KafkaInstallationStore(settings, topic, InstallationCipher(KEY), client_id="ingest").start()
    writer.wait_ready()
    writer.save(t2())
    org = Installation(enterprise_id="E1", team_id=None, is_enterprise_install=True, bot_token="xoxb-E1", user_id="U1")
    writer.save(org)
    # Another service's store reads the topic from the beginning.
    reader = KafkaInstallationStore(settings, topic, InstallationCipher(KEY), client_id="zendesk-sync").start()
    try:
        reader.wait_ready()
        resolver = TokenResolver("xoxb-single", reader)
        assert resolver.token_for("T2") == "xoxb-T2-secret-token"
        assert resolver.token_for("T1") == "xoxb-single"
        assert reader.find_bot("E1", "T77").bot_token == "xoxb-E1"  # org-wide install covers its workspaces
        # An install made after start reaches the running reader.
        writer.save(t2("xoxb-T2-reinstalled"))
        wait_until("the reinstall read", lambda: resolver.token_for("T2") == "xoxb-T2-reinstalled", timeout=20)
        assert resolver.token_for("T2") == "xoxb-T2-reinstalled"
    finally:
        reader.close()
        writer.close()
    # At rest: no token in the topic's bytes.
    consumer = Consumer(
        {"bootstrap.servers": kafka_bootstrap, "group.id": unique_group, "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    seen: list[bytes] = []
    deadline = time.monotonic() + 20
    while len(seen) < 3 and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            seen.append(message.value())
    consumer.close()
    assert len(seen) == 3 and not any(b"xoxb-" in v for v in seen)


REAL = Path(__file__).parents[1] / "fixtures" / "real_payloads" / "slack"


def test_the_enterprise_of_a_slack_request_is_read_where_slack_puts_it():
    def body(name: str) -> dict:
        return json.loads((REAL / name).read_text())

    # Org-wide install: authorizations[0] has no team, the organisation's id.
    assert enterprise_of("event_callback", body("message_enterprise_grid_org_wide_install.json")) == "E111"
    # A shared channel: the envelope names the actor's organisation, the authorization the installer's.
    assert enterprise_of("event_callback", body("reaction_added_shared_channel_source_team_differs.json")) == (
        "E_INSTALLED"
    )
    form = parse_qs((REAL / "interactivity" / "slash_command_form_body.txt").read_text().strip())
    assert enterprise_of("slash_command", {k: v[0] for k, v in form.items()}) == "E111"
    # Outside Enterprise Grid: none (an interaction with `enterprise: null`).
    assert enterprise_of("interaction", body("interactivity/block_actions_with_message_socket_mode.json")) is None
    assert enterprise_of("interaction", {"enterprise": {"id": "E9"}, "team": {"id": "T1"}}) == "E9"
    assert enterprise_of("event_callback", "not a body") is None
    # On the command's record and back.
    assert enterprise_in(enterprise_header("E111")) == "E111"
    assert enterprise_header(None) == [] and enterprise_in([]) is None


def test_the_team_a_command_acts_in_is_read_off_its_key():
    assert team_of_conversation("T2:C2HELP:1700000000.000100") == "T2"
    # A person's row (their App Home's publishes, their follows' answers): their workspace.
    assert team_of_conversation("person:T2:W2DANA") == "T2"
    assert team_of_conversation("queue:T3:C3HELP") == "T3"
    # Keys that name no workspace: the single token (or the organisation the request named).
    assert team_of_conversation("ticket:42") is None
    assert team_of_conversation("rotation:C0SUPPORT") is None
    assert team_of_conversation("person:") is None


def test_an_org_wide_install_answers_for_a_workspace_of_its_organisation_named_with_it():
    store = KafkaInstallationStore(KafkaSettings(bootstrap_servers="127.0.0.1:9"), "t", InstallationCipher(KEY), "x")
    store._apply(
        *encode(
            Installation(
                enterprise_id="E1", team_id=None, is_enterprise_install=True, bot_token="xoxb-E1", user_id="U1"
            ),
            InstallationCipher(KEY),
        )
    )
    resolver = TokenResolver("xoxb-single", store)
    assert resolver.token_for("T3", "E1") == "xoxb-E1"
    assert resolver.token_for("T3") == "xoxb-single"  # without the organisation: the single token


@pytest.mark.integration
def test_a_workspace_no_request_named_is_found_in_its_organisation_by_asking_slack(kafka_bootstrap, kafka_topics):
    slack = SlackSandbox().start()
    try:
        slack.add_workspace("T3", "Third Corp", enterprise_id="E1")
        slack.add_workspace("T4", "Elsewhere", enterprise_id="E9")
        org = install(slack, "T3", "Acme Grid", enterprise_id="E1", org_wide=True)
        kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
        keep(kafka, kafka_topics.slack_installations, KEY, org)
        resolver = token_resolver(
            "xoxb-single", KEY, kafka, kafka_topics.slack_installations, "reporter", slack.api_url
        )
        try:
            resolver.wait_ready()
            assert resolver.needs_asking("T3")
            assert resolver.token_for("T3") == org.bot_token  # auth.teams.list of the org-wide install
            assert not resolver.needs_asking("T3")  # remembered
            assert resolver.token_for("T4") == "xoxb-single"  # not one of its workspaces
        finally:
            assert resolver.store is not None
            resolver.store.close()
    finally:
        slack.stop()

"""`threadline-ops doctor` against a deployment made of the real Kafka broker (topics created as
the chart's Job creates them), the Slack and Zendesk sandboxes and a channel file, set up in the
first-run order (setup-zendesk first). A healthy one passes; each thing broken the way it breaks
in real life gives its own line and exit 1."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet
from elasticsearch import Elasticsearch
from sandboxes.zendesk.conftest import Listener
from threadline_testing.installs import install, keep
from zenpy.lib.api_objects import Comment, Ticket, User, Webhook

from threadline_common.contracts import load_topics
from threadline_common.kafka import admin_config
from threadline_common.settings import KafkaSettings
from threadline_common.topics import delete_topics, ensure_topics
from threadline_devstack.waiting import wait_until
from threadline_reporter.indices import Names, ensure_indices
from threadline_reporter.service import elasticsearch_client
from threadline_reporter.settings import ElasticsearchSettings
from threadline_router.ops.cli import main
from threadline_router.ops.slack_manifest import BOT_SCOPES
from threadline_sandbox.slack.server import SlackSandbox
from threadline_sandbox.zendesk import ZendeskSandbox

pytestmark = pytest.mark.integration

INGEST = "https://threadline.sandbox-corp.example"
SOURCE, REGION = 360001, 360002  # the sandbox's seeded ticket fields: a text and a drop-down (emea, amer, apac)
Run = Callable[..., tuple[int, list[str]]]


@pytest.fixture(scope="module")
def deployed_topics(kafka_bootstrap) -> Iterator[KafkaSettings]:
    """Every contract topic with its contract's partitions and config, as the chart's Job makes them."""
    settings = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=f"d{uuid.uuid4().hex[:8]}.")
    names = ensure_topics(settings, wait_seconds=30).names
    yield settings
    delete_topics(settings, names, timeout=30)


@pytest.fixture
def slack() -> Iterator[SlackSandbox]:
    sandbox = SlackSandbox("doctor-test-secret", []).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def zendesk() -> Iterator[ZendeskSandbox]:
    sandbox = ZendeskSandbox().start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def channels_file(tmp_path: Path, zendesk: ZendeskSandbox) -> Path:
    path = tmp_path / "channels.yaml"
    config = {
        "defaults": {"zendesk": {"brand_id": zendesk.brand_id}},
        "channels": {
            "C0SUPPORT": {
                "name": "support",
                "zendesk": {
                    "group_id": zendesk.group_id,
                    "ticket_form_id": 1006,
                    "custom_fields": {REGION: "emea"},
                    "form": [
                        {"id": REGION, "label": "Region", "kind": "select", "options": ["emea", "amer"]},
                        {"id": SOURCE, "label": "Source"},
                    ],
                },
            },
            "C0INFRA": {"name": "infra-help", "zendesk": {"group_id": zendesk.infra_group_id}},
        },
        "email_groups": {zendesk.group_id: "C0SUPPORT"},
    }
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def reporter_es(elasticsearch_url, es_index_prefix) -> Iterator[Elasticsearch]:
    """The cluster as the reporter leaves it at start: its templates and indices, under this test's prefix."""
    settings = ElasticsearchSettings(elasticsearch_url=elasticsearch_url, index_prefix=es_index_prefix)
    es = elasticsearch_client(settings)
    ensure_indices(es, Names(es_index_prefix))
    yield es
    es.close()


@pytest.fixture
def ops(
    monkeypatch, deployed_topics, slack, zendesk, channels_file, reporter_es, elasticsearch_url, es_index_prefix
) -> Run:
    env = {
        "THREADLINE_REPORTER_ELASTICSEARCH_URL": elasticsearch_url,
        "THREADLINE_REPORTER_INDEX_PREFIX": es_index_prefix,
        **zendesk.zenpy_env(),
        "KAFKA_BOOTSTRAP_SERVERS": deployed_topics.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": deployed_topics.topic_prefix,
        "THREADLINE_OPS_KAFKA_TIMEOUT_SECONDS": "10",
        "THREADLINE_OPS_SLACK_BOT_TOKEN": slack.bot_token,
        "THREADLINE_OPS_SLACK_API_URL": slack.api_url,
        "THREADLINE_OPS_ZENDESK_SUBDOMAIN": zendesk.subdomain,
        "THREADLINE_OPS_ZENDESK_EMAIL": zendesk.api_email,
        "THREADLINE_OPS_ZENDESK_API_TOKEN": zendesk.api_token,
        "THREADLINE_OPS_CHANNELS_FILE": str(channels_file),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    def run(*argv: str) -> tuple[int, list[str]]:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), out, err)
        return code, (out.getvalue() + err.getvalue()).splitlines()

    code, _ = run("setup-zendesk", "--url", INGEST)  # the first-run order: the webhook exists before doctor
    assert code == 0
    return run


def problems(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("PROBLEM")]


def test_a_healthy_deployment_passes_with_a_line_per_check(ops, es_index_prefix):
    code, lines = ops("doctor", "--url", INGEST)
    assert problems(lines) == [], lines
    assert code == 0
    passed = "\n".join(lines)
    for wanted in (
        f"ok      Kafka: all {len(load_topics())} contract topics exist with their partitions and cleanup policies",
        "ok      Slack: the bot token is valid (@threadline",
        f"ok      Slack: the bot token has all {len(BOT_SCOPES)} scopes Threadline needs",
        "ok      Slack: the bot is in #support (C0SUPPORT)",
        "ok      Slack: the bot is in #infra-help (C0INFRA)",
        "ok      Zendesk: the credentials are valid (threadline@sandbox-corp.example, admin, sandbox)",
        f"sends ticket.created, ticket.comment_added, ticket.status_changed to {INGEST}/zendesk/webhook, active",
        "ok      Zendesk: every group and brand",
        "ok      Zendesk: every ticket field",
        "ok      Elasticsearch: http",
        "ok      Elasticsearch: the reporter's 3 index templates are installed as it installs them",
        f"ok      Elasticsearch: {es_index_prefix}conversations -> {es_index_prefix}conversations-v1",
        f"ok      Elasticsearch: {es_index_prefix}reports -> {es_index_prefix}reports-v1",
        f"note    Elasticsearch alias {es_index_prefix}events points at no index yet",
        "note    Zendesk has no recent deliveries of webhook",
    ):
        assert wanted in passed
    assert lines[-1] == "everything checked is as Threadline needs it"


def test_a_missing_topic_and_a_table_that_is_not_compacted_are_named(
    ops, deployed_topics, kafka_bootstrap, monkeypatch
):
    from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource

    broken = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=f"b{uuid.uuid4().hex[:8]}.")
    names = ensure_topics(broken, wait_seconds=30).names
    try:
        gone, links = f"{broken.topic_prefix}threadline.commands.dlq", f"{broken.topic_prefix}threadline.links"
        delete_topics(broken, [gone])
        admin = AdminClient(admin_config(broken))
        change = ConfigResource(
            ConfigResource.Type.TOPIC,
            links,
            incremental_configs=[ConfigEntry("cleanup.policy", "delete", incremental_operation=AlterConfigOpType.SET)],
        )
        for future in admin.incremental_alter_configs([change]).values():
            future.result(timeout=30)

        def policy() -> str:
            (future,) = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, links)]).values()
            return str(future.result(timeout=10)["cleanup.policy"].value)

        # Both changes are asynchronous on the broker: wait until it serves them.
        wait_until("the topic deleted", lambda: gone not in admin.list_topics(timeout=10).topics, timeout=30)
        wait_until("links no longer compacted", lambda: policy() == "delete", timeout=30)
        monkeypatch.setenv("KAFKA_TOPIC_PREFIX", broken.topic_prefix)
        code, lines = ops("doctor", "--url", INGEST)
    finally:
        delete_topics(broken, names)
    assert code == 1, lines
    assert problems(lines) == [
        f"PROBLEM topic {broken.topic_prefix}threadline.commands.dlq is missing: create it with "
        "python -m threadline_common.topics (what the chart's topics Job runs)",
        f"PROBLEM topic {broken.topic_prefix}threadline.links has cleanup.policy=delete, its contract says compact: "
        f"kafka-configs --alter --entity-type topics --entity-name {broken.topic_prefix}threadline.links "
        "--add-config cleanup.policy=compact",
    ]
    assert lines[-1] == "2 problems found"


def test_kafka_out_of_reach_is_one_line(ops, monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9")
    monkeypatch.setenv("THREADLINE_OPS_KAFKA_TIMEOUT_SECONDS", "2")
    code, lines = ops("doctor", "--url", INGEST)
    assert code == 1
    (line,) = problems(lines)
    assert line.startswith("PROBLEM Kafka at 127.0.0.1:9 did not answer within 2s")


def test_a_missing_scope_is_named(ops, slack):
    slack.ws.scopes[slack.bot_token] = [s for s in BOT_SCOPES if s not in ("reactions:write", "files:write")]
    code, lines = ops("doctor", "--url", INGEST)
    assert code == 1
    assert problems(lines) == [
        "PROBLEM the Slack bot token lacks the scopes reactions:write, files:write: add them under OAuth & "
        "Permissions (or update the app from `threadline-ops slack-manifest`) and reinstall the app"
    ]


def test_a_wrong_slack_token_and_a_channel_without_the_bot(ops, monkeypatch, channels_file, zendesk):
    config = yaml.safe_load(channels_file.read_text())
    config["channels"]["C0RANDOM"] = {"name": "random"}  # the bot was never invited there
    channels_file.write_text(yaml.safe_dump(config))
    code, lines = ops("doctor")
    assert code == 1
    assert problems(lines) == ["PROBLEM the Threadline bot is not in #random (C0RANDOM): /invite @Threadline there"]

    monkeypatch.setenv("THREADLINE_OPS_SLACK_BOT_TOKEN", "xoxb-not-ours")
    code, lines = ops("doctor")
    assert code == 1
    assert problems(lines) == [
        "PROBLEM Slack refused the bot token (invalid_auth): check THREADLINE_OPS_SLACK_BOT_TOKEN (xoxb-...)"
    ]


def test_a_wrong_zendesk_token_is_said(ops, monkeypatch):
    monkeypatch.setenv("THREADLINE_OPS_ZENDESK_API_TOKEN", "not-the-token")
    code, lines = ops("doctor", "--url", INGEST)
    assert code == 1
    (line,) = problems(lines)
    assert line.startswith("PROBLEM Zendesk (sandbox) refused the credentials (401 Couldn't authenticate you)")


def test_no_webhook_or_one_that_will_not_do(ops, zendesk):
    zen = zendesk.zenpy()
    (hook,) = list(zen.webhooks.list())
    zen.webhooks.patch(Webhook(id=hook.id, status="inactive", subscriptions=["zen:event-type:ticket.created"]))
    code, lines = ops("doctor", "--url", INGEST)
    assert code == 1
    assert problems(lines) == [
        f"PROBLEM the Zendesk webhook {hook.id} to {INGEST}/zendesk/webhook will not do: it is inactive; "
        "it is not subscribed to ticket.comment_added, ticket.status_changed: "
        f"run `threadline-ops setup-zendesk --url {INGEST}`"
    ]

    zen.webhooks.delete(hook)
    code, lines = ops("doctor", "--url", INGEST)
    assert code == 1
    assert problems(lines) == [
        f"PROBLEM no Zendesk webhook sends ticket events to {INGEST}/zendesk/webhook: "
        f"run `threadline-ops setup-zendesk --url {INGEST}`"
    ]


def test_groups_and_brands_the_channel_file_names_must_exist(ops, channels_file, zendesk):
    config = yaml.safe_load(channels_file.read_text())
    config["channels"]["C0INFRA"]["zendesk"] = {"group_id": 999, "brand_id": 998}
    channels_file.write_text(yaml.safe_dump(config))
    code, lines = ops("doctor")
    assert code == 1
    assert problems(lines) == [
        f"PROBLEM channel C0INFRA (#infra-help) in {channels_file}: Zendesk has no group 999 "
        "(groups: 1003 Support, 1004 Infrastructure)",
        f"PROBLEM channel C0INFRA (#infra-help) in {channels_file}: Zendesk has no brand 998 (brands: 1005 Sandbox Corp)",
    ]

    channels_file.write_text("channels: [not, a, mapping]\n")
    code, lines = ops("doctor")
    assert code == 1
    (line,) = problems(lines)
    assert line.startswith("PROBLEM the channel file does not load:") and "channels must be a mapping" in line


def test_a_failing_latest_delivery_to_ingest_is_a_problem(ops, zendesk):
    ingest = Listener()  # stands for ingest: answers 401 as it does to a secret that is not the webhook's
    try:
        url = ingest.url.removesuffix("/zendesk/webhook")
        assert ops("setup-zendesk", "--url", url)[0] == 0
        ingest.statuses = [401]
        zen = zendesk.zenpy()
        ticket = zen.tickets.create(
            Ticket(
                subject="VPN", comment=Comment(body="down"), requester=User(name="A", email="a@sandbox-corp.example")
            )
        ).ticket
        assert zendesk.wait_for_deliveries()
        code, lines = ops("doctor", "--url", url)
        assert code == 1
        (line,) = problems(lines)
        assert line.startswith("PROBLEM Zendesk's latest delivery to ingest failed (client error 401 at ")
        assert "1 of the last 1 failed" in line and "zendesk-webhook-secret" in line

        zen.tickets.update(Ticket(id=ticket.id, status="pending"))  # the secret is fixed: this one gets through
        assert zendesk.wait_for_deliveries()
        code, lines = ops("doctor", "--url", url)
        assert code == 0, problems(lines)
        assert "ok      Zendesk: the latest delivery to ingest succeeded (1 of the last 2 failed)" in lines
    finally:
        ingest.server.shutdown()
        ingest.server.server_close()


def test_a_missing_or_altered_template_is_named(ops, reporter_es, es_index_prefix):
    conversations, events = f"{es_index_prefix}conversations", f"{es_index_prefix}events"
    reporter_es.indices.delete_index_template(name=conversations)
    code, lines = ops("doctor")
    assert code == 1
    assert problems(lines) == [
        f"PROBLEM Elasticsearch template {conversations} is missing: "
        "start the reporter once (it installs its templates and indices at start)"
    ]

    # Someone edits a template by hand: a field mapped as text, one more replica.
    ensure_indices(reporter_es, Names(es_index_prefix))
    body = Names(es_index_prefix).templates()[events]
    mappings = {**body["template"]["mappings"]}
    mappings["properties"] = {**mappings["properties"], "channel_id": {"type": "text"}}
    altered = {**body, "template": {**body["template"], "mappings": mappings}}
    altered["template"]["settings"] = {**body["template"]["settings"], "number_of_replicas": 1}
    reporter_es.indices.put_index_template(name=events, **altered)
    code, lines = ops("doctor")
    assert code == 1
    assert problems(lines) == [
        f"PROBLEM Elasticsearch template {events} is not the reporter's (settings number_of_replicas; "
        "mapping maps differently channel_id): start the reporter once (it installs its templates and indices "
        "at start) of this release, which puts it back (a field whose type changed needs a new -vN index)"
    ]

    ensure_indices(reporter_es, Names(es_index_prefix))  # what the reporter does at start
    code, lines = ops("doctor")
    assert code == 0, problems(lines)


def test_a_missing_index_behind_an_alias_is_named(ops, reporter_es, es_index_prefix):
    reporter_es.indices.delete(index=f"{es_index_prefix}reports-v1")
    code, lines = ops("doctor")
    assert code == 1
    assert problems(lines) == [
        f"PROBLEM Elasticsearch alias {es_index_prefix}reports points at no index: "
        "start the reporter once (it installs its templates and indices at start)"
    ]


def test_elasticsearch_out_of_reach_or_refusing_is_one_line(ops, monkeypatch):
    monkeypatch.setenv("THREADLINE_REPORTER_ELASTICSEARCH_URL", "http://127.0.0.1:9")
    code, lines = ops("doctor")
    assert code == 1
    (line,) = problems(lines)
    assert line.startswith("PROBLEM cannot reach Elasticsearch at http://127.0.0.1:9: ")
    assert line.endswith("check THREADLINE_REPORTER_ELASTICSEARCH_URL and that the cluster is up")

    monkeypatch.setenv("THREADLINE_REPORTER_ELASTICSEARCH_URL", "not a url")
    code, lines = ops("doctor")
    assert code == 1
    (line,) = problems(lines)
    assert line.startswith("PROBLEM THREADLINE_REPORTER_ELASTICSEARCH_URL='not a url' will not do"), line


def test_ticket_fields_the_channel_file_names_must_exist_with_their_options(ops, channels_file):
    config = yaml.safe_load(channels_file.read_text())
    zendesk = config["channels"]["C0INFRA"]["zendesk"]
    zendesk["custom_fields"] = {999: "x", REGION: "antarctica"}
    zendesk["form"] = [{"id": SOURCE, "label": "Source", "kind": "select", "options": ["a"]}]
    zendesk["ticket_form_id"] = 999
    channels_file.write_text(yaml.safe_dump(config))
    code, lines = ops("doctor")
    assert code == 1
    fix = "Admin Center > Objects and rules > Tickets > Fields"
    label = "channel C0INFRA (#infra-help) zendesk"
    assert problems(lines) == [
        f"PROBLEM {label}.custom_fields in {channels_file}: Zendesk has no ticket field 999: "
        f"correct the id, or create it in {fix}",
        f"PROBLEM {label}.custom_fields in {channels_file}: ticket field {REGION} 'Region' has no option 'antarctica' "
        f"(its values: emea, amer, apac): use a value, or add the option in {fix}",
        f"PROBLEM {label}.form 'Source' in {channels_file}: ticket field {SOURCE} 'Source' is a text field, "
        "not a drop-down: make the form field kind text",
        f"PROBLEM channel C0INFRA (#infra-help) in {channels_file}: Zendesk has no ticket form 999 "
        "(forms: 1006 Default Ticket Form)",
    ]


def test_a_cluster_without_any_of_the_templates_names_each(ops, reporter_es, es_index_prefix):
    names = sorted(Names(es_index_prefix).templates())
    for name in names:
        reporter_es.indices.delete_index_template(name=name)
    code, lines = ops("doctor")
    assert code == 1
    assert problems(lines) == [
        f"PROBLEM Elasticsearch template {name} is missing: "
        "start the reporter once (it installs its templates and indices at start)"
        for name in names
    ]


def test_several_workspaces_each_token_and_each_channel_with_its_workspace_s(
    ops, slack, monkeypatch, channels_file, deployed_topics
):
    key = Fernet.generate_key().decode()
    slack.add_workspace("T2", "Second Corp")
    slack.add_workspace("T3", "Gone Corp")
    slack.add_channel("C2HELP", "help", "T2", members=[slack.bot_user_id])
    slack.add_channel("C2QUIET", "quiet", "T2")  # the bot was never invited there
    slack.add_channel("C3HELP", "gone-help", "T3", members=[slack.bot_user_id])
    t2, t3 = install(slack, "T2", "Second Corp"), install(slack, "T3", "Gone Corp")
    slack.ws.scopes[t2.bot_token] = [s for s in BOT_SCOPES if s != "files:write"]
    slack.ws.scopes[t3.bot_token] = list(BOT_SCOPES)
    del slack.ws.tokens[t3.bot_token]  # uninstalled there since: Slack answers invalid_auth
    keep(deployed_topics, deployed_topics.topic_prefix + "threadline.slack.installations", key, t2, t3)
    config = yaml.safe_load(channels_file.read_text())
    config["channels"].update({c: {"name": n} for c, n in (("C2HELP", "help"), ("C2QUIET", "quiet"))})
    config["channels"]["C3HELP"] = {"name": "gone-help"}
    channels_file.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("THREADLINE_OPS_SLACK_INSTALLATIONS_KEY", key)

    code, lines = ops("doctor")
    assert code == 1
    text = "\n".join(lines)
    for wanted in (
        "ok      Slack: the bot token is valid (@threadline",
        "ok      Slack: the bot token of Second Corp (T2) is valid (@threadline in Second Corp (T2))",
        "ok      Slack: the bot is in #support (C0SUPPORT) with the bot token",
        "ok      Slack: the bot is in #help (C2HELP) with the bot token of Second Corp (T2)",
    ):
        assert wanted in text, text
    assert problems(lines) == [
        "PROBLEM the Slack bot token of Second Corp (T2) lacks the scopes files:write: add them under OAuth & "
        "Permissions (or update the app from `threadline-ops slack-manifest`) and reinstall the app there",
        "PROBLEM Slack refused the bot token of Gone Corp (T3) (invalid_auth): the app was uninstalled there or "
        "its token revoked; install it again from /slack/install",
        "PROBLEM the Threadline bot is not in #quiet (C2QUIET) with the bot token of Second Corp (T2): "
        "/invite @Threadline there",
        "PROBLEM no workspace's bot token sees #gone-help (C3HELP): check the channel id, install the app in its "
        "workspace (/slack/install), and invite the app if the channel is private",
    ]

"""The chart's own Deployments as real pods (`podman kube play` of `helm template`), with the same
conversation flowing through them: what the fake nodes of `make cluster-test` cannot show."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from threadline_common.settings import KafkaSettings
from threadline_common.topics import delete_topics, ensure_topics
from threadline_devstack.cluster import pods
from threadline_devstack.infra import free_port
from threadline_devstack.services import wait_http
from threadline_devstack.tools import ensure_helm
from threadline_sandbox.slack import SlackSandbox
from threadline_sandbox.zendesk import ZendeskSandbox

from .conftest import TAG
from .story import channels_yaml, one_conversation

pytestmark = [pytest.mark.integration, pytest.mark.images]

SLACK_SECRET = "chart-pods-slack-signing-secret"
ZENDESK_SECRET = "chart-pods-zendesk-webhook-secret"
CHART = Path(__file__).resolve().parents[2] / "charts" / "threadline"


@pytest.fixture
def contract_topics(kafka_bootstrap) -> Iterator[str]:
    """The contract topics with the contract's partitions, as the chart's topic Job makes them."""
    settings = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=f"pods{uuid.uuid4().hex[:6]}.")
    names = ensure_topics(settings, wait_seconds=30).names
    yield settings.topic_prefix
    delete_topics(settings, names, timeout=30)


class _Pod:
    """What wait_http needs to report a pod that does not come up."""

    def __init__(self, name: str) -> None:
        self.name = name

    def alive(self) -> bool:
        return True

    def log_tail(self, lines: int = 40) -> str:
        return pods.logs(self.name, lines)


def test_the_charts_pods_carry_a_conversation(
    built, kafka_bootstrap, contract_topics, elasticsearch_url, tmp_path, monkeypatch
):
    ports = {name: free_port() for name in ("ingest", "router", "zendesk-sync", "reporter")}
    slack = SlackSandbox(SLACK_SECRET, [f"http://127.0.0.1:{ports['ingest']}/slack/events"]).start()
    zendesk = ZendeskSandbox(
        webhook_urls=[f"http://127.0.0.1:{ports['ingest']}/zendesk/webhook"], webhook_secret=ZENDESK_SECRET
    ).start()
    for key, value in zendesk.zenpy_env().items():
        monkeypatch.setenv(key, value)  # the test's own zenpy reaches the sandbox too
    index_prefix = f"pods-{uuid.uuid4().hex[:8]}-"
    zenpy_env = [{"name": k, "value": v} for k, v in zendesk.zenpy_env().items()]
    values = {
        "image": {"registry": "localhost", "tag": TAG, "pullPolicy": "Never"},
        "topics": {"create": False},
        "networkPolicy": {"enabled": False},
        "secrets": {"create": True, "values": {
            "slackSigningSecret": SLACK_SECRET, "slackBotToken": slack.bot_token,
            "zendeskApiToken": zendesk.api_token, "zendeskWebhookSecret": ZENDESK_SECRET,
            "reporterApiToken": "chart-pods-reporter-api-token-0123456789",
        }},
        "kafka": {"bootstrapServers": kafka_bootstrap, "topicPrefix": contract_topics},
        "elasticsearch": {"url": elasticsearch_url, "indexPrefix": index_prefix},
        "slack": {"apiUrl": slack.api_url, "botUserId": slack.bot_user_id, "botId": slack.bot_id},
        "zendesk": {"subdomain": zendesk.subdomain, "email": zendesk.api_email,
                    "apiUserId": str(zendesk.api_user["id"]), "ticketUrl": f"{zendesk.base_url}/agent/tickets/"},
        "channels": yaml.safe_load(channels_yaml(zendesk)),
        "ingest": {"replicas": 1, "port": ports["ingest"]},
        "router": {"replicas": 1, "webPort": ports["router"]},
        "zendeskSync": {"replicas": 1, "webPort": ports["zendesk-sync"], "extraEnv": zenpy_env},
        "reporter": {"replicas": 1, "port": ports["reporter"]},
    }  # fmt: skip
    values_file = tmp_path / "values.yaml"
    values_file.write_text(json.dumps(values))
    rendered = subprocess.run(
        [str(ensure_helm()), "template", "threadline", str(CHART), "-n", "threadline", "-f", str(values_file)],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    played = None
    try:
        played = pods.play(rendered, tmp_path)
        for name, port in ports.items():
            wait_http(f"http://127.0.0.1:{port}/readyz", _Pod(f"threadline-{name}"), timeout=180)
        one_conversation(slack, zendesk, elasticsearch_url, index_prefix)
    finally:
        if played is not None:
            pods.down(played)
        slack.stop()
        zendesk.stop()

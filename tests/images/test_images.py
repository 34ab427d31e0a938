"""The production images: each one built, run as a container, healthy and ready against the
session's real Kafka and Elasticsearch, and one whole conversation through the four of them.

`make image-test` builds the images (`make images`) and runs this module; the suite's
`make test` leaves it out (marker `images`) because a first build takes minutes.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest

from threadline_devstack import images, services
from threadline_devstack.containers import ContainerService
from threadline_devstack.infra import free_port
from threadline_devstack.waiting import wait_until
from threadline_sandbox.slack import SlackSandbox
from threadline_sandbox.zendesk import ZendeskSandbox

from .conftest import TAG
from .story import channels_yaml, one_conversation

pytestmark = [pytest.mark.integration, pytest.mark.images]

SLACK_SECRET = "image-test-slack-signing-secret"
ZENDESK_SECRET = "image-test-zendesk-webhook-secret"


@pytest.mark.parametrize("service", images.SERVICES)
def test_each_image_runs_as_non_root_with_a_healthcheck(built, service, record_property):
    config = built[service]["Config"]
    assert config["User"] in ("10001:10001", "10001"), config["User"]
    assert images.healthcheck(built[service]), "the image declares a HEALTHCHECK"
    size_mb = int(built[service]["Size"]) / 1e6
    record_property("size_mb", round(size_mb, 1))
    print(f"{service}: {size_mb:.0f} MB")


def _healthy(container: ContainerService) -> tuple[bool, str]:
    """The image's own HEALTHCHECK verdict. podman runs healthchecks from systemd timers, which
    these hosts lack, so with podman the check is run now; Docker's own verdict is awaited."""
    podman = shutil.which("podman")
    if podman:
        ran = subprocess.run(
            [podman, "healthcheck", "run", container.container.get_wrapped_container().id],
            env=images.podman_env(), capture_output=True, text=True, check=False,
        )  # fmt: skip
        return ran.returncode == 0, ran.stdout + ran.stderr
    status = wait_until(
        "Docker's health verdict",
        lambda: container.health() in ("healthy", "unhealthy") and container.health(),
        timeout=120,
    )
    return status == "healthy", str(status)


def test_one_conversation_through_the_four_containers(
    api, kafka_bootstrap, kafka_topics, elasticsearch_url, tmp_path, monkeypatch
):
    ports = {name: free_port() for name in ("ingest", "router", "zendesk-sync", "reporter")}
    ingest_url = f"http://127.0.0.1:{ports['ingest']}"
    slack = SlackSandbox(SLACK_SECRET, [f"{ingest_url}/slack/events"]).start()
    zendesk = ZendeskSandbox(webhook_urls=[f"{ingest_url}/zendesk/webhook"], webhook_secret=ZENDESK_SECRET).start()
    for key, value in zendesk.zenpy_env().items():
        monkeypatch.setenv(key, value)  # the test's own zenpy reaches the sandbox too
    channels = tmp_path / "channels.yaml"
    channels.write_text(channels_yaml(zendesk))
    channels.chmod(0o644)  # read by the containers' user
    prefix = f"img-{uuid.uuid4().hex[:8]}-"
    env = services.ServiceEnv(kafka_bootstrap, kafka_topics.prefix, tmp_path)
    web = {"log_format": "text"}
    processes = {
        "ingest": services.ingest(env, ports["ingest"], SLACK_SECRET, ZENDESK_SECRET),
        "router": services.router_for_sandboxes(env, channels, ports["router"], slack, zendesk, partitions="2", **web),
        "zendesk-sync": services.zendesk_sync_for_sandboxes(
            env, ports["zendesk-sync"], slack, zendesk, partitions="2", **web
        ),
        "reporter": services.reporter(
            env, ports["reporter"], elasticsearch_url=elasticsearch_url, channels_file=channels,
            slack_bot_token=slack.bot_token, slack_api_url=slack.api_url, index_prefix=prefix,
            bridge_actor_ids=str(zendesk.api_user["id"]), batch_seconds="0.3",
            api_token="image-test-reporter-api-token-0123456789",
        ),
    }  # fmt: skip
    containers = {name: ContainerService(process, tag=TAG) for name, process in processes.items()}
    try:
        for container in containers.values():
            container.start()
        for name, container in containers.items():
            services.wait_http(f"http://127.0.0.1:{ports[name]}/readyz", container, timeout=120)
            healthy, said = _healthy(container)
            assert healthy, f"{name}: its image's HEALTHCHECK fails ({said}):\n{container.log_tail()}"

        one_conversation(slack, zendesk, elasticsearch_url, prefix)
    finally:
        for container in containers.values():
            container.stop(timeout=10)
        slack.stop()
        zendesk.stop()

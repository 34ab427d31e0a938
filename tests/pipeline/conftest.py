"""The whole pipeline on the real broker: Slack and Zendesk sandboxes in this process, and
ingest, router and zendesk-sync as their own processes, started through their entry points."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from slack_sdk import WebClient
from zenpy import Zenpy

from threadline_common.contracts import Topics
from threadline_devstack import services
from threadline_devstack.infra import free_port
from threadline_devstack.kafka_state import settled, unsettled
from threadline_devstack.processes import ManagedProcess
from threadline_devstack.waiting import wait_until  # tests import it from here too
from threadline_sandbox.slack import SlackSandbox
from threadline_sandbox.zendesk import ZendeskSandbox

SLACK_SECRET = "e2e-slack-signing-secret"
ZENDESK_SECRET = "e2e-zendesk-webhook-secret"


@dataclass
class Pipeline:
    slack: SlackSandbox
    zendesk: ZendeskSandbox
    processes: dict[str, ManagedProcess]
    ports: dict[str, int]
    kafka_bootstrap: str
    topics: Topics

    def consumers(self) -> dict[str, list[str]]:
        """Each service's consumer group and the topics it reads."""
        t = self.topics
        return {
            "threadline-router": [t.slack_events, t.zendesk_events, t.results, t.router_inbound],
            "threadline-zendesk-sync": [t.commands],
        }

    def settle(self, timeout: float = 120.0) -> None:
        """Until the pipeline has done everything it will do: the router and zendesk-sync have
        committed every record of their topics, the doubles have delivered every event and webhook
        they owe to ingest, and no record came meanwhile. What a negative claim ("nothing doubled",
        "nothing opened") waits for, instead of a pause that hopes to be long enough."""

        def idle() -> bool:
            self.slack.wait_for_deliveries(timeout)
            return self.zendesk.wait_for_deliveries(timeout) and not self.slack._events.unfinished_tasks

        try:
            wait_until(
                "router and zendesk-sync to consume everything, with nothing more on its way",
                lambda: settled(self.kafka_bootstrap, self.consumers(), idle),
                timeout=timeout,
                interval=0.5,
            )
        except AssertionError as exc:
            behind = unsettled(self.kafka_bootstrap, self.consumers())
            raise AssertionError(f"{exc}; not committed (committed, end): {behind}; doubles idle: {idle()}") from None

    def user(self, name: str) -> WebClient:
        return WebClient(token=self.slack.user_token(name), base_url=self.slack.api_url)

    @property
    def bot(self) -> WebClient:
        return WebClient(token=self.slack.bot_token, base_url=self.slack.api_url)

    def zen(self) -> Zenpy:
        zen = Zenpy(subdomain=self.zendesk.subdomain, email=self.zendesk.api_email, token=self.zendesk.api_token)
        zen.disable_caching()
        return zen

    def restart(self, name: str, kill: bool = True) -> None:
        process = self.processes[name]
        if kill:
            process.kill()
        else:
            process.stop()
        process.start()


def stop_all(processes: Iterable[ManagedProcess]) -> None:
    """Stop the services side by side: each leaves its consumer group cleanly (the next test's
    services join the same groups), and no one waits for another's shutdown."""
    threads = [threading.Thread(target=process.stop, kwargs={"timeout": 10}) for process in processes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.fixture
def pipeline_settings() -> dict[str, dict[str, str]]:
    """Extra settings per service ("ingest", "router", "zendesk-sync": {name: value}, each becoming
    THREADLINE_<SERVICE>_<NAME>); none by default. A test or module overrides this fixture.
    `{ingest_url}` and `{slack_url}` in a value become ingest's and the Slack sandbox's addresses."""
    return {}


@pytest.fixture
def pipeline_channels() -> Callable[[ZendeskSandbox], str] | None:
    """The channels file, made from the Zendesk sandbox (its group ids); None: the two channels
    below. A test or module that needs other channel rules overrides this fixture."""
    return None


@contextlib.contextmanager
def running_pipeline(
    kafka_bootstrap: str,
    kafka_topics: Topics,
    tmp_path: Path,
    pipeline_settings: dict[str, dict[str, str]],
    pipeline_channels: Callable[[ZendeskSandbox], str] | None,
) -> Iterator[Pipeline]:
    ports = {name: free_port() for name in ("ingest", "router", "zendesk-sync")}
    ingest_url = f"http://127.0.0.1:{ports['ingest']}"
    slack = SlackSandbox(
        SLACK_SECRET,
        [f"{ingest_url}/slack/events"],
        commands_url=f"{ingest_url}/slack/commands",
        interactivity_url=f"{ingest_url}/slack/interactions",
    ).start()
    zendesk = ZendeskSandbox(webhook_urls=[f"{ingest_url}/zendesk/webhook"], webhook_secret=ZENDESK_SECRET).start()
    monkeypatch = pytest.MonkeyPatch()
    for key, value in zendesk.zenpy_env().items():
        monkeypatch.setenv(key, value)  # the test's own zenpy checks reach the sandbox too
    channels = tmp_path / "channels.yaml"
    channels.write_text(
        pipeline_channels(zendesk)
        if pipeline_channels is not None
        else "defaults: {zendesk: {tags: [slack]}}\n"
        f"channels:\n  C0SUPPORT: {{name: support, zendesk: {{group_id: {zendesk.group_id}}}}}\n"
        f"  C0INFRA: {{name: infra-help, resolvers: requester_and_responders, zendesk: {{group_id: {zendesk.infra_group_id}}}}}\n"
        f"email_groups: {{{zendesk.group_id}: C0SUPPORT}}\n"
    )
    env = services.ServiceEnv(kafka_bootstrap, kafka_topics.prefix, tmp_path, {"PYTHONWARNINGS": "ignore"})
    pipeline_settings = {
        service: {
            k: v.replace("{ingest_url}", ingest_url).replace("{slack_url}", slack.base_url) for k, v in values.items()
        }
        for service, values in pipeline_settings.items()
    }
    processes = {
        "ingest": services.ingest(
            env, ports["ingest"], SLACK_SECRET, ZENDESK_SECRET, **pipeline_settings.get("ingest", {})
        ),
        "router": services.router_for_sandboxes(
            env,
            channels,
            ports["router"],
            slack,
            zendesk,
            partitions="2",
            store="memory://",
            log_format="text",
            **pipeline_settings.get("router", {}),
        ),
        "zendesk-sync": services.zendesk_sync_for_sandboxes(
            env,
            ports["zendesk-sync"],
            slack,
            zendesk,
            partitions="2",
            slack_channel_interval_seconds="0.05",
            log_format="text",
            **pipeline_settings.get("zendesk-sync", {}),
        ),
    }
    try:
        for process in processes.values():
            process.start()
        services.wait_http(f"{ingest_url}/readyz", processes["ingest"])
        services.wait_http(f"http://127.0.0.1:{ports['router']}/readyz", processes["router"])
        services.wait_http(f"http://127.0.0.1:{ports['zendesk-sync']}/readyz", processes["zendesk-sync"])
        yield Pipeline(slack, zendesk, processes, ports, kafka_bootstrap, kafka_topics)
    finally:
        stop_all(processes.values())
        slack.stop()
        zendesk.stop()
        monkeypatch.undo()


@pytest.fixture
def pipeline(kafka_bootstrap, kafka_topics, tmp_path: Path, pipeline_settings, pipeline_channels) -> Iterator[Pipeline]:
    with running_pipeline(kafka_bootstrap, kafka_topics, tmp_path, pipeline_settings, pipeline_channels) as p:
        yield p


@pytest.fixture(scope="module")
def module_pipeline(kafka_bootstrap, module_kafka_topics, tmp_path_factory) -> Iterator[Pipeline]:
    """One default pipeline for a whole module, for modules whose tests each start their own
    threads and tickets and look only at those (a module opts in by overriding `pipeline` with
    it): a start and a stop of the three services is most of such a test's time."""
    run_dir = tmp_path_factory.mktemp("pipeline")
    with running_pipeline(kafka_bootstrap, module_kafka_topics, run_dir, {}, None) as p:
        yield p

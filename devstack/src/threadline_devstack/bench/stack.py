"""The services under test: ingest, router and zendesk-sync as processes (their entry points, as
`make up` starts them), the Slack and Zendesk sandboxes in this process without added latency.

Rate budgets are lifted (Zendesk's 700 requests/min, zendesk-sync's own 400/min, one Slack post
per channel per second): they are limits by design, and a benchmark that hits them measures the
configuration, not the code. The settings used are written into the results.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from threadline_devstack import services
from threadline_devstack.bench.common import bench_topics, memory_mib, new_prefix
from threadline_devstack.infra import free_port
from threadline_devstack.processes import ManagedProcess
from threadline_sandbox.slack import SlackSandbox
from threadline_sandbox.zendesk import ZendeskSandbox

SLACK_SECRET = "bench-slack-signing-secret"  # noqa: S105 - a local test secret
ZENDESK_SECRET = "bench-zendesk-webhook-secret"  # noqa: S105
UNBOUNDED = 10_000_000
SETTINGS = {
    "zendesk_sandbox_rate_limit_per_minute": UNBOUNDED,
    "zendesk_sync_budget_per_minute": UNBOUNDED,
    "slack_channel_interval_seconds": 0,
    "router_store": "rocksdb://",
    "partitions": "as in schemas/topics (6 for the router's and zendesk-sync's topics)",
    "slack_event_callbacks_of_bot_posts": "not delivered (the benchmark sends the people's events itself)",
}


@dataclass
class BenchStack:
    bootstrap: str
    prefix: str
    slack: SlackSandbox
    zendesk: ZendeskSandbox
    processes: dict[str, ManagedProcess]
    ports: dict[str, int]
    work: Path
    settings: dict[str, Any] = field(default_factory=lambda: dict(SETTINGS))

    @property
    def ingest_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['ingest']}"

    def topic(self, name: str) -> str:
        return self.prefix + name

    def memory(self) -> dict[str, dict[str, float]]:
        out = {}
        for name, process in self.processes.items():
            pid = process.running_pid()
            if pid is not None:
                out[name] = memory_mib(pid)
        return out

    def tickets_by_external_id(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for ticket in self.zendesk.tickets():
            found.setdefault(ticket.get("external_id") or "", []).append(ticket)
        return found


@contextlib.contextmanager
def bench_stack(bootstrap: str, what: str) -> Iterator[BenchStack]:
    prefix = new_prefix(what)
    with tempfile.TemporaryDirectory(prefix="threadline-bench-") as tmp, bench_topics(bootstrap, prefix):
        work = Path(tmp)
        ports = {name: free_port() for name in ("ingest", "router", "zendesk-sync")}
        ingest_url = f"http://127.0.0.1:{ports['ingest']}"
        slack = SlackSandbox(SLACK_SECRET, []).start()
        zendesk = ZendeskSandbox(webhook_urls=[f"{ingest_url}/zendesk/webhook"], webhook_secret=ZENDESK_SECRET)
        zendesk.set_knobs(rate_limit_per_minute=UNBOUNDED)
        zendesk.start()
        channels = work / "channels.yaml"
        channels.write_text(
            "defaults: {zendesk: {tags: [slack]}}\n"
            f"channels:\n  C0SUPPORT: {{name: support, zendesk: {{group_id: {zendesk.group_id}}}}}\n"
            f"  C0INFRA: {{name: infra-help, zendesk: {{group_id: {zendesk.infra_group_id}}}}}\n"
        )
        env = services.ServiceEnv(bootstrap, prefix, work, {"PYTHONWARNINGS": "ignore"})
        processes = {
            "ingest": services.ingest(env, ports["ingest"], SLACK_SECRET, ZENDESK_SECRET),
            "router": services.router_for_sandboxes(env, channels, ports["router"], slack, zendesk),
            "zendesk-sync": services.zendesk_sync_for_sandboxes(
                env,
                ports["zendesk-sync"],
                slack,
                zendesk,
                zendesk_budget_per_minute=str(UNBOUNDED),
                slack_channel_interval_seconds="0",
            ),
        }
        try:
            for process in processes.values():
                process.start()
            services.wait_http(f"{ingest_url}/readyz", processes["ingest"])
            services.wait_http(f"http://127.0.0.1:{ports['router']}/readyz", processes["router"], timeout=120)
            services.wait_http(
                f"http://127.0.0.1:{ports['zendesk-sync']}/readyz", processes["zendesk-sync"], timeout=120
            )
            yield BenchStack(bootstrap, prefix, slack, zendesk, processes, ports, work)
        finally:
            for process in processes.values():
                process.stop(timeout=20)
            slack.stop()
            zendesk.stop()

"""The services under test: ingest, router and zendesk-sync as processes (their entry points, as
`make up` starts them), the Slack and Zendesk sandboxes in this process without added latency.

Rate budgets are lifted (Zendesk's 700 requests/min, zendesk-sync's own 400/min, one Slack post
per channel per second): they are limits by design, and a benchmark that hits them measures the
configuration, not the code (the drain figure sets a budget on purpose). The settings used are
written into the results.

The Slack workspace is the sandbox's fixture with `BENCH_CHANNELS` support channels added (the
isolation figure rate-limits one of them and watches the others), all served by the router. Each
service runs under the bench's sampling profiler (bench/profiler.py), so every figure can say
where its own run spent the time.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from threadline_devstack import services
from threadline_devstack.bench.common import bench_topics, memory_mib, new_prefix
from threadline_devstack.bench.profiler import Cpu, profiled, read_profile, window
from threadline_devstack.infra import free_port, repo_root
from threadline_devstack.processes import ManagedProcess
from threadline_sandbox.slack import SlackSandbox
from threadline_sandbox.slack.server import SEED as SLACK_SEED
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
# The support channels of the bench workspace: the fixture's two and four more.
BENCH_CHANNELS = ["C0SUPPORT", "C0INFRA", "C0BENCH1", "C0BENCH2", "C0BENCH3", "C0BENCH4"]
PROFILED = ("ingest", "router", "zendesk-sync")


def infra_pids() -> dict[str, int]:
    """Kafka's and Elasticsearch's pids, as `make infra` recorded them (when this run started them)."""
    out = {}
    for name in ("kafka", "elasticsearch"):
        with contextlib.suppress(OSError, ValueError, KeyError):
            out[name] = int(json.loads((repo_root() / ".run" / "pids" / f"{name}.json").read_text())["pid"])
    # Elasticsearch's recorded pid is its launcher (the CLI JVM); the node is its child.
    with contextlib.suppress(OSError, ValueError, KeyError):
        tasks = Path(f"/proc/{out['elasticsearch']}/task").iterdir()
        children = [c for task in tasks for c in (task / "children").read_text().split()]
        if children:
            out["elasticsearch"] = int(children[0])
    return out


def bench_workspace(path: Path) -> Path:
    """The sandbox's workspace fixture with the bench's extra channels (alice, sam and the bot in them)."""
    seed = yaml.safe_load(SLACK_SEED.read_text())
    known = {c["id"] for c in seed["channels"]}
    for n, cid in enumerate(c for c in BENCH_CHANNELS if c not in known):
        seed["channels"].append(
            {"id": cid, "name": f"bench-support-{n + 1}", "type": "channel", "members": ["U0ALICE", "U0SRE", "U0BOT"]}
        )
    path.write_text(yaml.safe_dump(seed, sort_keys=False))
    return path


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
    profiles: dict[str, Path] = field(default_factory=dict)

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

    def pids(self) -> dict[str, int]:
        return {n: pid for n, p in self.processes.items() if (pid := p.running_pid()) is not None}

    @contextlib.contextmanager
    def measured(self) -> Iterator[dict[str, Any]]:
        """A measured window: on exit, the dict holds each service's profile over the window
        (profiler.window) under "profiles", and CPU seconds per process under "cpu"."""
        before = {n: read_profile(p) for n, p in self.profiles.items()}
        cpu = Cpu({**self.pids(), **infra_pids(), "bench process (sandboxes, load, watcher)": os.getpid()})
        out: dict[str, Any] = {}
        try:
            yield out
        finally:
            time.sleep(1.1)  # the profiles are rewritten every second: let the last one land
            out["cpu"] = cpu.seconds()
            out["profiles"] = {n: window(before[n], read_profile(p)) for n, p in self.profiles.items()}

    def tickets_by_external_id(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for ticket in self.zendesk.tickets():
            found.setdefault(ticket.get("external_id") or "", []).append(ticket)
        return found


@contextlib.contextmanager
def bench_stack(
    bootstrap: str, what: str, zendesk_budget_per_minute: int = UNBOUNDED, **sync_settings: str
) -> Iterator[BenchStack]:
    """The stack, budgets lifted unless `zendesk_budget_per_minute` is given; `sync_settings` are
    more THREADLINE_ZENDESK_SYNC_* settings (lower-case names without the prefix)."""
    prefix = new_prefix(what)
    with tempfile.TemporaryDirectory(prefix="threadline-bench-") as tmp, bench_topics(bootstrap, prefix):
        work = Path(tmp)
        ports = {name: free_port() for name in ("ingest", "router", "zendesk-sync")}
        ingest_url = f"http://127.0.0.1:{ports['ingest']}"
        slack = SlackSandbox(SLACK_SECRET, [], seed=bench_workspace(work / "slack_workspace.yaml")).start()
        zendesk = ZendeskSandbox(webhook_urls=[f"{ingest_url}/zendesk/webhook"], webhook_secret=ZENDESK_SECRET)
        zendesk.set_knobs(rate_limit_per_minute=UNBOUNDED)
        zendesk.start()
        channels = work / "channels.yaml"
        groups = {"C0INFRA": zendesk.infra_group_id}
        rows = [
            f"  {c}: {{name: {slack.ws.channels[c]['name']}, zendesk: {{group_id: {groups.get(c, zendesk.group_id)}}}}}"
            for c in BENCH_CHANNELS
        ]
        channels.write_text("defaults: {zendesk: {tags: [slack]}}\nchannels:\n" + "\n".join(rows) + "\n")
        env = services.ServiceEnv(bootstrap, prefix, work, {"PYTHONWARNINGS": "ignore"})
        processes = {
            "ingest": services.ingest(env, ports["ingest"], SLACK_SECRET, ZENDESK_SECRET),
            "router": services.router_for_sandboxes(env, channels, ports["router"], slack, zendesk),
            "zendesk-sync": services.zendesk_sync_for_sandboxes(
                env,
                ports["zendesk-sync"],
                slack,
                zendesk,
                zendesk_budget_per_minute=str(zendesk_budget_per_minute),
                slack_channel_interval_seconds="0",
                **sync_settings,
            ),
        }
        profiles = {}
        for name in PROFILED:
            profiles[name] = work / f"profile-{name}.json"
            processes[name].argv = profiled(processes[name].argv, profiles[name])
        settings = dict(SETTINGS)
        if zendesk_budget_per_minute != UNBOUNDED:
            settings["zendesk_sync_budget_per_minute"] = zendesk_budget_per_minute
        settings.update({f"zendesk_sync_{k}": v for k, v in sync_settings.items()})
        settings["channels"] = BENCH_CHANNELS
        try:
            for process in processes.values():
                process.start()
            services.wait_http(f"{ingest_url}/readyz", processes["ingest"])
            services.wait_http(f"http://127.0.0.1:{ports['router']}/readyz", processes["router"], timeout=120)
            services.wait_http(
                f"http://127.0.0.1:{ports['zendesk-sync']}/readyz", processes["zendesk-sync"], timeout=120
            )
            yield BenchStack(bootstrap, prefix, slack, zendesk, processes, ports, work, settings, profiles)
        finally:
            for process in processes.values():
                process.stop(timeout=20)
            slack.stop()
            zendesk.stop()

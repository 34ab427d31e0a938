"""Threadline's own services as background processes, configured for a given Kafka and Slack/
Zendesk (the sandboxes locally): used by `make up`, `make demo`, the end-to-end tests and the
fault drills, so all of them run the services exactly as deployed, through their entry points."""

from __future__ import annotations

import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from threadline_devstack.processes import ManagedProcess, RunningService


@dataclass
class ServiceEnv:
    kafka_bootstrap: str
    topic_prefix: str = ""
    run_dir: Path = Path(".run")
    extra: dict[str, str] = field(default_factory=dict)

    def base(self) -> dict[str, str]:
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "KAFKA_TOPIC_PREFIX": self.topic_prefix,
            "PYTHONUNBUFFERED": "1",
            **self.extra,
        }


def _process(
    name: str, module: str, env: ServiceEnv, own_env: dict[str, str], args: list[str] | None = None
) -> ManagedProcess:
    return ManagedProcess(
        name=name,
        argv=[sys.executable, "-m", module, *(args or [])],
        run_dir=env.run_dir,
        env={**env.base(), **own_env},
    )


def supervised(process: ManagedProcess, backoff: float = 1.0, max_backoff: float = 60.0) -> ManagedProcess:
    """The same service under `threadline_devstack.supervise`: restarted with back-off whenever it
    exits, as a kubelet would (`make up`). Tests and drills run services bare, to see them exit."""
    process.argv = [
        sys.executable,
        "-m",
        "threadline_devstack.supervise",
        "--name",
        process.name,
        "--backoff",
        str(backoff),
        "--max-backoff",
        str(max_backoff),
        "--",
        *process.argv,
    ]
    return process


def ingest(
    env: ServiceEnv, port: int, slack_signing_secret: str, zendesk_webhook_secret: str, **more: str
) -> ManagedProcess:
    return _process(
        "ingest",
        "threadline_ingest",
        env,
        {
            "THREADLINE_INGEST_PORT": str(port),
            "THREADLINE_INGEST_HOST": "127.0.0.1",
            "THREADLINE_INGEST_SLACK_SIGNING_SECRET": slack_signing_secret,
            "THREADLINE_INGEST_ZENDESK_WEBHOOK_SECRET": zendesk_webhook_secret,
            **{f"THREADLINE_INGEST_{k.upper()}": v for k, v in more.items()},
        },
    )


def router(env: ServiceEnv, channels_file: Path, web_port: int, name: str = "router", **more: str) -> ManagedProcess:
    return _process(
        name,
        "threadline_router",
        env,
        {
            "THREADLINE_ROUTER_CHANNELS_FILE": str(channels_file),
            "THREADLINE_ROUTER_WEB_PORT": str(web_port),
            "THREADLINE_ROUTER_WEB_HOST": "127.0.0.1",
            "THREADLINE_ROUTER_DATA_DIR": str(env.run_dir / name),
            "THREADLINE_ROUTER_PARTITIONS": more.pop("partitions", "6"),
            **{f"THREADLINE_ROUTER_{k.upper()}": v for k, v in more.items()},
        },
    )


def wait_http(url: str, process: RunningService, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited; last log lines:\n{process.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - our own local service
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{process.name} not ready at {url}; last log lines:\n{process.log_tail()}")


def zendesk_sync(
    env: ServiceEnv,
    web_port: int,
    *,
    subdomain: str,
    email: str,
    api_token: str,
    slack_bot_token: str,
    slack_api_url: str | None = None,
    ticket_url: str | None = None,
    zenpy_env: dict[str, str] | None = None,
    name: str = "zendesk-sync",
    **more: str,
) -> ManagedProcess:
    own = {
        "THREADLINE_ZENDESK_SYNC_ZENDESK_SUBDOMAIN": subdomain,
        "THREADLINE_ZENDESK_SYNC_ZENDESK_EMAIL": email,
        "THREADLINE_ZENDESK_SYNC_ZENDESK_API_TOKEN": api_token,
        "THREADLINE_ZENDESK_SYNC_SLACK_BOT_TOKEN": slack_bot_token,
        "THREADLINE_ZENDESK_SYNC_WEB_PORT": str(web_port),
        "THREADLINE_ZENDESK_SYNC_WEB_HOST": "127.0.0.1",
        "THREADLINE_ZENDESK_SYNC_DATA_DIR": str(env.run_dir / name),
        **(zenpy_env or {}),
        **{f"THREADLINE_ZENDESK_SYNC_{k.upper()}": v for k, v in more.items()},
    }
    if slack_api_url:
        own["THREADLINE_ZENDESK_SYNC_SLACK_API_URL"] = slack_api_url
    if ticket_url:
        own["THREADLINE_ZENDESK_SYNC_ZENDESK_TICKET_URL"] = ticket_url
    return _process(name, "threadline_zendesk_sync", env, own)


def router_for_sandboxes(
    env: ServiceEnv, channels_file: Path, web_port: int, slack: Any, zendesk: Any, **more: str
) -> ManagedProcess:
    """The router configured for a Slack and a Zendesk sandbox (threadline_sandbox objects)."""
    return router(
        env,
        channels_file,
        web_port,
        slack_bot_id=slack.bot_id,
        slack_bot_user_id=slack.bot_user_id,
        zendesk_api_user_id=str(zendesk.api_user["id"]),
        **more,
    )


def zendesk_sync_for_sandboxes(env: ServiceEnv, web_port: int, slack: Any, zendesk: Any, **more: str) -> ManagedProcess:
    """zendesk-sync configured for a Slack and a Zendesk sandbox (threadline_sandbox objects)."""
    return zendesk_sync(
        env,
        web_port,
        subdomain=zendesk.subdomain,
        email=zendesk.api_email,
        api_token=zendesk.api_token,
        slack_bot_token=slack.bot_token,
        slack_api_url=slack.api_url,
        ticket_url=f"{zendesk.base_url}/agent/tickets/",
        zenpy_env=zendesk.zenpy_env(),
        **more,
    )


def reporter(
    env: ServiceEnv,
    web_port: int,
    *,
    elasticsearch_url: str,
    channels_file: Path,
    slack_bot_token: str,
    slack_api_url: str | None = None,
    name: str = "reporter",
    **more: str,
) -> ManagedProcess:
    own = {
        "THREADLINE_REPORTER_ELASTICSEARCH_URL": elasticsearch_url,
        "THREADLINE_REPORTER_CHANNELS_FILE": str(channels_file),
        "THREADLINE_REPORTER_SLACK_BOT_TOKEN": slack_bot_token,
        "THREADLINE_REPORTER_WEB_PORT": str(web_port),
        "THREADLINE_REPORTER_WEB_HOST": "127.0.0.1",
        **{f"THREADLINE_REPORTER_{k.upper()}": v for k, v in more.items()},
    }
    if slack_api_url:
        own["THREADLINE_REPORTER_SLACK_API_URL"] = slack_api_url
    return _process(name, "threadline_reporter", env, own)

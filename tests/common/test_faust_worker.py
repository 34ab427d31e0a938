"""A Faust worker that crashes exits with a non-zero status, so that Kubernetes (or `make up`'s
watchdog) restarts it: before, an agent that raised was restarted past its record and a timer that
raised left the app crashed, the process alive and answering its probes, and nothing moving.
Checked on real Faust workers against the real broker, and on the router's and zendesk-sync's apps."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from confluent_kafka import Producer

from threadline_common.faust_worker import EXIT_CRASHED, WEB_OPTIONS, is_fatal, worker_loglevel
from threadline_common.settings import KafkaSettings
from threadline_devstack.infra import free_port

WORKER = textwrap.dedent(
    """
    import sys
    import faust
    from threadline_common.faust_worker import WEB_OPTIONS, ExitOnCrash, fatal

    class App(ExitOnCrash, faust.App):
        pass

    bootstrap, topic, mode, port, group = sys.argv[1:6]
    app = App(group, broker=f"kafka://{bootstrap}", store="memory://", topic_allow_declare=False,
              consumer_auto_offset_reset="earliest", value_serializer="raw", **WEB_OPTIONS)
    source = app.topic(topic, value_type=bytes)

    if mode == "agent":
        @app.agent(source)
        @fatal("agent boom")
        async def boom(stream):
            async for value in stream:
                raise ValueError(f"a bug meets {value!r}")

    elif mode == "timer":
        @app.timer(interval=0.2)
        @fatal("timer boom")
        async def boom():
            raise ValueError("a bug")

    else:  # a timer nobody wrapped: the app itself is crashed
        @app.timer(interval=0.2)
        async def boom():
            raise ValueError("a bug")

    sys.argv = [sys.argv[0], "worker", "-l", "warn", "--web-port", port, "--web-host", "127.0.0.1"]
    app.main()
    """
)


@pytest.mark.integration
@pytest.mark.parametrize("mode", ["agent", "timer", "unwrapped-timer"])
def test_a_crash_ends_the_worker_with_a_non_zero_status(
    mode, tmp_path: Path, kafka_bootstrap, kafka_topics, unique_group
):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    topic = kafka_topics.slack_events
    if mode == "agent":
        producer = Producer({"bootstrap.servers": kafka_bootstrap})
        producer.produce(topic, value=b"the record that meets the bug")
        assert producer.flush(30) == 0
    process = subprocess.Popen(
        [sys.executable, str(script), kafka_bootstrap, topic, mode, str(free_port()), unique_group],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        output, _ = process.communicate(timeout=90)  # before: still running (stalled) at this point
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == EXIT_CRASHED, output.decode(errors="replace")[-3000:]


@pytest.mark.unit
def test_every_agent_of_the_router_and_zendesk_sync_is_fatal_and_no_table_is_served(tmp_path: Path):
    from threadline_router.app import create_app as router_app
    from threadline_router.settings import RouterSettings
    from threadline_zendesk_sync.app import create_app as sync_app
    from threadline_zendesk_sync.settings import ZendeskSyncSettings

    channels = tmp_path / "channels.yaml"
    channels.write_text("channels:\n  C1: {name: support, reminders: {after_minutes: 30}}\n")
    kafka = KafkaSettings(bootstrap_servers="127.0.0.1:9")  # never contacted: built, not started
    router = router_app(RouterSettings(channels_file=channels, store="memory://", data_dir=tmp_path / "router"), kafka)
    sync = sync_app(
        ZendeskSyncSettings(
            zendesk_subdomain="acme",
            zendesk_email="bridge@acme.example",
            zendesk_api_token="zendesk-token-for-the-test",
            slack_bot_token="xoxb-test-token",
            data_dir=tmp_path / "sync",
        ),
        kafka,
    )
    for app in (router, sync):
        assert app.agents and all(is_fatal(agent.fun) for agent in app.agents.values()), list(app.agents)
        prefixes = [prefix for prefix, _ in app.web.blueprints._enabled]
        assert "/table" not in prefixes and "/router" not in prefixes and "/graph" not in prefixes, prefixes
        for name, value in WEB_OPTIONS.items():
            assert getattr(app.conf, name) is value


@pytest.mark.unit
def test_every_log_level_setting_is_a_level_the_worker_takes():
    # faust worker --loglevel: crit, error, warn, info, debug ("warning" made the worker refuse to start).
    assert [worker_loglevel(level) for level in ("DEBUG", "INFO", "WARNING", "ERROR")] == [
        "debug",
        "info",
        "warn",
        "error",
    ]

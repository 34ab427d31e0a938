"""Several workspaces: a channel of a second workspace (T2, installed through OAuth, its
installation in the real installations topic) gets its report posted with T2's bot token; the
seed workspace's channel keeps the single token. The sandbox answers channel_not_found to a
token of another workspace, as Slack does, so the wrong token posts nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from threadline_testing.installs import install, keep

from threadline_common.settings import KafkaSettings
from threadline_reporter.slack_clients import UnknownWorkspace

from .conftest import produce, wait_until

pytestmark = pytest.mark.integration
KEY = Fernet.generate_key().decode()


def opened(team: str, channel: str, ts: str, at: str) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "conversation_id": f"{team}:{channel}:{ts}",
        "channel_id": channel,
        "thread_ts": ts,
        "ticket_id": None,
        "event_id": f"slack:{channel}:{ts}",
        "type": "message",
        "occurred_at": at,
        "source": "slack",
        "actor": {"id": "U0ALICE", "role": "requester"},
    }


def reports_in(slack, channel: str) -> list[dict[str, Any]]:
    return [
        m for m in slack.channel_messages(channel) if (m.get("metadata") or {}).get("event_type") == "threadline_report"
    ]


@pytest.fixture
def two_workspaces(slack, tmp_path: Path, kafka_bootstrap, kafka_topics) -> Path:
    slack.add_workspace("T2", "Second Corp")
    slack.add_channel("C2HELP", "help", "T2", members=[slack.bot_user_id])
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    keep(kafka, kafka_topics.slack_installations, KEY, install(slack, "T2", "Second Corp"))
    path = tmp_path / "channels.yaml"
    path.write_text(
        "defaults: {timezone: UTC, response_target_minutes: 60}\n"
        "channels:\n  C0SUPPORT: {name: support}\n  C2HELP: {name: help}\n  C2NEW: {name: new}\n"
    )
    return path


def test_a_report_in_a_second_workspace_uses_its_token(
    make_service, slack, es, es_index_prefix, kafka_bootstrap, kafka_topics, two_workspaces
):
    seed_bot = WebClient(token=slack.bot_token, base_url=slack.api_url)
    with pytest.raises(SlackApiError) as refused:  # what the single token would meet in T2's channel
        seed_bot.chat_postMessage(channel="C2HELP", text="wrong workspace")
    assert refused.value.response["error"] == "channel_not_found"

    produce(
        kafka_bootstrap,
        kafka_topics.activity,
        [
            opened("T2", "C2HELP", "1763629200.000100", "2026-11-20T09:00:00Z"),
            opened("T0SANDBOX", "C0SUPPORT", "1763629200.000200", "2026-11-20T09:00:00Z"),
        ],
    )
    service = make_service(channels_file=two_workspaces, slack_installations_key=KEY).start()

    def count() -> int:
        try:
            return int(es.count(index=f"{es_index_prefix}conversations")["count"])
        except Exception:  # the index is not there before the service made it
            return 0

    wait_until("two conversations", lambda: count() == 2)

    day = dt.date(2026, 11, 20)
    assert service.reporter.post("daily", "C2HELP", day).status == "posted"
    assert service.reporter.post("daily", "C0SUPPORT", day).status == "posted"
    [t2_report] = reports_in(slack, "C2HELP")
    assert t2_report["_token_team"] == "T2"  # posted with T2's bot token
    assert "*Opened*\\n1" in str(t2_report.get("blocks")).replace("\n", "\\n")
    [t1_report] = reports_in(slack, "C0SUPPORT")
    assert t1_report["_token_team"] == slack.ws.team_id  # the single token, as before

    # A monitored channel with no conversation yet, where no single token could stand in: said plainly.
    service.reporter.slack.tokens.single_token = None
    with pytest.raises(UnknownWorkspace, match="C2NEW"):
        service.reporter.post("daily", "C2NEW", day)

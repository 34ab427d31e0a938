"""DISABLE_MESSAGE_PROCESSING: the operator's kill switch. The router reads and skips everything;
no ticket is opened and nothing is posted, while ingest keeps accepting Slack's events."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Pipeline, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def pipeline_settings() -> dict[str, dict[str, str]]:
    return {"router": {"disable_message_processing": "true"}}


def test_with_the_kill_switch_on_messages_are_read_and_skipped(pipeline: Pipeline, tmp_path: Path):
    p = pipeline
    root = p.user("alice").chat_postMessage(channel="C0SUPPORT", text="Is anyone there?")["ts"]
    p.slack.wait_for_deliveries()
    router_log = tmp_path / "logs" / "router.log"
    wait_until("the router to skip the message", lambda: "message processing is disabled" in router_log.read_text())
    assert p.zendesk.tickets() == []
    assert [m for m in p.slack.thread("C0SUPPORT", root) if m.get("bot_id")] == []

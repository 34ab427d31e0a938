"""DISABLE_MESSAGE_PROCESSING: the operator's kill switch. With it on, the router reads nothing:
no ticket is opened, nothing is posted, nothing is committed, while ingest keeps accepting Slack's
events; switched off (a restart), everything that arrived meanwhile is handled, once."""

from __future__ import annotations

import pytest

from threadline_devstack.kafka_state import group_lag, record_count

from .conftest import Pipeline, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def pipeline_settings() -> dict[str, dict[str, str]]:
    return {"router": {"disable_message_processing": "true"}}


def test_with_the_kill_switch_on_events_wait_in_kafka_and_are_handled_once_it_is_off(
    pipeline: Pipeline, kafka_bootstrap, kafka_topics
):
    p = pipeline
    alice = p.user("alice")
    roots = [alice.chat_postMessage(channel="C0SUPPORT", text=f"Is anyone there? ({i})")["ts"] for i in range(3)]
    alice.chat_postMessage(channel="C0SUPPORT", thread_ts=roots[0], text="Hello?")
    p.slack.wait_for_deliveries()
    events = kafka_topics.slack_events
    wait_until("ingest published the events", lambda: record_count(kafka_bootstrap, events) >= 4)
    # Nothing read: every event still counts as the router's to handle, and nothing happened.
    assert group_lag(kafka_bootstrap, "threadline-router", [events]) == record_count(kafka_bootstrap, events)
    assert p.zendesk.tickets() == []
    assert all(not [m for m in p.slack.thread("C0SUPPORT", ts) if m.get("bot_id")] for ts in roots)

    router = p.processes["router"]
    router.env["THREADLINE_ROUTER_DISABLE_MESSAGE_PROCESSING"] = "false"
    p.restart("router", kill=False)

    def handled() -> bool:
        return all([m for m in p.slack.thread("C0SUPPORT", ts) if m.get("bot_id") and m["ts"] != ts] for ts in roots)

    wait_until("every question answered once the switch is off", handled, timeout=90)
    tickets = {t["external_id"]: t["id"] for t in p.zendesk.tickets()}
    assert sorted(tickets) == sorted(f"T0SANDBOX:C0SUPPORT:{ts}" for ts in roots)
    first = tickets[f"T0SANDBOX:C0SUPPORT:{roots[0]}"]
    wait_until("the reply on its ticket", lambda: len(p.zendesk.comments_of(first)) == 2)
    p.settle()
    for ts in roots:
        assert len([m for m in p.slack.thread("C0SUPPORT", ts) if m.get("bot_id") and m["ts"] != ts]) == 1

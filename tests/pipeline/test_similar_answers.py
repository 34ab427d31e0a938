"""Similar solved conversations through the whole stack: the reporter indexes a conversation an
agent solved, and the next question that looks like it is offered that conversation (its ticket
link and how it was solved), by zendesk-sync asking the reporter's /similar over HTTP; a
question like an open one is offered nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from threadline_common import answers
from threadline_devstack import services
from threadline_devstack.infra import free_port
from threadline_sandbox.zendesk import ZendeskSandbox

from .conftest import Pipeline, running_pipeline, stop_all, wait_until

pytestmark = pytest.mark.integration

API_TOKEN = "similar-test-reports-api-token-9a3e51"


def channels_yaml(zendesk: ZendeskSandbox) -> str:
    return (
        "channels:\n"
        f"  C0SUPPORT: {{name: support, zendesk: {{group_id: {zendesk.group_id}}}, answers: {{similar_solved: true}}}}\n"
    )


@pytest.fixture
def stack(
    kafka_bootstrap, kafka_topics, tmp_path, elasticsearch_url, es_index_prefix, unique_group
) -> Iterator[tuple[Pipeline, Elasticsearch]]:
    port = free_port()
    sync = {"reporter_api_url": f"http://127.0.0.1:{port}", "reporter_api_token": API_TOKEN}
    with running_pipeline(kafka_bootstrap, kafka_topics, tmp_path, {"zendesk-sync": sync}, channels_yaml) as p:
        env = services.ServiceEnv(kafka_bootstrap, kafka_topics.prefix, tmp_path, {"PYTHONWARNINGS": "ignore"})
        reporter = services.reporter(
            env,
            port,
            elasticsearch_url=elasticsearch_url,
            channels_file=tmp_path / "channels.yaml",
            slack_bot_token=p.slack.bot_token,
            slack_api_url=p.slack.api_url,
            index_prefix=es_index_prefix,
            group_id=unique_group,
            api_token=API_TOKEN,
            reports_enabled="false",
            batch_seconds="0.2",
        )
        reporter.start()
        es = Elasticsearch(elasticsearch_url, request_timeout=30)
        try:
            services.wait_http(f"http://127.0.0.1:{port}/readyz", reporter)
            yield p, es
        finally:
            stop_all([reporter])
            es.close()


def offers_in(p: Pipeline, root: str) -> list[dict[str, Any]]:
    return [m for m in p.slack.thread("C0SUPPORT", root) if m.get("bot_id") and answers.SOLVED in str(m.get("blocks"))]


def ticket_of(p: Pipeline, root: str) -> dict[str, Any]:
    key = f"{p.slack.ws.team_id}:C0SUPPORT:{root}"
    return wait_until("the ticket", lambda: next((t for t in p.zendesk.tickets() if t["external_id"] == key), None))


def test_a_question_like_a_solved_one_is_offered_it_and_how_it_was_solved(stack, es_index_prefix):
    p, es = stack
    first = p.user("alice").chat_postMessage(channel="C0SUPPORT", text="The VPN client drops every hour")["ts"]
    solved = ticket_of(p, first)
    p.zendesk.agent_comment(solved["id"], "Reinstall the VPN profile from the portal, that fixes the drops.")
    p.zendesk.agent_set_status(solved["id"], "solved")
    open_one = p.user("bob").chat_postMessage(channel="C0SUPPORT", text="Printer on floor 2 jams on every page")["ts"]
    ticket_of(p, open_one)
    conversations = f"{es_index_prefix}conversations"
    wait_until(
        "the solved conversation indexed with its answer",
        lambda: (
            es.indices.refresh(index=conversations) is not None
            and es.count(index=conversations, query={"bool": {"filter": [{"term": {"status": "solved"}}]}})["count"]
            == 1
        ),
    )
    p.settle()
    assert offers_in(p, first) == [] and offers_in(p, open_one) == []  # nothing was solved before them

    again = p.user("bob").chat_postMessage(channel="C0SUPPORT", text="My VPN client keeps dropping")["ts"]
    [offer] = wait_until("the similar solved conversation offered", lambda: offers_in(p, again) or None)
    shown = str(offer["blocks"])
    assert f"{p.zendesk.base_url}/agent/tickets/{solved['id']}" in shown
    assert "Reinstall the VPN profile" in shown and "VPN client drops every hour" in shown
    # Like the open printer request only: nothing solved looks like it, so nothing is posted.
    printer = p.user("alice").chat_postMessage(channel="C0SUPPORT", text="The printer on floor 2 jams")["ts"]
    ticket_of(p, printer)
    p.settle()
    assert offers_in(p, printer) == [] and len(offers_in(p, again)) == 1

"""A private request by direct message and the Home tab, through the sandboxes, as the person and
the agent see them: the services as their own processes on the real broker."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from threadline_sandbox.zendesk import ZendeskSandbox

from .conftest import Pipeline, wait_until

pytestmark = pytest.mark.integration

PRIVATE_NOTE = "Private request, sent to Threadline in a direct message in Slack."


@pytest.fixture
def pipeline_settings() -> dict[str, dict[str, str]]:
    return {"ingest": {"monitored_channels": "C0SUPPORT", "direct_messages": "true"}}


@pytest.fixture
def pipeline_channels() -> Callable[[ZendeskSandbox], str]:
    def channels(zendesk: ZendeskSandbox) -> str:
        return (
            "defaults: {zendesk: {tags: [slack]}}\n"
            f"channels:\n  C0SUPPORT: {{name: support, resolvers: [U0SRE], zendesk: {{group_id: {zendesk.group_id}}}}}\n"
            f"direct_messages: {{enabled: true, zendesk: {{group_id: {zendesk.infra_group_id}, priority: high}}}}\n"
        )

    return channels


def home_text(p: Pipeline, name: str) -> str:
    return str(p.slack.home(name) or "")


def test_a_private_request_by_dm_and_the_home_tab_that_follows_it(pipeline: Pipeline):
    p = pipeline
    root = p.slack.dm("alice", "My payslip shows the wrong tax code")
    dm = "D0ALICE"  # the sandbox's id of Alice's DM with the app

    # A private ticket: the DM's routing, and nothing in it names a channel or links to Slack.
    [ticket] = wait_until("the ticket", lambda: list(p.zen().tickets(external_id=f"T0SANDBOX:{dm}:{root}")))
    assert ticket.group_id == p.zendesk.infra_group_id and ticket.priority == "high"
    assert set(ticket.tags) >= {"slack-dm", "private"}
    assert PRIVATE_NOTE in ticket.description and "slack.com" not in ticket.description
    assert p.zen().users(id=ticket.requester_id).email == "alice@sandbox-corp.example"

    def thread() -> list[dict]:
        return [m for m in p.slack.dms("alice") if m.get("thread_ts") == root and m["ts"] != root]

    wait_until("the ticket link in the DM thread", lambda: [m for m in thread() if f"#{ticket.id}" in m["text"]])

    # The agent's public answer comes back into the DM thread; the person's reply there is a comment.
    p.zendesk.agent_comment(ticket.id, "Which month is it?")
    wait_until("the agent's answer in the DM", lambda: [m for m in thread() if "Which month" in m["text"]])
    p.user("alice").chat_postMessage(channel=dm, thread_ts=root, text="November's")
    wait_until(
        "the reply as a comment", lambda: any(c["body"] == "November's" for c in p.zendesk.comments_of(ticket.id))
    )

    # The Home tab shows the open request, with its link and status; solving it takes it off
    # (and the DM thread hears it is solved, as a channel's would).
    p.slack.open_home("alice")
    wait_until("the request on Alice's Home", lambda: f"#{ticket.id}" in home_text(p, "alice"))
    assert "private request" in home_text(p, "alice")
    p.zendesk.agent_set_status(ticket.id, "solved")
    wait_until("the Home updated", lambda: "You have no open requests" in home_text(p, "alice"))
    wait_until("the solved notice in the DM", lambda: [m for m in thread() if "solved" in m["text"]])

    # Someone with nothing going on who opens the tab sees it, empty but there.
    p.slack.open_home("bob")
    wait_until("Bob's Home", lambda: "You have no open requests" in home_text(p, "bob"))

    # Sam, who answers in #support, sees what waits there on their Home, without opening it.
    bob_root = p.user("bob").chat_postMessage(channel="C0SUPPORT", text="VPN drops every hour")["ts"]
    [bob_ticket] = wait_until(
        "Bob's ticket", lambda: list(p.zen().tickets(external_id=f"T0SANDBOX:C0SUPPORT:{bob_root}"))
    )
    wait_until("the queue on Sam's Home", lambda: f"#{bob_ticket.id}" in home_text(p, "sam"))
    assert "Waiting longest" in home_text(p, "sam")

    # Nothing doubled: one ticket for the DM, the app's own posts in it were no requests.
    p.settle()
    assert len(list(p.zen().tickets(external_id=f"T0SANDBOX:{dm}:{root}"))) == 1
    assert len([t for t in p.zendesk.tickets() if str(t.get("external_id") or "").startswith(f"T0SANDBOX:{dm}:")]) == 1
    assert sum("Which month" in m["text"] for m in thread()) == 1

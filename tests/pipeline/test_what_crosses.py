"""What crosses the bridge, through the whole pipeline: an outsider's email and an agent's
answer ping nobody in Slack, the agent finds the thread from the ticket, Slack's own notices
open nothing, and a deleted parent is a deletion. Checked from outside with slack_sdk and zenpy."""

from __future__ import annotations

import pytest
from threadline_testing.hostile import pings_nobody

from .conftest import Pipeline, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def pipeline(module_pipeline: Pipeline) -> Pipeline:
    """One pipeline for the module: each test starts its own threads (and tickets) and looks only at
    those, so none sees another's; starting the services once saves a start and a stop a test."""
    return module_pipeline


EMAIL = """Hi <!channel>, the VPN drops every hour. <@U0SAM> knows.

Thanks,
Dana
--
Dana Doe | ACME Corp

On Mon, Nov 30, 2026 at 9:00 AM Support <support@acme.example> wrote:
> How can we help?
"""


def bot_replies(p: Pipeline, channel: str, ts: str) -> list[dict]:
    return [m for m in p.slack.thread(channel, ts) if m.get("bot_id") and m["ts"] != ts]


def test_an_outsiders_email_and_an_agents_answer_ping_nobody(pipeline: Pipeline):
    p = pipeline
    ticket_id = p.zendesk.receive_email(
        "<!here> Dana", "dana@example.com", "<!everyone> VPN", EMAIL, p.zendesk.group_id
    )
    [root] = wait_until(
        "a thread for the email",
        lambda: [m for m in p.slack.channel_messages("C0SUPPORT") if m.get("bot_id") and f"#{ticket_id}" in m["text"]],
    )
    assert pings_nobody(root["text"])
    assert "&lt;!channel&gt;" in root["text"] and "Dana Doe" not in root["text"]
    assert "Signature and quoted replies left out" in root["text"]
    permalink = f"sandbox-corp.slack.com/archives/C0SUPPORT/p{root['ts'].replace('.', '')}"
    notes = wait_until(
        "the thread's link noted on the ticket",
        lambda: [c for c in p.zendesk.comments_of(ticket_id) if not c["public"] and permalink in c["body"]],
    )
    assert len(notes) == 1

    p.zendesk.agent_comment(ticket_id, "**Restart** the client <!channel> and see <@U0BOB>")
    [answer] = wait_until(
        "the agent's answer in the thread",
        lambda: [m for m in bot_replies(p, "C0SUPPORT", root["ts"]) if "Restart" in m["text"]],
    )
    assert answer["text"] == "*Agent Ann* (Zendesk): *Restart* the client &lt;!channel&gt; and see &lt;@U0BOB&gt;"

    p.settle()
    assert len([c for c in p.zendesk.comments_of(ticket_id) if not c["public"]]) == 1, "noted once"


def test_slacks_own_notices_open_nothing_and_a_deleted_parent_is_a_deletion(pipeline: Pipeline):
    p = pipeline
    alice, sam = p.user("alice"), p.user("sam")
    root = alice.chat_postMessage(channel="C0SUPPORT", text="Printer *on fire* :fire:")["ts"]
    [ticket] = wait_until("the ticket", lambda: list(p.zen().tickets(external_id=f"T0SANDBOX:C0SUPPORT:{root}")))
    assert ticket.subject == "Printer on fire 🔥"

    sam.conversations_setTopic(channel="C0SUPPORT", topic="Printers and VPN")
    sam.conversations_rename(channel="C0SUPPORT", name="support-desk")
    sam.chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="Which floor?")
    wait_until("the reply on the ticket", lambda: len(p.zendesk.comments_of(ticket.id)) >= 2)

    alice.chat_delete(channel="C0SUPPORT", ts=root)  # it has a reply: Slack keeps a tombstone
    wait_until(
        "the deletion noted on the ticket",
        lambda: any("was deleted from the thread" in c["body"] for c in p.zendesk.comments_of(ticket.id)),
    )
    p.settle()
    notices = [
        m for m in p.slack.channel_messages("C0SUPPORT") if m.get("subtype") in ("channel_topic", "channel_name")
    ]
    assert len(notices) == 2
    for notice in notices:
        external_id = f"T0SANDBOX:C0SUPPORT:{notice['ts']}"
        assert not list(p.zen().tickets(external_id=external_id)), f"{notice['subtype']} opened no ticket"
    assert not any("Edited in Slack" in c["body"] for c in p.zendesk.comments_of(ticket.id))

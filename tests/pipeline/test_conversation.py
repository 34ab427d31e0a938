"""The whole story through the sandboxes, checked from outside with slack_sdk and zenpy."""

from __future__ import annotations

import pytest

from .conftest import Pipeline, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def pipeline(module_pipeline: Pipeline) -> Pipeline:
    """One pipeline for the module: each test starts its own threads (and tickets) and looks only at
    those, so none sees another's; starting the services once saves a start and a stop a test."""
    return module_pipeline


def tickets_for(p: Pipeline, external_id: str) -> list:
    return list(p.zen().tickets(external_id=external_id))


def bot_replies(p: Pipeline, channel: str, ts: str) -> list[dict]:
    return [m for m in p.slack.thread(channel, ts) if m.get("bot_id") and m["ts"] != ts]


def test_a_support_conversation_end_to_end(pipeline: Pipeline):
    p = pipeline
    alice, bob = p.user("alice"), p.user("bob")
    root = alice.chat_postMessage(channel="C0SUPPORT", text="The printer on floor 3 is on fire")["ts"]
    external = f"T0SANDBOX:C0SUPPORT:{root}"

    [ticket] = wait_until("the ticket", lambda: tickets_for(p, external))
    assert ticket.subject == "The printer on floor 3 is on fire" and ticket.group_id == p.zendesk.group_id
    assert p.zen().users(id=ticket.requester_id).email == "alice@sandbox-corp.example"
    link = wait_until("the ticket link in the thread", lambda: bot_replies(p, "C0SUPPORT", root))
    assert f"#{ticket.id}" in link[0]["text"]

    bob.chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="Which printer exactly?")
    alice.chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="The big one by the window")
    comments = wait_until(
        "two Slack replies as comments",
        lambda: len(p.zendesk.comments_of(ticket.id)) >= 3 and p.zendesk.comments_of(ticket.id),
    )
    bodies = [c["body"] for c in comments]
    assert bodies[1:] == ["Which printer exactly?", "The big one by the window"]
    authors = {p.zen().users(id=c["author_id"]).email for c in comments[1:]}
    assert authors == {"bob@sandbox-corp.example", "alice@sandbox-corp.example"}

    p.zendesk.agent_comment(ticket.id, "Please unplug it, a technician is on the way.")
    p.zendesk.agent_comment(ticket.id, "Internal: third fire this month", public=False)
    answer = wait_until(
        "the agent's answer in the thread",
        lambda: [m for m in bot_replies(p, "C0SUPPORT", root) if "unplug" in m["text"]],
    )
    assert answer[0].get("username") == "Agent Ann" and "Agent Ann" in answer[0]["text"]

    alice.chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="resolve")
    wait_until("the ticket solved", lambda: p.zen().tickets(id=ticket.id).status == "solved")
    wait_until("the solved notice", lambda: [m for m in bot_replies(p, "C0SUPPORT", root) if "solved" in m["text"]])

    # Nothing loops and nothing is doubled: our own posts and comments never come back.
    p.settle()
    texts = [m["text"] for m in bot_replies(p, "C0SUPPORT", root)]
    assert not any("third fire" in t for t in texts)
    assert sum("unplug" in t for t in texts) == 1
    assert sum(f"#{ticket.id}>" in t and "opened ticket" in t for t in texts) == 1
    bodies = [c["body"] for c in p.zendesk.comments_of(ticket.id)]
    assert bodies.count("Which printer exactly?") == 1 and not any("opened ticket" in b for b in bodies)
    assert len(tickets_for(p, external)) == 1


def test_an_emailed_ticket_opens_a_thread_and_replies_flow_back(pipeline: Pipeline):
    p = pipeline
    ticket_id = p.zendesk.receive_email(
        "Dana", "dana@example.com", "VPN drops hourly", "Since 9am.", p.zendesk.group_id
    )
    thread = wait_until(
        "a new thread for the email",
        lambda: [m for m in p.slack.channel_messages("C0SUPPORT") if m.get("bot_id") and f"#{ticket_id}" in m["text"]],
    )
    root = thread[0]["ts"]
    assert "VPN drops hourly" in thread[0]["text"] and "dana@example.com" in thread[0]["text"]
    wait_until(
        "the ticket linked to the thread",
        lambda: p.zen().tickets(id=ticket_id).external_id == f"T0SANDBOX:C0SUPPORT:{root}",
    )
    p.user("sam").chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="Looking at the VPN gateway now")
    wait_until(
        "the reply on the ticket", lambda: any("VPN gateway" in c["body"] for c in p.zendesk.comments_of(ticket_id))
    )
    p.zendesk.agent_comment(ticket_id, "Gateway restarted.")
    wait_until(
        "the agent's comment in the thread",
        lambda: [m for m in bot_replies(p, "C0SUPPORT", root) if "Gateway restarted" in m["text"]],
    )


def test_help_and_check_mark(pipeline: Pipeline):
    p = pipeline
    alice = p.user("alice")
    root = alice.chat_postMessage(channel="C0INFRA", text="Disk full on build-7")["ts"]
    [ticket] = wait_until("the ticket", lambda: tickets_for(p, f"T0SANDBOX:C0INFRA:{root}"))
    assert ticket.group_id == p.zendesk.infra_group_id
    alice.chat_postMessage(channel="C0INFRA", thread_ts=root, text="help")
    wait_until("the help text", lambda: [m for m in bot_replies(p, "C0INFRA", root) if "`help`" in m["text"]])
    assert len(p.zendesk.comments_of(ticket.id)) == 1  # "help" is not a comment
    p.user("sam").reactions_add(channel="C0INFRA", timestamp=root, name="white_check_mark")  # not allowed here
    alice.reactions_add(channel="C0INFRA", timestamp=root, name="white_check_mark")
    wait_until(
        "the ticket solved by the requester's check mark", lambda: p.zen().tickets(id=ticket.id).status == "solved"
    )


def test_zendesk_status_changes_reach_the_thread_and_replies_reopen_or_follow_up(pipeline: Pipeline):
    p = pipeline
    alice = p.user("alice")
    root = alice.chat_postMessage(channel="C0SUPPORT", text="Badge reader at the door rejects me")["ts"]
    [ticket] = wait_until("the ticket", lambda: tickets_for(p, f"T0SANDBOX:C0SUPPORT:{root}"))
    wait_until("the ticket link", lambda: bot_replies(p, "C0SUPPORT", root))

    p.zendesk.agent_set_status(ticket.id, "solved")
    wait_until("the solved notice", lambda: [m for m in bot_replies(p, "C0SUPPORT", root) if "solved" in m["text"]])

    # A reply to a solved ticket reopens it, and the reply is its comment.
    alice.chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="Still rejected this morning")
    wait_until("the ticket reopened", lambda: p.zen().tickets(id=ticket.id).status == "open")
    assert any("Still rejected" in c["body"] for c in p.zendesk.comments_of(ticket.id))

    # Solved again and closed by Zendesk's automation: the thread is told, and a reply opens a follow-up.
    p.zendesk.agent_set_status(ticket.id, "solved")
    wait_until("solved again", lambda: p.zen().tickets(id=ticket.id).status == "solved")
    p.zendesk.set_knobs(close_solved_after_seconds=0)
    assert ticket.id in p.zendesk.close_due_tickets()
    wait_until("the closed notice", lambda: [m for m in bot_replies(p, "C0SUPPORT", root) if "closed" in m["text"]])
    alice.chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="It happened again today")

    [follow_up_id] = wait_until("a follow-up ticket", lambda: p.zendesk.ticket(ticket.id)["followup_ids"])
    new = p.zendesk.ticket(follow_up_id)
    assert any("It happened again today" in c["body"] for c in p.zendesk.comments_of(new["id"]))
    wait_until(
        "the follow-up's link", lambda: [m for m in bot_replies(p, "C0SUPPORT", root) if f"#{new['id']}" in m["text"]]
    )
    assert p.zen().tickets(id=ticket.id).status == "closed"  # the closed ticket itself is untouched

"""`/support` and following tickets, through the Slack and Zendesk sandboxes as people use them,
with ingest, router and zendesk-sync as processes on the real broker: every subcommand is
answered; a ticket born in Slack (by command, and by its confirmation's Follow button) and an
emailed one are followed, and their followers get a DM on an agent's public answer, never on an
internal note; unfollowing stops it; a ticket that does not exist, or that the person may not
see, gets one line; a router restart keeps the follows."""

from __future__ import annotations

from typing import Any

import pytest

from threadline_devstack import services

from .conftest import Pipeline, wait_until

pytestmark = pytest.mark.integration


def answered(pipeline: Pipeline, who: str, text: str, channel: str = "C0SUPPORT") -> str:
    """`who` types `/support <text>` in `channel`; the ephemeral answer they are shown (Slack
    shows nothing at once: the answer comes through response_url)."""
    before = len(pipeline.slack.ephemerals(who))
    response = pipeline.slack.slash_command(who, channel, "/support", text)
    assert response.status == 200 and response.message is None, response.body
    wait_until(f"an answer to /support {text}", lambda: len(pipeline.slack.ephemerals(who)) > before, timeout=60)
    [answer] = pipeline.slack.ephemerals(who)[before:]
    return str(answer["text"])


def dms(pipeline: Pipeline, who: str) -> list[dict[str, Any]]:
    return [m for m in pipeline.slack.dms(who) if m.get("bot_id")]


def follow_button(pipeline: Pipeline, root: str) -> str | None:
    """The ts of the bot's confirmation in the thread, once it carries its Follow button."""
    for message in pipeline.slack.thread("C0SUPPORT", root):
        for block in message.get("blocks") or ():
            if any(e.get("action_id") == "threadline.follow" for e in block.get("elements") or ()):
                return str(message["ts"])
    return None


def ticket_of_thread(pipeline: Pipeline, channel: str, ts: str) -> int:
    key = f"{pipeline.slack.ws.team_id}:{channel}:{ts}"
    wait_until(f"a ticket for {key}", lambda: any(t.get("external_id") == key for t in pipeline.zendesk.tickets()))
    return next(int(t["id"]) for t in pipeline.zendesk.tickets() if t.get("external_id") == key)


def test_support_subcommands_and_following(pipeline: Pipeline) -> None:
    slack, zendesk = pipeline.slack, pipeline.zendesk
    root = pipeline.user("alice").chat_postMessage(channel="C0SUPPORT", text="The printer is on fire")["ts"]
    slack_born = ticket_of_thread(pipeline, "C0SUPPORT", root)
    secret = pipeline.user("alice").chat_postMessage(channel="C0INFRA", text="Disk full on db-1")["ts"]
    infra = ticket_of_thread(pipeline, "C0INFRA", secret)  # bob is not in #infra-help
    # Emailed to a group no channel watches: a ticket that was never in Slack.
    emailed = zendesk.receive_email(
        "Alice", "alice@sandbox-corp.example", "Invoice missing", "Where is it?", group_id=zendesk.infra_group_id
    )

    # Every subcommand is answered, ephemerally, to whoever typed it.
    assert "What Threadline understands in #support" in answered(pipeline, "alice", "help")
    assert "Slack does not allow slash commands in threads" in answered(pipeline, "alice", "status")
    assert "is not a /support command" in answered(pipeline, "alice", "frobnicate")
    assert answered(pipeline, "alice", "oncall") == "No on-call is configured for this channel."
    status = answered(pipeline, "alice", f"status {slack_born}")
    assert f"Ticket #{slack_born}" in status and "Status: *new*" in status and "Waiting on support" in status
    link = f"https://sandbox-corp.slack.com/archives/C0SUPPORT/p{root.replace('.', '')}"
    assert f"Ticket #{slack_born}" in answered(pipeline, "bob", f"status <{link}>")
    assert answered(pipeline, "bob", "report daily").startswith("Reports are not available from Slack here")
    assert answered(pipeline, "bob", "follow 999999").startswith("There is no ticket #999999")
    assert answered(pipeline, "bob", f"follow {infra}").startswith(f"You may not see ticket #{infra}")

    # Bob follows the Slack-born ticket (he is in #support); Alice the one she emailed.
    assert answered(pipeline, "bob", f"follow {slack_born} replies").startswith("You now follow ticket <")
    assert answered(pipeline, "alice", f"follow {emailed}").startswith("You now follow ticket <")
    # Sam presses Follow on the ticket's confirmation in its thread.
    wait_until("the confirmation's Follow button", lambda: follow_button(pipeline, root) is not None)
    before = len(slack.ephemerals("sam"))
    slack.press_button("sam", "C0SUPPORT", follow_button(pipeline, root), "threadline.follow")
    wait_until("Sam's follow answer", lambda: len(slack.ephemerals("sam")) > before, timeout=60)
    assert slack.ephemerals("sam")[-1]["text"].startswith("You now follow ticket <")
    pipeline.settle()
    assert answered(pipeline, "alice", "following") == (
        f"You follow 1 ticket: #{emailed}. `/support unfollow <number>` stops one."
    )
    # Her Home tab lists it, with its link.
    slack.open_home("alice")
    wait_until("Alice's Home", lambda: f"|#{emailed}>" in str(slack.home("alice") or {}), timeout=60)

    # The router restarts: the follows are read back from threadline.follows.
    pipeline.restart("router")
    services.wait_http(f"http://127.0.0.1:{pipeline.ports['router']}/readyz", pipeline.processes["router"])

    zendesk.agent_comment(slack_born, "We are sending a technician.")
    zendesk.agent_comment(slack_born, "internal: the printer is older than me", public=False)
    zendesk.agent_comment(emailed, "Resent it to your inbox.")
    wait_until("Bob's DM", lambda: len(dms(pipeline, "bob")) == 1, timeout=60)
    wait_until("Alice's DM", lambda: len(dms(pipeline, "alice")) == 1, timeout=60)
    wait_until("Sam's DM", lambda: len(dms(pipeline, "sam")) == 1, timeout=60)
    pipeline.settle()
    [bobs] = dms(pipeline, "bob")
    assert f"|#{slack_born}>" in bobs["text"] and "We are sending a technician." in bobs["text"]
    assert "older than me" not in str(dms(pipeline, "bob")) + str(dms(pipeline, "alice"))
    [alices] = dms(pipeline, "alice")
    assert "Resent it to your inbox." in alices["text"]
    actions = [e.get("action_id") for b in alices["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert actions == ["open_ticket", "threadline.latest_comment", "threadline.unfollow"]

    # Unfollow stops them: Bob by command, Alice by the DM's button.
    assert answered(pipeline, "bob", f"unfollow {slack_born}").startswith(f"You no longer follow ticket #{slack_born}")
    dm_channel = pipeline.bot.conversations_open(users="U0ALICE")["channel"]["id"]
    before = len(slack.ephemerals("alice"))
    slack.press_button("alice", dm_channel, alices["ts"], "threadline.unfollow")
    wait_until("Alice's unfollow answer", lambda: len(slack.ephemerals("alice")) > before, timeout=60)
    # Seen, so applied: the ticket's row decides what comes next for it after the unfollow.
    assert slack.ephemerals("alice")[-1]["text"].startswith(f"You no longer follow ticket #{emailed}")
    zendesk.agent_comment(slack_born, "Technician is on the way.")
    zendesk.agent_comment(emailed, "Anything else?")
    pipeline.settle()
    assert len(dms(pipeline, "bob")) == 1 and len(dms(pipeline, "alice")) == 1
    assert [m["text"].rsplit(">", 1)[-1] for m in dms(pipeline, "sam")] == [
        "We are sending a technician.", "Technician is on the way.",
    ]  # fmt: skip  # Sam still follows

"""Two support channels configured differently, in one running stack (ingest, router and
zendesk-sync as processes on the real broker; Slack, Zendesk and PagerDuty sandboxes), checked
from the outside: who opens tickets and how, on call, urgent, out of hours, reminders, welcome,
edits and deletes, an agent's attachment."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from zenpy.lib.api_objects import Comment, Ticket

from threadline_devstack import services
from threadline_devstack.infra import free_port
from threadline_sandbox.pagerduty import PagerDutySandbox
from threadline_sandbox.slack import SlackSandbox
from threadline_sandbox.zendesk import ZendeskSandbox

from .conftest import SLACK_SECRET, ZENDESK_SECRET, Pipeline, stop_all, wait_until

pytestmark = pytest.mark.integration

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# The infra team works only the day after tomorrow: whenever the suite runs, it is away now.
AWAY_UNTIL = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).weekday()


def back_phrase(at: dt.datetime) -> str:
    """How the notice names AWAY_UNTIL when written at `at`: after a midnight since the module
    was loaded, that day is tomorrow."""
    return "tomorrow" if (AWAY_UNTIL - at.weekday()) % 7 == 1 else f"on {DAY_NAMES[AWAY_UNTIL]}"


def channels_yaml(zendesk: ZendeskSandbox) -> str:
    return f"""
defaults: {{zendesk: {{tags: [slack]}}}}
channels:
  C0SUPPORT:
    name: support
    zendesk: {{group_id: {zendesk.group_id}}}
    emoji: {{urgent: {{names: [rotating_light], who: requester_and_responders}}}}
    on_call: {{escalation_policy_id: PPOLSUP, assign: true}}
    reminders: {{after_minutes: 0.05, max_reminders: 2}}
  C0INFRA:
    name: infra-help
    zendesk: {{group_id: {zendesk.infra_group_id}, tags: [slack, infra]}}
    auto_open: false
    emoji:
      open: {{names: [ticket], who: [U0SRE]}}
      resolve: {{names: [white_check_mark], who: [U0SRE]}}
    timezone: UTC
    business_hours: {{days: [{DAYS[AWAY_UNTIL]}], start: "09:00", end: "17:00"}}
    out_of_hours: {{}}
    on_call: {{schedule_id: PSCHINF}}
    reminders: {{after_minutes: 0.05, max_reminders: 2}}
    welcome_message: "Welcome {{user}}! React with :ticket: to a message in {{channel}} to make it a ticket."
"""


@pytest.fixture
def stack(kafka_bootstrap, kafka_topics, tmp_path: Path, monkeypatch) -> Iterator[tuple[Pipeline, PagerDutySandbox]]:
    ports = {name: free_port() for name in ("ingest", "router", "zendesk-sync")}
    ingest_url = f"http://127.0.0.1:{ports['ingest']}"
    slack = SlackSandbox(
        SLACK_SECRET,
        [f"{ingest_url}/slack/events"],
        commands_url=f"{ingest_url}/slack/commands",
        interactivity_url=f"{ingest_url}/slack/interactions",
    ).start()
    zendesk = ZendeskSandbox(webhook_urls=[f"{ingest_url}/zendesk/webhook"], webhook_secret=ZENDESK_SECRET).start()
    pagerduty = PagerDutySandbox().start()
    for key, value in zendesk.zenpy_env().items():
        monkeypatch.setenv(key, value)
    channels = tmp_path / "channels.yaml"
    channels.write_text(channels_yaml(zendesk))
    env = services.ServiceEnv(kafka_bootstrap, kafka_topics.prefix, tmp_path, {"PYTHONWARNINGS": "ignore"})
    processes = {
        "ingest": services.ingest(env, ports["ingest"], SLACK_SECRET, ZENDESK_SECRET),
        "router": services.router_for_sandboxes(
            env,
            channels,
            ports["router"],
            slack,
            zendesk,
            partitions="2",
            store="memory://",
            reminder_interval_seconds="1",
            log_format="text",
        ),
        "zendesk-sync": services.zendesk_sync_for_sandboxes(
            env,
            ports["zendesk-sync"],
            slack,
            zendesk,
            partitions="2",
            slack_channel_interval_seconds="0.05",
            pagerduty_api_url=pagerduty.base_url,
            pagerduty_api_token=pagerduty.token,
            log_format="text",
        ),
    }
    try:
        for process in processes.values():
            process.start()
        services.wait_http(f"{ingest_url}/readyz", processes["ingest"])
        services.wait_http(f"http://127.0.0.1:{ports['router']}/readyz", processes["router"])
        services.wait_http(f"http://127.0.0.1:{ports['zendesk-sync']}/readyz", processes["zendesk-sync"])
        yield Pipeline(slack, zendesk, processes, ports, kafka_bootstrap, kafka_topics), pagerduty
    finally:
        stop_all(processes.values())
        slack.stop()
        zendesk.stop()
        pagerduty.stop()


def tickets_for(p: Pipeline, channel: str, ts: str) -> list:
    return list(p.zen().tickets(external_id=f"T0SANDBOX:{channel}:{ts}"))


def bot_texts(p: Pipeline, channel: str, ts: str) -> list[str]:
    return [m["text"] for m in p.slack.thread(channel, ts) if m.get("bot_id") and m["ts"] != ts]


def said(p: Pipeline, channel: str, ts: str, words: str) -> list[str]:
    return [t for t in bot_texts(p, channel, ts) if words in t]


def test_two_channels_configured_differently_in_one_stack(stack):
    p, pagerduty = stack
    pagerduty.requests.clear()
    alice, bob, sam = p.user("alice"), p.user("bob"), p.user("sam")

    # Welcome: only who joins sees it, and only in the channel that has one.
    bob.conversations_join(channel="C0INFRA")
    [welcome] = wait_until("the welcome", lambda: p.slack.ws.channels["C0INFRA"].get("_ephemeral"))
    assert welcome == {
        "user": "U0BOB",
        "text": "Welcome <@U0BOB>! React with :ticket: to a message in <#C0INFRA> to make it a ticket.",
    }

    # infra-help: a message is no ticket; Bob's :ticket: does nothing, Sam's opens one.
    never = alice.chat_postMessage(channel="C0INFRA", text="FYI: deploys are frozen on Friday")["ts"]
    before_disk = dt.datetime.now(dt.UTC)
    disk = alice.chat_postMessage(channel="C0INFRA", text="build-7 is out of disk")["ts"]
    bob.reactions_add(channel="C0INFRA", timestamp=disk, name="ticket")
    sam.reactions_add(channel="C0INFRA", timestamp=disk, name="ticket")

    # support: every message is a ticket, assigned to whoever PagerDuty has on call.
    root = alice.chat_postMessage(channel="C0SUPPORT", text="The payments page answers 500")["ts"]
    [ticket] = wait_until("the support ticket", lambda: tickets_for(p, "C0SUPPORT", root))
    assert ticket.group_id == p.zendesk.group_id and ticket.tags == ["slack"]
    wait_until("the assignment", lambda: p.zendesk.ticket(ticket.id)["assignee_id"] == p.zendesk.agent["id"])
    [on_call] = wait_until("the on-call post", lambda: said(p, "C0SUPPORT", root, ":pager:"))
    assert on_call == ":pager: On call now: *Agent Ann* (primary), <@U0SRE> (secondary)."
    assert not said(p, "C0SUPPORT", root, "away right now"), "support has no out-of-hours notice"

    [infra] = wait_until("the infra ticket", lambda: tickets_for(p, "C0INFRA", disk))
    assert infra.group_id == p.zendesk.infra_group_id and infra.tags == ["infra", "slack"]
    assert infra.subject == "build-7 is out of disk" and "opened from Slack by Sam Reliability" in infra.description
    assert p.zen().users(id=infra.requester_id).email == "alice@sandbox-corp.example"
    [away] = wait_until("the out-of-hours notice", lambda: said(p, "C0INFRA", disk, "away right now"))
    # Written between the post and now: a midnight in between allows either phrasing.
    phrases = {f"will answer {back_phrase(at)} at 09:00 (UTC)" for at in (before_disk, dt.datetime.now(dt.UTC))}
    assert any(phrase in away for phrase in phrases), (away, phrases)

    # Nobody from support answered: the on-call person is reminded, once per threshold, twice at most
    # (support has no business hours: wall-clock minutes).
    reminders = wait_until("two reminders", lambda: len(said(p, "C0SUPPORT", root, ":hourglass:")) >= 2 or None)
    texts = said(p, "C0SUPPORT", root, ":hourglass:")
    assert reminders and len(texts) == 2 and all("could you take a look?" in t for t in texts)
    assert "*Agent Ann*, could you take a look?" in texts[0], "the primary is named"

    # Urgent: the requester's emoji sets the priority.
    alice.reactions_add(channel="C0SUPPORT", timestamp=root, name="rotating_light")
    wait_until("the urgent priority", lambda: p.zen().tickets(id=ticket.id).priority == "urgent")
    wait_until("the urgent notice", lambda: said(p, "C0SUPPORT", root, f"Ticket #{ticket.id} is now urgent"))

    # Edits and deletes reach the ticket as internal notes.
    reply = alice.chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="It fails at checkout")["ts"]
    wait_until("the reply as a comment", lambda: len(p.zendesk.comments_of(ticket.id)) >= 3)
    alice.chat_update(channel="C0SUPPORT", ts=reply, text="It fails at checkout since 9am")
    alice.chat_delete(channel="C0SUPPORT", ts=reply)

    def edit_notes() -> list[dict]:
        notes = [c for c in p.zendesk.comments_of(ticket.id) if not c["public"] and "Marked urgent" not in c["body"]]
        return notes if len(notes) >= 2 else []

    notes = wait_until("the edit and delete notes", edit_notes)
    assert notes[0]["body"].startswith("Edited in Slack by Alice Asker") and "since 9am" in notes[0]["body"]
    assert notes[1]["body"] == "A Slack message by Alice Asker was deleted from the thread."

    # An agent's answer with a file: linked in the thread.
    agent = p.zendesk.zenpy(as_agent=True)
    upload = agent.attachments.upload(io.BytesIO(b"refund steps"), target_name="refunds.txt")
    agent.tickets.update(
        Ticket(id=ticket.id, comment=Comment(body="Steps attached.", public=True, uploads=[upload.token]))
    )
    [answer] = wait_until("the agent's answer", lambda: said(p, "C0SUPPORT", root, "Steps attached."))
    assert answer.startswith("*Agent Ann* (Zendesk): Steps attached.\n:paperclip: <")
    assert "|refunds.txt> (12 bytes)" in answer

    # Sam's check mark solves the infra ticket (only Sam may there).
    sam.reactions_add(channel="C0INFRA", timestamp=disk, name="white_check_mark")
    wait_until("the infra ticket solved", lambda: p.zen().tickets(id=infra.id).status == "solved")

    p.settle()
    assert tickets_for(p, "C0INFRA", never) == [], "a message nobody reacted to stays a message"
    assert len(tickets_for(p, "C0INFRA", disk)) == 1 and len(tickets_for(p, "C0SUPPORT", root)) == 1
    assert len(said(p, "C0SUPPORT", root, ":pager:")) == 1
    # infra-help counts its reminders in business minutes, and its team is away all day: none yet.
    assert not said(p, "C0INFRA", disk, ":hourglass:")
    assert any(path.startswith("/oncalls") and "PPOLSUP" in path for _, path in pagerduty.requests)

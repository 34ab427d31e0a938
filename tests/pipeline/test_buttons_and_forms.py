"""The ticket confirmation's buttons, the message shortcuts and the ticket form, driven through the
Slack sandbox as people use them, with ingest, router and zendesk-sync as processes on the real
broker: who may press, the confirmation rewritten in place, a double press doing one thing, the
form kept open on an invalid field and opening the ticket when valid, a private note, and the
form offered again when its trigger expired on the way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from threadline_common import confirmation
from threadline_sandbox.zendesk import ZendeskSandbox

from .conftest import Pipeline, running_pipeline, wait_until

pytestmark = pytest.mark.integration

REGION = 360001


def channels_yaml(zendesk: ZendeskSandbox) -> str:
    return f"""
defaults: {{zendesk: {{tags: [slack]}}}}
channels:
  C0SUPPORT:
    name: support
    zendesk: {{group_id: {zendesk.group_id}}}
    emoji: {{resolve: {{names: [white_check_mark], who: requester}}}}
  C0INFRA:
    name: infra-help
    auto_open: false
    emoji: {{open: {{names: [ticket], who: [U0SRE]}}}}
    zendesk:
      group_id: {zendesk.infra_group_id}
      form: [{{id: {REGION}, label: Region, kind: select, options: [emea, amer], required: true}}]
"""


@pytest.fixture(scope="module")
def pipeline(kafka_bootstrap, module_kafka_topics, tmp_path_factory) -> Iterator[Pipeline]:
    with running_pipeline(
        kafka_bootstrap, module_kafka_topics, tmp_path_factory.mktemp("buttons"), {}, channels_yaml
    ) as running:
        # The path through Kafka to views.open is well under a minute; Slack's own 3 seconds is
        # the fallback's business (tests/zendesk_sync/test_interactive_effects.py).
        running.slack.knobs.trigger_ttl_seconds = 60.0
        yield running


def confirmation_of(p: Pipeline, channel: str, root: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        return next(
            (m for m in p.slack.thread(channel, root) if m.get("bot_id") and "I opened ticket" in m.get("text", "")),
            None,
        )

    return wait_until("the ticket confirmation in the thread", found, timeout=60)


def ticket_of(p: Pipeline, channel: str, root: str) -> dict[str, Any]:
    key = f"{p.slack.ws.team_id}:{channel}:{root}"
    return wait_until(
        "the ticket", lambda: next((t for t in p.zendesk.tickets() if t["external_id"] == key), None), timeout=60
    )


def test_resolve_by_the_requester_solves_once_and_others_hear_who_may(pipeline: Pipeline):
    p = pipeline
    root = p.user("alice").chat_postMessage(channel="C0SUPPORT", text="The printer is on fire")["ts"]
    posted = confirmation_of(p, "C0SUPPORT", root)
    ticket = ticket_of(p, "C0SUPPORT", root)

    # Bob is not the requester: one line only he sees, and nothing changes.
    p.slack.press_button("bob", "C0SUPPORT", posted["ts"], confirmation.RESOLVE)
    told = wait_until("Bob's answer", lambda: [e for e in p.slack.ephemerals("bob") if "solve" in e["text"]])
    assert [e["text"] for e in told] == [
        "You cannot solve this ticket: in this channel only the requester can solve this ticket."
    ]
    p.settle()
    assert p.zendesk.ticket(ticket["id"])["status"] != "solved"
    assert "Solved" not in next(m for m in p.slack.thread("C0SUPPORT", root) if m["ts"] == posted["ts"])["text"]

    # Alice presses twice: the ticket is solved once, and the message says by whom.
    first = p.slack.press_button("alice", "C0SUPPORT", posted["ts"], confirmation.RESOLVE)
    second = p.slack.press_button("alice", "C0SUPPORT", posted["ts"], confirmation.RESOLVE)
    assert (first.status, second.status) == (200, 200)
    wait_until("the ticket solved", lambda: p.zendesk.ticket(ticket["id"])["status"] == "solved")
    p.settle()
    shown = next(m for m in p.slack.thread("C0SUPPORT", root) if m["ts"] == posted["ts"])
    assert "Solved by <@U0ALICE>" in shown["text"]
    assert confirmation.RESOLVE not in str(shown["blocks"])
    solves = [c for c in p.zendesk.comments_of(ticket["id"]) if "Solved from Slack" in c["body"]]
    assert len(solves) == 1


def test_the_open_ticket_shortcut_keeps_an_invalid_form_open_and_opens_a_valid_one(pipeline: Pipeline):
    p = pipeline
    asked = p.user("alice").chat_postMessage(channel="C0INFRA", text="VPN drops every hour")["ts"]
    p.slack.message_shortcut("sam", "C0INFRA", asked, "threadline.open_ticket")
    modal = wait_until("the ticket form", lambda: p.slack.open_view("sam"), timeout=60)
    assert modal["callback_id"] == "threadline.open_ticket"
    blocks = {b["block_id"]: b for b in modal["blocks"]}
    assert blocks["description"]["element"]["initial_value"] == "VPN drops every hour"
    assert f"field:{REGION}" in blocks

    # An empty subject: the modal stays, showing why, and nothing is created.
    refused = p.slack.submit_view("sam", {"subject": {"value": ""}, f"field:{REGION}": {"value": "emea"}})
    assert refused.json == {"response_action": "errors", "errors": {"subject": "A ticket needs a subject."}}
    assert p.slack.open_view("sam")["errors"] == {"subject": "A ticket needs a subject."}
    p.settle()
    key = f"{p.slack.ws.team_id}:C0INFRA:{asked}"
    assert not [t for t in p.zendesk.tickets() if t["external_id"] == key]

    closed = p.slack.submit_view(
        "sam",
        {
            "subject": {"value": "VPN drops hourly"},
            "priority": {"value": "high"},
            "type": {"value": "incident"},
            f"field:{REGION}": {"value": "emea"},
        },
    )
    assert (closed.status, closed.body) == (200, "")
    assert p.slack.open_view("sam") is None
    ticket = ticket_of(p, "C0INFRA", asked)
    assert (ticket["subject"], ticket["priority"], ticket["type"]) == ("VPN drops hourly", "high", "incident")
    assert {"id": REGION, "value": "emea"} in ticket["custom_fields"]
    assert p.zendesk.user(ticket["requester_id"])["email"] == "alice@sandbox-corp.example"
    confirmation_of(p, "C0INFRA", asked)


def test_add_as_internal_note_arrives_as_a_private_comment(pipeline: Pipeline):
    p = pipeline
    root = p.user("alice").chat_postMessage(channel="C0SUPPORT", text="Disk full on db01")["ts"]
    confirmation_of(p, "C0SUPPORT", root)
    ticket = ticket_of(p, "C0SUPPORT", root)
    p.settle()
    said = p.user("bob").chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="it was the audit logs")["ts"]
    p.settle()
    before = len(p.zendesk.comments_of(ticket["id"]))
    p.slack.message_shortcut("sam", "C0SUPPORT", said, "threadline.add_note")
    wait_until("Sam's answer", lambda: [e for e in p.slack.ephemerals("sam") if "internal note" in e["text"]])
    p.settle()
    notes = p.zendesk.comments_of(ticket["id"])[before:]
    assert [(c["public"], c["body"].splitlines()[-1]) for c in notes] == [(False, "it was the audit logs")]


def test_a_form_whose_trigger_expired_on_the_way_is_offered_again_with_a_button(pipeline: Pipeline):
    p = pipeline
    asked = p.user("alice").chat_postMessage(channel="C0INFRA", text="Printer jammed")["ts"]
    p.slack.knobs.trigger_ttl_seconds = 0.0  # as when the way through Kafka took over Slack's 3 seconds
    try:
        p.slack.message_shortcut("bob", "C0INFRA", asked, "threadline.open_ticket")
        offer = wait_until(
            "the button that opens the form again",
            lambda: [e for e in p.slack.ephemerals("bob") if "took too long" in (e.get("text") or "")],
            timeout=60,
        )
    finally:
        p.slack.knobs.trigger_ttl_seconds = 60.0
    assert p.slack.open_view("bob") is None
    p.slack.press_button("bob", offer[0]["channel"], offer[0]["ts"], "threadline.open_form")
    modal = wait_until("the ticket form", lambda: p.slack.open_view("bob"), timeout=60)
    assert modal["callback_id"] == "threadline.open_ticket"
    assert {b["block_id"]: b for b in modal["blocks"]}["description"]["element"]["initial_value"] == "Printer jammed"

"""Event webhooks as a listening endpoint receives them: signed as Zendesk signs them (checked
here independently), shaped as Zendesk documents them (and as our topic contract accepts them),
in order per ticket, retried on failure; fired by API changes (our own comments included, as in
Zendesk), by the agent interface, by inbound email and by the close automation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import socket
from pathlib import Path

import jsonschema
import pytest
import requests
from zenpy.lib.api_objects import Comment, Ticket, User

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
DETAIL_FIELDS = {  # https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/
    "actor_id",
    "assignee_id",
    "brand_id",
    "created_at",
    "custom_status",
    "description",
    "external_id",
    "form_id",
    "group_id",
    "id",
    "is_public",
    "organization_id",
    "priority",
    "requester_id",
    "status",
    "subject",
    "submitter_id",
    "tags",
    "type",
    "updated_at",
    "via",
}


def contract_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((ROOT / "schemas" / "json" / "threadline.zendesk.events.v1.schema.json").read_text())
    return jsonschema.Draft202012Validator({"$ref": "#/$defs/EventWebhookBody", "$defs": schema["$defs"]})


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    timestamp = headers["x-zendesk-webhook-signature-timestamp"]
    expected = base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest())
    return hmac.compare_digest(expected.decode(), headers["x-zendesk-webhook-signature"])


def test_ticket_events_are_signed_and_shaped_as_documented(zendesk, zen, listener, webhook_secret):
    ticket = zen.tickets.create(
        Ticket(
            subject="Printer on fire",
            comment=Comment(body="It is on fire"),
            requester=User(name="Alice", email="alice@sandbox-corp.example"),
            external_id="T0SANDBOX:C0SUPPORT:1.1",
            tags=["slack"],
            group_id=zendesk.group_id,
            priority="high",
        )
    ).ticket
    # Our integration's own comment fires comment_added too, as in Zendesk: loops are the reader's problem.
    zen.tickets.update(Ticket(id=ticket.id, comment=Comment(body="Alice (Slack): more details")))
    agent = zendesk.zenpy(as_agent=True)  # the agent, through the API with her own credentials
    agent.tickets.update(Ticket(id=ticket.id, comment=Comment(body="VIP customer", public=False)))
    agent.tickets.update(Ticket(id=ticket.id, status="solved"))
    bodies = listener.wait_for(4)
    assert [b["type"] for b in bodies] == [
        "zen:event-type:ticket.created",
        "zen:event-type:ticket.comment_added",
        "zen:event-type:ticket.comment_added",
        "zen:event-type:ticket.status_changed",
    ]
    validator = contract_validator()
    for headers, raw in listener.requests:
        assert verify(webhook_secret, headers, raw)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", headers["x-zendesk-webhook-signature-timestamp"])
        assert headers["x-zendesk-webhook-id"] == zendesk.webhook_id
        assert headers["x-zendesk-webhook-invocation-id"].isdigit()
        assert headers["x-zendesk-account-id"] == str(zendesk.account_id)
        assert headers["content-type"].startswith("application/json")
        body = json.loads(raw)
        validator.validate(body)
        assert set(body["detail"]) == DETAIL_FIELDS
        assert body["subject"] == f"zen:ticket:{ticket.id}" and body["zendesk_event_version"] == "2022-11-06"
        assert body["event"]["meta"]["sequence"]["position"] >= 1
    created, ours, note, solved = bodies
    detail = created["detail"]
    assert (detail["id"], detail["external_id"], detail["status"], detail["priority"]) == (
        str(ticket.id),
        "T0SANDBOX:C0SUPPORT:1.1",
        "NEW",
        "HIGH",
    )
    assert (detail["group_id"], detail["requester_id"], detail["tags"]) == (
        str(zendesk.group_id),
        str(ticket.requester_id),
        ["slack"],
    )
    assert detail["via"] == {"channel": "web_service"} and detail["description"] == "It is on fire"
    assert ours["event"]["comment"]["author"] == {
        "id": str(zendesk.api_user["id"]),
        "name": "Threadline Integration",
        "is_staff": True,
    }
    assert ours["event"]["comment"]["body"] == "Alice (Slack): more details"
    assert ours["event"]["comment"]["html_body"].startswith('<div class="zd-comment"')
    assert ours["event"]["comment"]["id"] == str(zendesk.comments_of(ticket.id)[1]["id"])
    assert note["event"]["comment"]["is_public"] is False and note["detail"]["actor_id"] == str(zendesk.agent["id"])
    assert solved["event"]["current"] == "SOLVED" and solved["event"]["previous"] == "NEW"
    assert solved["detail"]["status"] == "SOLVED" and solved["detail"]["assignee_id"] == str(zendesk.agent["id"])
    assert [c["via"]["channel"] for c in zendesk.comments_of(ticket.id)] == ["api", "api", "api"]


def test_an_email_and_the_agent_interface_make_tickets_and_comments_with_their_channel(zendesk, listener):
    base = f"{zendesk.base_url}/_sandbox"
    email = {"from_name": "Dana", "from_email": "dana@example.com", "subject": "VPN down", "body": "Since 9am"}
    ticket_id = requests.post(f"{base}/email", json={**email, "group_id": zendesk.infra_group_id}, timeout=5).json()[
        "ticket_id"
    ]
    answer = requests.post(
        f"{base}/agent/tickets/{ticket_id}", json={"body": "Restarting it", "status": "pending"}, timeout=5
    ).json()
    assert answer["ticket"]["status"] == "pending" and answer["comment_id"]
    requests.post(f"{base}/email", json={**email, "ticket_id": ticket_id, "body": "Works, thanks"}, timeout=5)
    created, answered, pending, replied, reopened = listener.wait_for(5)
    assert created["type"] == "zen:event-type:ticket.created"
    assert created["detail"]["via"] == {"channel": "mail"} and created["detail"]["group_id"] == str(
        zendesk.infra_group_id
    )
    assert answered["event"]["comment"]["author"]["is_staff"] is True
    assert (pending["event"]["current"], pending["event"]["previous"]) == ("PENDING", "NEW")
    assert replied["event"]["comment"]["author"]["is_staff"] is False
    assert (reopened["event"]["current"], reopened["event"]["previous"]) == ("OPEN", "PENDING")
    assert answered["event"]["meta"]["sequence"]["id"] == pending["event"]["meta"]["sequence"]["id"]
    comments = zendesk.comments_of(ticket_id)
    assert [c["via"]["channel"] for c in comments] == ["email", "web", "email"]
    assert comments[0]["via"]["source"]["from"] == {"address": "dana@example.com", "name": "Dana"}
    ticket = zendesk.ticket(ticket_id)
    assert ticket["via"]["channel"] == "email" and ticket["recipient"] == "support@sandbox.zendesk.com"
    # Mail to a closed ticket opens a follow-up, as Zendesk does.
    zendesk.agent_set_status(ticket_id, "closed")
    followup = zendesk.email_reply(ticket_id, "dana@example.com", "It is down again")
    assert followup != ticket_id and zendesk.ticket(ticket_id)["followup_ids"] == [followup]
    assert zendesk.ticket(followup)["via"]["source"]["rel"] == "follow_up"


def test_failed_deliveries_are_retried_and_later_events_wait_their_turn(zendesk, zen, listener):
    listener.statuses = [500, 503]
    ticket = zen.tickets.create(Ticket(subject="Retry me", comment=Comment(body="x"))).ticket
    zen.tickets.update(Ticket(id=ticket.id, comment=Comment(body="second")))
    assert zendesk.wait_for_deliveries()
    attempts = [
        (json.loads(raw)["type"].rsplit(".", 1)[1], h["x-zendesk-webhook-invocation-id"])
        for h, raw in listener.requests
    ]
    assert [kind for kind, _ in attempts] == ["created", "created", "created", "comment_added"]
    assert len({invocation for kind, invocation in attempts if kind == "created"}) == 1  # one invocation, retried
    assert [(d.attempt, d.status) for d in zendesk.deliveries] == [(1, 500), (2, 503), (3, 200), (1, 200)]
    assert [b["type"] for b in zendesk.delivered()] == [
        "zen:event-type:ticket.created",
        "zen:event-type:ticket.comment_added",
    ]


def test_an_unreachable_target_is_given_up_after_the_retries(zendesk, zen, listener):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/gone"
    zendesk.set_knobs(webhook_max_retries=1)
    targets = requests.put(
        f"{zendesk.base_url}/_sandbox/webhooks", json={"urls": [dead, listener.url]}, timeout=5
    ).json()
    assert targets["urls"] == [dead, listener.url]
    zen.tickets.create(Ticket(subject="Anyone?", comment=Comment(body="x")))
    assert zendesk.wait_for_deliveries()
    assert [(d.url, d.attempt, d.status, d.error is not None) for d in zendesk.deliveries] == [
        (dead, 1, None, True),
        (dead, 2, None, True),
        (listener.url, 1, 200, False),
    ]
    recorded = requests.get(f"{zendesk.base_url}/_sandbox/deliveries", timeout=5).json()["deliveries"]
    assert [d["status"] for d in recorded] == [None, None, 200]


def test_the_close_automation_fires_its_status_change(zendesk, zen, listener):
    ticket = zen.tickets.create(Ticket(subject="Done soon", comment=Comment(body="x"))).ticket
    zen.tickets.update(Ticket(id=ticket.id, status="solved"))
    zendesk.set_knobs(close_solved_after_seconds=0)
    requests.post(f"{zendesk.base_url}/_sandbox/close_due", timeout=5)
    closed = listener.wait_for(3)[-1]
    assert closed["type"] == "zen:event-type:ticket.status_changed"
    assert (closed["event"]["current"], closed["event"]["previous"]) == ("CLOSED", "SOLVED")
    assert closed["detail"]["actor_id"] == "-1"
    assert zendesk.ticket(ticket.id)["status"] == "closed"

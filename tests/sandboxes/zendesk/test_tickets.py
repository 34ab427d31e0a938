"""Tickets through the unmodified zenpy client: create, show, update, list by external_id,
comments with pagination, audits, create_many, and Zendesk's rules (422 on closed tickets,
solved tickets closing after a delay, follow-ups). Shapes are checked against recorded
Zendesk responses (tests/fixtures/real_payloads/zendesk/api)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from zenpy.lib.api_objects import Comment, Ticket, User
from zenpy.lib.exception import APIException, RecordNotFoundException

pytestmark = pytest.mark.unit

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "real_payloads" / "zendesk" / "api"


def real(name: str) -> dict:
    return json.loads((REAL / name).read_text())


def new_ticket(zen, subject: str = "Printer on fire", **fields):
    return zen.tickets.create(Ticket(subject=subject, comment=Comment(body=f"{subject}!"), **fields)).ticket


def test_a_ticket_is_created_for_a_requester_and_found_by_its_external_id(zendesk, zen):
    audit = zen.tickets.create(
        Ticket(
            subject="Printer on fire",
            comment=Comment(body="It is on fire\n\nSend help", public=True),
            requester=User(name="Alice Asker", email="alice@sandbox-corp.example"),
            external_id="T0SANDBOX:C0SUPPORT:1700000000.000100",
            tags=["slack", "Floor 3"],
            group_id=zendesk.group_id,
            priority="high",
            custom_fields=[{"id": 360001, "value": "printer"}],
        )
    )
    ticket = audit.ticket
    assert (ticket.status, ticket.priority, ticket.group_id) == ("new", "high", zendesk.group_id)
    assert ticket.tags == ["3", "floor", "slack"]  # Zendesk splits and lower-cases tags
    assert ticket.brand_id == zendesk.brand_id and ticket.ticket_form_id is not None
    alice = zen.users(id=ticket.requester_id)
    assert (alice.email, alice.role) == ("alice@sandbox-corp.example", "end-user")
    # The requester submitted it and wrote the first comment, through the API.
    [first] = zen.tickets.comments(ticket=ticket.id)
    assert (first.author_id, first.via.channel, ticket.submitter_id) == (alice.id, "api", alice.id)
    assert (
        first.html_body
        == '<div class="zd-comment" dir="auto"><p dir="auto">It is on fire</p><p dir="auto">Send help</p></div>'
    )
    # zenpy puts the external id in the query string as it is: a caller quotes it.
    found = list(zen.tickets(external_id=quote("T0SANDBOX:C0SUPPORT:1700000000.000100", safe="")))
    assert [t.id for t in found] == [ticket.id]
    assert list(zen.tickets(external_id="nothing-like-it")) == []
    assert zen.tickets(id=ticket.id).custom_fields == [{"id": 360001, "value": "printer"}]


def test_create_show_and_update_answer_in_zendesks_shapes(zendesk, auth):
    url = f"{zendesk.base_url}/api/v2/tickets.json"
    created = requests.post(url, json={"ticket": {"description": "test", "subject": "test"}}, auth=auth, timeout=5)
    recorded = real("create_ticket_201_zenpy_recorded.json")
    meta = real("create_ticket_201_zenpy_recorded.http_meta.json")
    assert created.status_code == meta["status"]["code"] == 201
    body = created.json()
    assert set(body) == set(recorded) and set(recorded["ticket"]) <= set(body["ticket"])
    assert set(recorded["audit"]) == set(body["audit"])
    assert {e["type"] for e in body["audit"]["events"]} == {e["type"] for e in recorded["audit"]["events"]}
    assert body["audit"]["events"][0]["body"] == "test" and body["ticket"]["description"] == "test"
    assert created.headers["location"] == body["ticket"]["url"]
    for header in ("x-rate-limit", "x-rate-limit-remaining", "content-type"):
        assert header in created.headers and header in {k.lower() for k in meta["response_headers"]}
    assert created.headers["content-type"] == "application/json; charset=utf-8"

    ticket_url = f"{zendesk.base_url}/api/v2/tickets/{body['ticket']['id']}.json"
    shown = requests.get(ticket_url, auth=auth, timeout=5).json()
    assert set(real("show_ticket_200_zenpy_recorded.json")["ticket"]) <= set(shown["ticket"])
    # As zenpy sends it: the id in the body too, which Zendesk ignores with a warning.
    update = {"ticket": {"description": "x", "id": body["ticket"]["id"], "subject": "renamed"}}
    updated = requests.put(ticket_url, json=update, auth=auth, timeout=5)
    recorded_update = real("update_ticket_200_zenpy_recorded.json")
    assert set(updated.json()) == set(recorded_update) and "x-zendesk-api-warn" in updated.headers
    [change] = updated.json()["audit"]["events"]
    assert change == {**recorded_update["audit"]["events"][0], "id": change["id"], "value": "renamed"}
    missing = requests.put(
        f"{zendesk.base_url}/api/v2/tickets/9223372036854775807.json", json=update, auth=auth, timeout=5
    )
    assert (missing.status_code, missing.json()) == (
        404,
        real("update_ticket_404_record_not_found_zenpy_recorded.json"),
    )


def test_updates_add_comments_change_fields_and_are_audited(zendesk, zen):
    ticket = new_ticket(zen, tags=["slack"])
    ticket.comment = Comment(body="Which floor?", public=True)
    ticket.status = "pending"
    ticket.tags = ["slack", "printer"]
    zen.tickets.update(ticket)
    zen.tickets.update(Ticket(id=ticket.id, comment=Comment(body="Internal: third fire", public=False)))
    zen.tickets.update(Ticket(id=ticket.id, additional_tags=["urgent"], remove_tags=["slack"]))
    comments = list(zen.tickets.comments(ticket=ticket.id))
    assert [(c.body, c.public, c.author_id) for c in comments] == [
        ("Printer on fire!", True, zendesk.api_user["id"]),
        ("Which floor?", True, zendesk.api_user["id"]),
        ("Internal: third fire", False, zendesk.api_user["id"]),
    ]
    shown = zen.tickets(id=ticket.id)
    assert (shown.status, shown.tags) == ("pending", ["printer", "urgent"])
    audits = list(zen.tickets.audits(ticket=ticket.id))
    assert len(audits) == 4
    status_change = next(e for e in audits[1].events if e.get("field_name") == "status")
    assert (status_change["type"], status_change["previous_value"], status_change["value"]) == (
        "Change",
        "new",
        "pending",
    )
    # The requester's public reply reopens a ticket that waits on them.
    zen.tickets.update(Ticket(id=ticket.id, comment=Comment(body="Floor 3", author_id=shown.requester_id)))
    assert zen.tickets(id=ticket.id).status == "pending"  # the requester is our API user, an admin here
    customer = zen.users.create_or_update(User(name="Cora Customer", email="cora@example.com"))
    waiting = new_ticket(zen, requester_id=customer.id, status="pending")
    zen.tickets.update(Ticket(id=waiting.id, comment=Comment(body="Still broken", author_id=customer.id)))
    assert zen.tickets(id=waiting.id).status == "open"


def test_comments_come_in_pages_as_zenpy_and_zendesk_page_them(zendesk, zen, auth):
    ticket = new_ticket(zen)
    for n in range(104):
        zendesk.agent_comment(ticket.id, f"answer {n}")
    # zenpy asks for pages of 100 and follows links.next while meta.has_more.
    bodies = [c.body for c in zen.tickets.comments(ticket=ticket.id)]
    assert bodies == ["Printer on fire!", *(f"answer {n}" for n in range(104))]
    url = f"{zendesk.base_url}/api/v2/tickets/{ticket.id}/comments.json?include_inline_images=false&page[size]=40"
    pages = []
    while url:
        page = requests.get(url, auth=auth, timeout=5).json()
        pages.append(len(page["comments"]))
        url = page["links"]["next"] if page["meta"]["has_more"] else None
    assert pages == [40, 40, 25]
    recorded = real("list_ticket_comments_200_with_attachment_zenpy_recorded.json")
    assert set(page) == set(recorded) and set(page["meta"]) == set(recorded["meta"])
    assert set(page["comments"][0]) == set(recorded["comments"][0])
    newest = requests.get(
        f"{zendesk.base_url}/api/v2/tickets/{ticket.id}/comments.json?sort_order=desc&page[size]=2",
        auth=auth,
        timeout=5,
    ).json()
    assert [c["body"] for c in newest["comments"]] == ["answer 103", "answer 102"]


def test_closed_tickets_refuse_updates_with_zendesks_error(zendesk, zen):
    ticket = new_ticket(zen)
    zendesk.agent_set_status(ticket.id, "closed")
    with pytest.raises(APIException) as refused:
        zen.tickets.update(Ticket(id=ticket.id, comment=Comment(body="Anyone?")))
    assert refused.value.response.status_code == 422
    assert refused.value.response.json() == {
        "error": "RecordInvalid",
        "description": "Record validation errors",
        "details": {"status": [{"description": "Status: closed prevents ticket update"}]},
    }
    assert len(zendesk.comments_of(ticket.id)) == 1
    with pytest.raises(RecordNotFoundException):
        zen.tickets(id=999_999_999_999)


def test_solved_tickets_close_after_the_configured_delay(zendesk, zen):
    zendesk.set_knobs(close_solved_after_seconds=3600)
    ticket = new_ticket(zen)
    zen.tickets.update(Ticket(id=ticket.id, status="solved"))
    solved = zen.tickets(id=ticket.id)
    assert solved.status == "solved" and solved.assignee_id == zendesk.api_user["id"]  # solving assigns
    zendesk.set_knobs(close_solved_after_seconds=0)
    assert zen.tickets(id=ticket.id).status == "closed"  # the automation ran before the request
    [closing] = [a for a in zendesk.audits_of(ticket.id) if a["via"]["channel"] == "rule"]
    assert closing["author_id"] == -1 and closing["events"][0]["value"] == "closed"


def test_a_follow_up_of_a_closed_ticket_links_both_ways(zendesk, zen):
    first = new_ticket(zen, "VPN down", requester=User(name="Dana", email="dana@example.com"))
    open_one = new_ticket(zen, "Still open")
    with pytest.raises(APIException) as refused:
        zen.tickets.create(Ticket(subject="x", comment=Comment(body="x"), via_followup_source_id=open_one.id))
    assert refused.value.response.status_code == 422
    zendesk.agent_set_status(first.id, "closed")
    followup = zen.tickets.create(
        Ticket(subject="VPN down again", comment=Comment(body="It is back"), via_followup_source_id=first.id)
    ).ticket
    assert followup.via.source.rel == "follow_up" and followup.via.source.from_["ticket_id"] == first.id
    assert followup.via_followup_source_id == first.id
    assert followup.requester_id == first.requester_id  # a follow-up keeps the requester
    assert zen.tickets(id=first.id).followup_ids == [followup.id]


def test_create_many_runs_as_a_job(zendesk, zen):
    job = zen.tickets.create([Ticket(subject=s, comment=Comment(body=s)) for s in ("one", "two")])
    assert job.status == "queued"
    done = zen.job_status(id=job.id)
    assert done.status == "completed" and len(done.results) == 2
    assert sorted(zen.tickets(id=r.id).subject for r in done.results) == ["one", "two"]


def test_invalid_tickets_are_refused_before_anything_is_stored(zendesk, zen):
    for fields in (
        {"comment": Comment(body="")},
        {"comment": Comment(body="x"), "priority": "whenever"},
        {"comment": Comment(body="x"), "group_id": 424242},
        {"comment": Comment(body="x", uploads=["no-such-upload"])},
    ):
        with pytest.raises(APIException) as refused:
            zen.tickets.create(Ticket(subject="bad", **fields))
        assert refused.value.response.json()["error"] == "RecordInvalid"
    assert zendesk.tickets() == []

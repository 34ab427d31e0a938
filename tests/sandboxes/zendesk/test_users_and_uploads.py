"""Users, groups, brands, uploads and attachments through the unmodified zenpy client."""

from __future__ import annotations

import io

import pytest
import requests
from zenpy.lib.api_objects import Comment, Ticket, User
from zenpy.lib.exception import APIException

pytestmark = pytest.mark.unit


def test_users_are_created_or_updated_by_email_and_found(zendesk, zen, auth):
    first = zen.users.create_or_update(User(name="Bob", email="bob@sandbox-corp.example"))
    again = zen.users.create_or_update(User(name="Bob Builder", email="BOB@sandbox-corp.example"))
    assert first.id == again.id and again.name == "Bob Builder" and again.role == "end-user"
    assert [u.id for u in zen.users.search(query="email:bob@sandbox-corp.example")] == [first.id]
    assert [u.id for u in zen.users.search(query="Builder")] == [first.id]
    assert list(zen.users.search(query="email:nobody@example.com")) == []
    by_external = zen.users.create_or_update(User(name="Slack Guest", external_id="slack:T0PARTNER:U0GUEST"))
    assert [u.id for u in zen.users.search(external_id="slack:T0PARTNER:U0GUEST")] == [by_external.id]
    assert by_external.email is None
    assert zen.users(id=first.id).email == "bob@sandbox-corp.example"
    assert sorted(u.id for u in zen.users(ids=[first.id, by_external.id])) == sorted([first.id, by_external.id])
    # Zendesk answers 201 when it created the user, 200 when it updated one.
    url = f"{zendesk.base_url}/api/v2/users/create_or_update.json"
    statuses = [
        requests.post(
            url, json={"user": {"name": "Eve", "email": "eve@example.com"}}, auth=auth, timeout=5
        ).status_code,
        requests.post(
            url, json={"user": {"name": "Eve E.", "email": "eve@example.com"}}, auth=auth, timeout=5
        ).status_code,
    ]
    assert statuses == [201, 200]
    with pytest.raises(APIException) as taken:
        zen.users.create(User(name="Bob again", email="bob@sandbox-corp.example"))
    assert taken.value.response.status_code == 422


def test_me_is_whoever_the_credentials_name(zendesk, zen):
    me = zen.users.me()
    assert (me.id, me.email, me.role) == (zendesk.api_user["id"], zendesk.api_email, "admin")
    agent = zendesk.zenpy(as_agent=True).users.me()
    assert (agent.name, agent.role, agent.photo["content_url"]) == ("Agent Ann", "agent", zendesk.agent["photo"]["url"])


def test_groups_and_brands_of_the_seeded_account(zendesk, zen):
    assert {g.name: g.id for g in zen.groups()} == {
        "Support": zendesk.group_id,
        "Infrastructure": zendesk.infra_group_id,
    }
    assert zen.groups(id=zendesk.group_id).default is True
    [brand] = zen.brands()
    assert brand.id == zendesk.brand_id and zen.brands(id=brand.id).subdomain == zendesk.subdomain


def test_ticket_fields_list_the_system_fields_then_the_custom_ones(zendesk, zen):
    fields = list(zen.ticket_fields())
    assert [f.type for f in fields[:7]] == [
        "subject",
        "description",
        "status",
        "tickettype",
        "priority",
        "group",
        "assignee",
    ]
    custom = {f.id: (f.type, f.title, f.removable) for f in fields[7:]}
    assert custom == {
        360001: ("text", "Source", True),
        360002: ("tagger", "Region", True),
        360003: ("integer", "Affected users", True),
    }
    region = zen.ticket_fields(id=360002).to_dict()
    assert [(o["name"], o["value"]) for o in region["custom_field_options"]] == [
        ("EMEA", "emea"),
        ("Americas", "amer"),
        ("APAC", "apac"),
    ]
    with pytest.raises(APIException):
        zen.ticket_fields(id=999)


def test_the_seeded_ticket_form_shows_every_field(zen):
    (form,) = zen.ticket_forms()
    assert (form.id, form.name, form.active, form.default) == (1006, "Default Ticket Form", True, True)
    assert {360001, 360002, 360003} <= set(zen.ticket_forms(id=1006).ticket_field_ids)


def test_uploads_become_attachments_of_a_comment(zendesk, zen):
    log = zen.attachments.upload(io.BytesIO(b"line 1\nline 2\n"), target_name="crash.log", content_type="text/plain")
    shot = zen.attachments.upload(io.BytesIO(b"\x89PNG..."), token=log.token, target_name="screen shot.png")
    assert shot.token == log.token and [a.file_name for a in shot.attachments] == ["crash.log", "screen shot.png"]
    ticket = zen.tickets.create(
        Ticket(subject="Crash", comment=Comment(body="Logs attached", uploads=[log.token]))
    ).ticket
    [comment] = zen.tickets.comments(ticket=ticket.id)
    crash, screenshot = comment.attachments
    assert (crash.content_type, crash.size) == ("text/plain", 14)
    assert screenshot.content_type == "image/png"  # guessed from the name, as Zendesk does
    assert requests.get(crash.content_url, timeout=5).content == b"line 1\nline 2\n"
    assert zen.attachments.download(screenshot.id).getvalue() == b"\x89PNG..."
    # An upload can also go on an update, and a deleted upload is gone.
    extra = zen.attachments.upload(io.BytesIO(b"more"), target_name="more.txt")
    zen.tickets.update(Ticket(id=ticket.id, comment=Comment(body="One more", uploads=[extra.token])))
    assert [a["file_name"] for a in zendesk.comments_of(ticket.id)[-1]["attachments"]] == ["more.txt"]
    unused = zen.attachments.upload(io.BytesIO(b"oops"), target_name="oops.txt")
    zen.attachments.delete(unused.token)
    with pytest.raises(APIException):
        zen.tickets.update(Ticket(id=ticket.id, comment=Comment(body="x", uploads=[unused.token])))

"""Incremental ticket exports (cursor- and time-based) and search, through zenpy."""

from __future__ import annotations

import time

import pytest
import requests
from zenpy.lib.api_objects import Comment, Ticket, User

pytestmark = pytest.mark.unit


def create(zen, subject: str, **fields):
    return zen.tickets.create(Ticket(subject=subject, comment=Comment(body=f"{subject} details"), **fields)).ticket


def test_cursor_export_pages_through_changes_and_resumes_from_its_cursor(zendesk, zen, auth):
    ids = [create(zen, s).id for s in ("one", "two", "three")]
    # zenpy follows after_url until end_of_stream, one ticket per page here.
    exported = list(zen.tickets.incremental(start_time=0, per_page=1))
    assert [t.id for t in exported] == ids
    assert all(isinstance(t.generated_timestamp, int) for t in exported)
    url = f"{zendesk.base_url}/api/v2/incremental/tickets/cursor.json?start_time=0"
    page = requests.get(url, auth=auth, timeout=5).json()
    assert page["end_of_stream"] is True and set(page) == {
        "tickets",
        "after_cursor",
        "after_url",
        "before_cursor",
        "before_url",
        "end_of_stream",
    }
    nothing_new = requests.get(page["after_url"], auth=auth, timeout=5).json()
    assert nothing_new["tickets"] == [] and nothing_new["after_url"] == page["after_url"]
    zen.tickets.update(Ticket(id=ids[0], status="open"))
    changed = requests.get(page["after_url"], auth=auth, timeout=5).json()
    assert [t["id"] for t in changed["tickets"]] == [ids[0]] and changed["tickets"][0]["status"] == "open"


def test_time_based_export_gives_end_time_and_refuses_a_too_recent_start(zendesk, zen, auth):
    ids = [create(zen, s).id for s in ("one", "two", "three")]
    exported = zen.tickets.incremental(start_time=0, paginate_by_time=True)
    assert [t.id for t in exported] == ids
    base = f"{zendesk.base_url}/api/v2/incremental/tickets.json"
    first = requests.get(f"{base}?start_time=0&per_page=2", auth=auth, timeout=5).json()
    assert (first["count"], first["end_of_stream"]) == (2, False)
    assert first["end_time"] == first["tickets"][-1]["generated_timestamp"]
    assert f"start_time={first['end_time']}" in first["next_page"]
    recent = requests.get(f"{base}?start_time={int(time.time())}", auth=auth, timeout=5)
    assert recent.status_code == 400 and "Too recent start_time" in recent.json()["description"]


def test_search_finds_tickets_by_external_id_words_and_status(zendesk, zen):
    printer = create(zen, "Printer on fire", external_id="T0:C0SUPPORT:1.1", tags=["slack"])
    vpn = create(zen, "VPN drops", requester=User(name="Dana", email="dana@example.com"))
    zen.tickets.update(Ticket(id=vpn.id, status="solved"))
    assert [t.id for t in zen.search(type="ticket", external_id="T0:C0SUPPORT:1.1")] == [printer.id]
    assert [t.id for t in zen.search("printer", type="ticket")] == [printer.id]
    assert [t.id for t in zen.search(type="ticket", status="solved")] == [vpn.id]
    assert [t.id for t in zen.search("status<solved", type="ticket")] == [printer.id]
    assert [t.id for t in zen.search(type="ticket", tags="slack")] == [printer.id]
    assert [t.id for t in zen.search(type="ticket", requester="dana@example.com")] == [vpn.id]
    assert [u.email for u in zen.search(type="user", email="dana@example.com")] == ["dana@example.com"]


def test_search_can_lag_behind_as_zendesks_index_does(zendesk, zen):
    zendesk.set_knobs(search_index_delay_seconds=3600)
    create(zen, "Fresh ticket", external_id="fresh")
    assert list(zen.search(type="ticket", external_id="fresh")) == []
    assert len(list(zen.tickets(external_id="fresh"))) == 1  # listing by external_id is immediate
    zendesk.set_knobs(search_index_delay_seconds=0)
    assert len(list(zen.search(type="ticket", external_id="fresh"))) == 1

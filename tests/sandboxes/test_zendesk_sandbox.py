"""The Zendesk sandbox through the unmodified zenpy client, and its signed event webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, Ticket, User
from zenpy.lib.exception import APIException, RecordNotFoundException

from threadline_sandbox.zendesk import ZendeskSandbox

pytestmark = pytest.mark.unit


class Hooks:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                hooks.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/zendesk/webhook"

    def events(self, n: int) -> list[dict]:
        deadline = time.monotonic() + 10
        while len(self.received) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return [json.loads(b) for _, b in self.received]


@pytest.fixture
def hooks():
    h = Hooks()
    yield h
    h.server.shutdown()


@pytest.fixture
def zendesk(hooks, monkeypatch):
    sandbox = ZendeskSandbox(webhook_urls=[hooks.url], webhook_secret="whsec").start()
    for key, value in sandbox.zenpy_env().items():
        monkeypatch.setenv(key, value)
    yield sandbox
    sandbox.stop()


def api(z: ZendeskSandbox) -> Zenpy:
    zen = Zenpy(subdomain=z.subdomain, email=z.api_email, token=z.api_token)
    zen.disable_caching()  # read what the server holds, as a fresh process would
    return zen


def test_tickets_are_created_found_by_external_id_and_commented(zendesk):
    zen = api(zendesk)
    audit = zen.tickets.create(
        Ticket(
            subject="Printer on fire",
            comment=Comment(body="It is on fire", public=True),
            requester=User(name="Alice Asker", email="alice@sandbox-corp.example"),
            external_id="T0:C0:1.1",
            tags=["slack"],
            group_id=zendesk.group_id,
            priority="high",
        )
    )
    ticket = audit.ticket
    assert ticket.status == "new" and ticket.external_id == "T0:C0:1.1" and ticket.priority == "high"
    assert [t.id for t in zen.tickets(external_id="T0:C0:1.1")] == [ticket.id]
    assert zen.users(id=ticket.requester_id).email == "alice@sandbox-corp.example"
    ticket.comment = Comment(body="More details", public=True)
    zen.tickets.update(ticket)
    comments = list(zen.tickets.comments(ticket=ticket.id))
    assert [c.body for c in comments] == ["It is on fire", "More details"]
    assert {c.via.channel for c in comments} == {"api"}
    assert zen.tickets(id=ticket.id).subject == "Printer on fire"
    with pytest.raises(RecordNotFoundException):
        zen.tickets(id=999999)


def test_oauth_and_bad_credentials(zendesk):
    assert Zenpy(subdomain=zendesk.subdomain, oauth_token=zendesk.oauth_token).users.me().email == zendesk.api_email
    with pytest.raises(APIException):
        Zenpy(subdomain=zendesk.subdomain, email=zendesk.api_email, token="wrong").users.me()


def test_users_create_or_update_and_search(zendesk):
    zen = api(zendesk)
    first = zen.users.create_or_update(User(name="Bob", email="bob@sandbox-corp.example"))
    again = zen.users.create_or_update(User(name="Bob Builder", email="bob@sandbox-corp.example"))
    assert first.id == again.id and again.name == "Bob Builder"
    assert [u.id for u in zen.users.search(query="email:bob@sandbox-corp.example")] == [first.id]
    assert {g.name for g in zen.groups()} == {"Support", "Infrastructure"}


def test_closed_tickets_refuse_updates_and_take_follow_ups(zendesk):
    zen = api(zendesk)
    ticket = zen.tickets.create(Ticket(subject="x", comment=Comment(body="x"))).ticket
    zendesk.knobs.close_solved_after_seconds = 0
    ticket.status = "solved"
    zen.tickets.update(ticket)
    ticket = zen.tickets(id=ticket.id)
    assert ticket.status == "closed"
    ticket.comment = Comment(body="again")
    with pytest.raises(APIException) as error:
        zen.tickets.update(ticket)
    assert error.value.response.status_code == 422
    followup = zen.tickets.create(
        Ticket(subject="x again", comment=Comment(body="again"), via_followup_source_id=ticket.id)
    ).ticket
    assert followup.via.source.rel == "follow_up"
    assert zen.tickets(id=ticket.id).followup_ids == [followup.id]


def test_idempotency_key_returns_the_first_ticket(zendesk):
    auth = (f"{zendesk.api_email}/token", zendesk.api_token)
    body = {"ticket": {"subject": "once", "comment": {"body": "once"}}}
    url = f"{zendesk.base_url}/api/v2/tickets.json"
    first = requests.post(url, json=body, auth=auth, headers={"Idempotency-Key": "k1"}, timeout=5)
    second = requests.post(url, json=body, auth=auth, headers={"Idempotency-Key": "k1"}, timeout=5)
    assert first.status_code == second.status_code == 201
    assert first.json()["ticket"]["id"] == second.json()["ticket"]["id"]
    assert second.headers["x-idempotency-lookup"] == "hit"
    other = requests.post(
        url, json={"ticket": {"subject": "x"}}, auth=auth, headers={"Idempotency-Key": "k1"}, timeout=5
    )
    assert other.status_code == 400 and other.json()["error"] == "IdempotentRequestError"
    assert len(zendesk.tickets()) == 1


def test_rate_limit_answers_429_with_zendesks_headers(zendesk):
    zendesk.knobs.rate_limit_per_minute = 2
    auth = (f"{zendesk.api_email}/token", zendesk.api_token)
    responses = [requests.get(f"{zendesk.base_url}/api/v2/users/me.json", auth=auth, timeout=5) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[0].headers["x-rate-limit"] == "2" and responses[1].headers["x-rate-limit-remaining"] == "0"
    assert int(responses[2].headers["retry-after"]) >= 1


def test_uploads_attach_to_comments(zendesk):
    zen = api(zendesk)
    upload = zen.attachments.upload(io.BytesIO(b"log line\n"), target_name="crash.log", content_type="text/plain")
    ticket = zen.tickets.create(Ticket(subject="logs", comment=Comment(body="see log", uploads=[upload.token]))).ticket
    [comment] = zen.tickets.comments(ticket=ticket.id)
    assert comment.attachments[0].file_name == "crash.log"
    assert requests.get(comment.attachments[0].content_url, timeout=5).content == b"log line\n"


def test_incremental_export_lists_changed_tickets(zendesk):
    zen = api(zendesk)
    zen.tickets.create(Ticket(subject="a", comment=Comment(body="a")))
    zen.tickets.create(Ticket(subject="b", comment=Comment(body="b")))
    assert sorted(t.subject for t in zen.tickets.incremental(start_time=0)) == ["a", "b"]


def test_signed_webhooks_for_email_tickets_agent_comments_notes_and_status(zendesk, hooks):
    ticket_id = zendesk.receive_email("Dana", "dana@example.com", "VPN down", "Since 9am", zendesk.group_id)
    zendesk.agent_comment(ticket_id, "Looking into it")
    zendesk.agent_comment(ticket_id, "Customer is VIP", public=False)
    zendesk.agent_set_status(ticket_id, "solved")
    events = hooks.events(4)
    assert [e["type"] for e in events] == [
        "zen:event-type:ticket.created",
        "zen:event-type:ticket.comment_added",
        "zen:event-type:ticket.comment_added",
        "zen:event-type:ticket.status_changed",
    ]
    for headers, body in hooks.received:
        expected = base64.b64encode(
            hmac.new(
                b"whsec", headers["x-zendesk-webhook-signature-timestamp"].encode() + body, hashlib.sha256
            ).digest()
        ).decode()
        assert headers["x-zendesk-webhook-signature"] == expected
    created, public, note, status = events
    assert created["detail"]["via"]["channel"] == "email" and created["subject"] == f"zen:ticket:{ticket_id}"
    assert created["detail"]["group_id"] == str(zendesk.group_id) and created["zendesk_event_version"] == "2022-11-06"
    assert public["event"]["comment"]["is_public"] is True and public["event"]["comment"]["author"]["is_staff"] is True
    assert note["event"]["comment"]["is_public"] is False
    assert status["event"] == {"current": "SOLVED", "previous": "NEW"}

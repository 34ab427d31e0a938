"""The Webhooks API as a Zendesk client uses it (zenpy's webhooks API, and raw httpx for what
zenpy does not send): Zendesk's shapes and status codes, validation errors in Zendesk's error
format, and event deliveries to the webhooks it creates, each with its own signing secret and
only for the event types it subscribes to."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator

import httpx
import pytest
from sandboxes.zendesk.conftest import Listener
from zenpy.lib.api_objects import Comment, Ticket, User, Webhook
from zenpy.lib.exception import APIException

pytestmark = pytest.mark.unit

COMMENT_ADDED = "zen:event-type:ticket.comment_added"
CREATED = "zen:event-type:ticket.created"
ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


@pytest.fixture
def api(zendesk, auth) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=zendesk.api_url, auth=auth, timeout=10) as client:
        yield client


@pytest.fixture
def second() -> Iterator[Listener]:
    endpoint = Listener()
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()


def webhook(endpoint: str, *subscriptions: str, name: str = "Threadline", status: str = "active") -> Webhook:
    return Webhook(
        name=name,
        endpoint=endpoint,
        http_method="POST",
        request_format="json",
        status=status,
        subscriptions=list(subscriptions),
    )


def signed_by(secret: str, headers: dict[str, str], body: bytes) -> bool:
    timestamp = headers["x-zendesk-webhook-signature-timestamp"]
    expected = base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest())
    return hmac.compare_digest(expected.decode(), headers["x-zendesk-webhook-signature"])


def open_ticket(zen, zendesk) -> int:
    created = zen.tickets.create(
        Ticket(
            subject="VPN down",
            comment=Comment(body="Since this morning"),
            requester=User(name="Alice", email="alice@sandbox-corp.example"),
            group_id=zendesk.group_id,
        )
    )
    return int(created.ticket.id)


def test_a_webhook_is_created_shown_listed_and_has_a_signing_secret(zen, zendesk):
    created = zen.webhooks.create(webhook("https://threadline.example/zendesk/webhook", COMMENT_ADDED))
    assert ULID.fullmatch(created.id)
    assert (created.name, created.status, created.http_method, created.request_format) == (
        "Threadline",
        "active",
        "POST",
        "json",
    )
    assert created.subscriptions == [COMMENT_ADDED]
    assert created.created_by == str(zendesk.api_user["id"]) and created.created_at.endswith("Z")
    assert created.signing_secret is None  # never part of the webhook object: it has its own endpoint

    shown = zen.webhooks(id=created.id)
    assert shown.endpoint == "https://threadline.example/zendesk/webhook"
    assert [w.id for w in zen.webhooks.list(filter="thread")] == [created.id]
    assert list(zen.webhooks.list(filter="nothing like it")) == []

    secret = zen.webhooks.show_secret(created.id)
    assert secret.algorithm == "SHA256" and len(secret.secret) >= 32
    reset = zen.webhooks.reset_secret(created.id)
    assert reset.secret != secret.secret
    assert zen.webhooks.show_secret(created.id).secret == reset.secret


def test_update_patch_and_delete_answer_204_and_change_the_webhook(zen, api):
    created = zen.webhooks.create(webhook("https://old.example/zendesk/webhook", CREATED))
    replaced = webhook("https://new.example/zendesk/webhook", CREATED, COMMENT_ADDED, name="Renamed")
    assert zen.webhooks.update(created.id, replaced).status_code == 204
    shown = zen.webhooks(id=created.id)
    assert (shown.name, shown.endpoint, shown.subscriptions) == (
        "Renamed",
        "https://new.example/zendesk/webhook",
        [CREATED, COMMENT_ADDED],
    )
    patched = api.patch(f"webhooks/{created.id}", json={"webhook": {"status": "inactive"}})
    assert patched.status_code == 204 and patched.content == b""
    assert zen.webhooks(id=created.id).status == "inactive"
    assert zen.webhooks(id=created.id).name == "Renamed"  # a patch leaves the rest as it was

    assert api.delete(f"webhooks/{created.id}").status_code == 204
    gone = api.get(f"webhooks/{created.id}")
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["code"] == "WebhookNotFound"


def test_listing_pages_with_cursors_and_filters_by_status(zen, api):
    for n in range(5):
        zen.webhooks.create(
            webhook(f"https://h{n}.example/", CREATED, name=f"hook {n}", status="active" if n % 2 else "inactive")
        )
    first = api.get("webhooks", params={"page[size]": 2}).json()
    assert len(first["webhooks"]) == 2 and first["meta"]["has_more"] is True
    second_page = httpx.get(first["links"]["next"], auth=api.auth).json()
    assert [w["name"] for w in second_page["webhooks"]] == ["hook 2", "hook 3"]
    assert {w.name for w in zen.webhooks.list(page_size=2)} == {
        f"hook {n}" for n in range(5)
    }  # zenpy follows links.next
    active = api.get("webhooks", params={"filter[status]": "active"}).json()["webhooks"]
    assert [w["name"] for w in active] == ["hook 1", "hook 3"]
    by_name = api.get("webhooks", params={"sort": "-name"}).json()["webhooks"]
    assert by_name[0]["name"] == "hook 4"


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"endpoint": None}, "/webhook/endpoint"),
        ({"endpoint": "not a url"}, "/webhook/endpoint"),
        ({"status": "paused"}, "/webhook/status"),
        ({"http_method": "GET"}, "/webhook/subscriptions"),  # event subscriptions need POST + json
        ({"subscriptions": ["zen:event-type:ticket.created", "conditional_ticket_events"]}, "/webhook/subscriptions"),
        ({"subscriptions": ["ticket.created"]}, "/webhook/subscriptions"),
        (
            {"authentication": {"type": "basic_auth", "add_position": "header", "data": {"username": "u"}}},
            "/webhook/authentication",
        ),
    ],
)
def test_invalid_webhooks_are_refused_in_zendesks_error_format(api, change, pointer):
    body = {
        "name": "Threadline",
        "endpoint": "https://threadline.example/zendesk/webhook",
        "http_method": "POST",
        "request_format": "json",
        "status": "active",
        "subscriptions": [CREATED],
        **change,
    }
    answer = api.post("webhooks", json={"webhook": {k: v for k, v in body.items() if v is not None}})
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error["source"]["pointer"] == pointer and error["code"] and error["title"] and error["detail"]
    assert api.get("webhooks").json()["webhooks"] == []


def test_only_admins_manage_webhooks(zendesk):
    agent = (f"{zendesk.agent_email}/token", zendesk.agent_token)
    answer = httpx.get(f"{zendesk.api_url}webhooks", auth=agent)
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["code"] == "Forbidden"
    with pytest.raises(APIException):
        zendesk.zenpy(as_agent=True).webhooks.create(webhook("https://x.example/", CREATED))


def test_created_webhooks_receive_their_event_types_signed_with_their_own_secret(
    zen, zendesk, listener, second, webhook_secret, api
):
    comments = zen.webhooks.create(webhook(second.url, COMMENT_ADDED))
    secret = zen.webhooks.show_secret(comments.id).secret
    paused = zen.webhooks.create(webhook(second.url, CREATED, COMMENT_ADDED, name="paused", status="inactive"))
    authenticated = api.post(
        "webhooks",
        json={
            "webhook": {
                "name": "with auth",
                "endpoint": second.url,
                "http_method": "POST",
                "request_format": "json",
                "status": "active",
                "subscriptions": [CREATED],
                "authentication": {"type": "bearer_token", "add_position": "header", "data": {"token": "tok-123"}},
            }
        },
    ).json()["webhook"]
    assert authenticated["authentication"] == {"type": "bearer_token", "add_position": "header", "data": {}}

    ticket_id = open_ticket(zen, zendesk)  # ticket.created
    zen.tickets.update(Ticket(id=ticket_id, comment=Comment(body="Still down")))  # comment_added
    assert zendesk.wait_for_deliveries()
    # The constructor's URL still gets every event, signed with the constructor's secret.
    assert [b["type"] for b in listener.bodies()] == [CREATED, COMMENT_ADDED]
    assert all(signed_by(webhook_secret, h, raw) for h, raw in listener.requests)

    received = {(h["x-zendesk-webhook-id"], json.loads(raw)["type"]) for h, raw in second.requests}
    assert received == {(comments.id, COMMENT_ADDED), (authenticated["id"], CREATED)}
    assert paused.id not in {h["x-zendesk-webhook-id"] for h, _ in second.requests}
    for headers, raw in second.requests:
        if headers["x-zendesk-webhook-id"] == comments.id:
            assert signed_by(secret, headers, raw) and not signed_by(webhook_secret, headers, raw)
        else:
            assert headers["authorization"] == "Bearer tok-123"

    # A reset secret signs what comes next; a deleted webhook receives nothing more.
    new_secret = zen.webhooks.reset_secret(comments.id).secret
    zen.webhooks.delete(Webhook(id=authenticated["id"]))
    before = len(second.requests)
    zendesk.agent_comment(ticket_id, "We are on it")
    assert zendesk.wait_for_deliveries()
    (headers, raw), *more = second.requests[before:]
    assert not more
    assert headers["x-zendesk-webhook-id"] == comments.id and signed_by(new_secret, headers, raw)


def test_a_sandbox_without_webhook_urls_delivers_only_to_created_webhooks(second):
    from threadline_sandbox.zendesk import ZendeskSandbox

    with ZendeskSandbox() as zendesk:
        zen = zendesk.zenpy()
        zen.webhooks.create(webhook(second.url, CREATED))
        open_ticket(zen, zendesk)
        assert zendesk.wait_for_deliveries()
        assert [b["type"] for b in second.bodies()] == [CREATED]


def test_invocations_tell_what_became_of_each_event(zen, zendesk, second):
    zendesk.set_knobs(webhook_max_retries=2)
    hook = zen.webhooks.create(webhook(second.url, CREATED))
    second.statuses = [500, 500, 500]  # the first event fails every attempt; the next one succeeds
    open_ticket(zen, zendesk)
    assert zendesk.wait_for_deliveries()
    open_ticket(zen, zendesk)
    assert zendesk.wait_for_deliveries()
    invocations = list(zen.webhooks.invocations(hook))
    assert [(i.status, i.status_code) for i in invocations] == [("success", 200), ("server error", 500)]  # newest first
    failed = invocations[1]
    attempts = list(zen.webhooks.invocation_attempts(hook.id, failed.id))
    assert [(a.status, a.status_code) for a in attempts] == [("server error", 500)] * 3
    api = httpx.Client(base_url=zendesk.api_url, auth=(f"{zendesk.api_email}/token", zendesk.api_token))
    only_failed = api.get(f"webhooks/{hook.id}/invocations", params={"filter[status]": "server error"}).json()
    assert [i["id"] for i in only_failed["invocations"]] == [failed.id]
    assert only_failed["invocations"][0]["attempts_count"] == 3

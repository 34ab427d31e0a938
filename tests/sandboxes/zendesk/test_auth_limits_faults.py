"""Authentication (API token, OAuth), the rate limit with Zendesk's headers and zenpy's own
handling of 429, Idempotency-Key on ticket creation, and the fault knobs."""

from __future__ import annotations

import time

import pytest
import requests
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, Ticket, User
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded

pytestmark = pytest.mark.unit


def test_api_token_and_oauth_authenticate_and_anything_else_does_not(zendesk):
    assert zendesk.zenpy(oauth=True).users.me().id == zendesk.api_user["id"]
    assert zendesk.zenpy(as_agent=True, oauth=True).users.me().id == zendesk.agent["id"]
    # API tokens belong to the account: any agent's email with any token of the account.
    ann = Zenpy(subdomain=zendesk.subdomain, email=zendesk.agent_email, token=zendesk.api_token)
    assert ann.users.me().id == zendesk.agent["id"]
    customer = zendesk.zenpy().users.create_or_update(User(name="Cy", email="cy@example.com"))
    me = f"{zendesk.base_url}/api/v2/users/me.json"
    refused = [
        requests.get(me, auth=(f"{zendesk.api_email}/token", "wrong"), timeout=5),
        requests.get(me, auth=(f"{customer.email}/token", zendesk.api_token), timeout=5),  # end users can't
        requests.get(me, auth=(zendesk.api_email, "a-password"), timeout=5),
        requests.get(me, headers={"Authorization": "Bearer not-a-token"}, timeout=5),
        requests.get(me, timeout=5),
    ]
    assert {r.status_code for r in refused} == {401}
    assert {r.text for r in refused} == {'{"error":"Couldn\'t authenticate you"}'}
    with pytest.raises(APIException) as error:
        Zenpy(subdomain=zendesk.subdomain, email=zendesk.api_email, token="wrong").users.me()
    assert error.value.response.status_code == 401


def test_every_response_carries_the_rate_limit_and_429_says_when_to_retry(zendesk, auth):
    zendesk.set_knobs(rate_limit_per_minute=3)
    me = f"{zendesk.base_url}/api/v2/users/me.json"
    responses = [requests.get(me, auth=auth, timeout=5) for _ in range(2)]
    responses.append(requests.get(me, auth=("nobody/token", "x"), timeout=5))  # failures count too
    responses.append(requests.get(me, auth=auth, timeout=5))
    assert [r.status_code for r in responses] == [200, 200, 401, 429]
    assert [r.headers["x-rate-limit"] for r in responses] == ["3"] * 4
    assert [r.headers["x-rate-limit-remaining"] for r in responses] == ["2", "1", "0", "0"]
    limited = responses[-1]
    # As Zendesk answers it: a plain-text sentence, not JSON.
    assert limited.headers["content-type"].startswith("text/plain")
    assert limited.text == "Number of allowed API requests per minute exceeded"
    assert 1 <= int(limited.headers["retry-after"]) <= 60


def test_the_incremental_exports_have_their_own_limit_and_say_so_in_json(zendesk, auth):
    zendesk.set_knobs(incremental_rate_limit_per_minute=2)
    export = f"{zendesk.base_url}/api/v2/incremental/tickets/cursor.json"
    start = {"start_time": int(time.time()) - 3600}
    answers = [requests.get(export, params=start, auth=auth, timeout=5) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert answers[-1].json() == {
        "error": "APIRateLimitExceeded",
        "description": "Number of allowed incremental export API requests per minute exceeded",
    }
    assert int(answers[-1].headers["retry-after"]) >= 1
    me = requests.get(f"{zendesk.base_url}/api/v2/users/me.json", auth=auth, timeout=5)
    assert me.status_code == 200  # the account's own limit is not spent


def test_zenpy_waits_out_a_429_itself_unless_its_budget_is_spent(zendesk, zen, caplog):
    zendesk.set_knobs(rate_limit_per_minute=1)
    impatient = zendesk.zenpy(ratelimit_budget=1)
    impatient.users.me()
    with pytest.raises(RatelimitBudgetExceeded):
        impatient.users.me()  # a 429 asking to wait far longer than the budget
    zendesk.set_knobs(rate_limit_per_minute=2, rate_limit_window_seconds=1)
    # Two calls allowed per second: zenpy sleeps Retry-After and repeats the call itself.
    assert [zen.users.me().id for _ in range(3)] == [zendesk.api_user["id"]] * 3
    assert "Waiting for requested retry-after period" in caplog.text


def test_an_idempotency_key_creates_one_ticket_and_replays_its_response(zendesk, auth):
    url = f"{zendesk.base_url}/api/v2/tickets.json"
    body = {"ticket": {"subject": "Printer offline", "comment": {"body": "Restarting doesn't help."}}}
    first = requests.post(url, json=body, auth=auth, headers={"Idempotency-Key": "key-1"}, timeout=5)
    again = requests.post(url, json=body, auth=auth, headers={"Idempotency-Key": "key-1"}, timeout=5)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.headers["x-idempotency-lookup"] == "miss" and again.headers["x-idempotency-lookup"] == "hit"
    assert again.json() == first.json()
    other = requests.post(
        url,
        json={"ticket": {**body["ticket"], "subject": "Other"}},
        auth=auth,
        headers={"Idempotency-Key": "key-1"},
        timeout=5,
    )
    assert other.status_code == 400
    assert other.json() == {
        "error": "IdempotentRequestError",
        "description": "Request parameters don't match the original request for this idempotency key",
    }
    without = requests.post(url, json=body, auth=auth, timeout=5)
    assert "x-idempotency-lookup" not in without.headers
    assert len(zendesk.tickets()) == 2


def test_a_lost_response_is_safe_to_retry_with_the_same_key_through_zenpy(zendesk, zen):
    # Zenpy has no per-request headers: like zendesk-sync, set the key on its session.
    zen.tickets.session.headers["Idempotency-Key"] = "slack-T0:C0:1700000000.000100"
    zendesk.set_knobs(error_rate=1.0, errors_after_commit=True)
    ticket = Ticket(subject="Printer on fire", comment=Comment(body="Help"))
    with pytest.raises(APIException) as lost:
        zen.tickets.create(ticket)
    assert lost.value.response.status_code == 503
    assert len(zendesk.tickets()) == 1  # the ticket exists: only the response was lost
    zendesk.set_knobs(error_rate=0.0)
    retried = zen.tickets.create(Ticket(subject="Printer on fire", comment=Comment(body="Help"))).ticket
    assert [t["id"] for t in zendesk.tickets()] == [retried.id]


def test_fault_knobs_answer_500_or_503_and_can_be_set_over_http(zendesk, zen):
    zendesk.set_knobs(error_rate=1.0, error_status=500)
    with pytest.raises(APIException) as failed:
        zen.users.me()
    assert failed.value.response.status_code == 500
    knobs = requests.post(
        f"{zendesk.base_url}/_sandbox/knobs", json={"error_status": 503, "latency_seconds": 0.05}, timeout=5
    ).json()
    assert (knobs["error_status"], knobs["latency_seconds"], knobs["error_rate"]) == (503, 0.05, 1.0)
    with pytest.raises(APIException) as unavailable:
        zen.tickets.create(Ticket(subject="x", comment=Comment(body="x")))
    assert unavailable.value.response.status_code == 503 and "retry-after" in unavailable.value.response.headers
    assert zendesk.tickets() == []  # refused before doing anything
    requests.post(f"{zendesk.base_url}/_sandbox/knobs", json={"error_rate": 0}, timeout=5)
    assert zen.users.me().id == zendesk.api_user["id"]  # slower, and fine
    bad = requests.post(f"{zendesk.base_url}/_sandbox/knobs", json={"no_such_knob": 1}, timeout=5)
    assert bad.status_code == 400


def test_unknown_endpoints_answer_as_zendesk_does(zendesk, auth):
    response = requests.get(f"{zendesk.base_url}/api/v2/no_such_things.json", auth=auth, timeout=5)
    assert (response.status_code, response.json()) == (404, {"error": "InvalidEndpoint", "description": "Not found"})

"""The PagerDuty sandbox over HTTP: token auth, PagerDuty's shapes and errors, who is on call
for an escalation policy or a schedule, rotations and overrides, and the command line."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from threadline_sandbox.common import free_port
from threadline_sandbox.pagerduty import PagerDutySandbox

pytestmark = pytest.mark.unit

MONDAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> list[dt.datetime]:
    return [MONDAY]


@pytest.fixture
def pd(clock) -> Iterator[PagerDutySandbox]:
    sandbox = PagerDutySandbox(clock=lambda: clock[0]).start()
    yield sandbox
    sandbox.stop()


def get(pd: PagerDutySandbox, path: str, token: str | None = None, **params) -> httpx.Response:
    headers = {"Accept": "application/vnd.pagerduty+json;version=2"}
    headers["Authorization"] = f"Token token={token or pd.token}"
    return httpx.get(f"{pd.base_url}{path}", params=params, headers=headers)


def test_requests_without_a_valid_token_are_refused_as_pagerduty_does(pd):
    assert httpx.get(f"{pd.base_url}/oncalls").status_code == 401
    response = get(pd, "/oncalls", token="wrong")
    assert response.status_code == 401
    assert response.json() == {"error": {"message": "Unauthorized", "code": 2006}}
    bearer = httpx.get(f"{pd.base_url}/oncalls", headers={"Authorization": f"Bearer {pd.token}"})
    assert bearer.status_code == 401, "PagerDuty's REST keys use the Token scheme"


def test_an_escalation_policy_lists_its_levels_in_order_with_references(pd):
    body = get(pd, "/oncalls", **{"escalation_policy_ids[]": "PPOLSUP"}).json()
    assert [(o["escalation_level"], o["user"]["summary"]) for o in body["oncalls"]] == [
        (1, "Agent Ann"),
        (2, "Sam Reliability"),
    ]
    primary, secondary = body["oncalls"]
    assert primary["user"] == {
        "id": "PANN001",
        "type": "user_reference",
        "summary": "Agent Ann",
        "self": f"{pd.base_url}/users/PANN001",
        "html_url": "https://sandbox-corp.pagerduty.com/users/PANN001",
    }
    assert primary["schedule"]["id"] == "PSCHSUP" and primary["start"] and primary["end"]
    assert secondary["schedule"] is None and secondary["start"] is None, "a user target is always on call"
    assert (body["limit"], body["offset"], body["more"], body["total"]) == (25, 0, False, None)


def test_a_schedule_rotates_and_an_override_wins(pd, clock):
    def on_call() -> list[str]:
        body = get(pd, "/oncalls", **{"schedule_ids[]": "PSCHINF"}).json()
        return [o["user"]["id"] for o in body["oncalls"]]

    assert on_call() == ["PSAM001"]
    clock[0] = MONDAY + dt.timedelta(days=1)
    assert on_call() == ["PBOB001"], "24-hour turns"
    at_since = get(pd, "/oncalls", **{"schedule_ids[]": "PSCHINF", "since": "2026-11-25T10:00:00Z"}).json()
    assert [o["user"]["id"] for o in at_since["oncalls"]] == ["PSAM001"]
    pd.override("PSCHINF", "PANN001")
    assert on_call() == ["PANN001"]
    pd.override("PSCHINF", None)
    assert on_call() == ["PBOB001"]


def test_users_are_full_objects_and_unknown_ones_are_404(pd):
    user = get(pd, "/users/PSAM001").json()["user"]
    assert (user["type"], user["name"], user["email"]) == ("user", "Sam Reliability", "sam@sandbox-corp.example")
    missing = get(pd, "/users/PNOBODY")
    assert missing.status_code == 404 and missing.json() == {"error": {"message": "Not Found", "code": 2100}}
    included = get(pd, "/oncalls", **{"escalation_policy_ids[]": "PPOLSUP", "include[]": "users"}).json()
    assert included["oncalls"][0]["user"]["email"] == "ann@sandbox-corp.example"


def test_pages_filters_and_bad_input(pd):
    everyone = get(pd, "/oncalls", total="true").json()
    assert everyone["total"] == 4 and not everyone["more"]
    page = get(pd, "/oncalls", limit=3, offset=0).json()
    assert len(page["oncalls"]) == 3 and page["more"] is True
    rest = get(pd, "/oncalls", limit=3, offset=3).json()
    assert len(rest["oncalls"]) == 1 and rest["more"] is False
    by_user = get(pd, "/oncalls", **{"user_ids[]": "PANN001"}).json()
    assert {o["escalation_policy"]["id"] for o in by_user["oncalls"]} == {"PPOLSUP", "PPOLINF"}
    assert get(pd, "/oncalls", **{"escalation_policy_ids[]": "PUNKNOWN"}).json()["oncalls"] == []
    bad = get(pd, "/oncalls", limit=1000)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 2001
    assert get(pd, "/oncalls", since="yesterday").status_code == 400


def test_the_rate_limit_answers_429(pd):
    pd.rate_limit_per_minute = 2
    assert [get(pd, "/users/PANN001").status_code for _ in range(3)] == [200, 200, 429]


def test_the_command_line_serves_the_packaged_account():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "threadline_sandbox.pagerduty", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/users/PANN001"
        headers = {"Authorization": "Token token=sandbox-pagerduty-token"}
        response = None
        for _ in range(100):
            try:
                response = httpx.get(url, headers=headers)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert response is not None and response.json()["user"]["name"] == "Agent Ann"
    finally:
        process.terminate()
        process.wait(10)

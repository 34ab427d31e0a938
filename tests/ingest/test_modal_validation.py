"""A submitted ticket form is validated by ingest in Slack's own request, before anything is
stored: a field in error is answered `response_action: errors` (the modal stays open with the
line under the field), a valid one is stored and answered with an empty 200 (the modal closes)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from ingest.support import make_settings, slack_headers
from slack_sdk.socket_mode.request import SocketModeRequest
from threadline_testing.interactions import submission

from threadline_common import ticket_form
from threadline_common.settings import KafkaSettings
from threadline_ingest.app import create_app
from threadline_ingest.socket_mode import handle_envelope

pytestmark = pytest.mark.unit

FORM = "application/x-www-form-urlencoded"
NOWHERE = KafkaSettings(bootstrap_servers="127.0.0.1:9")  # never reached: a stored record would be a 503


def form_view() -> dict[str, Any]:
    spec = [{"id": 7, "label": "Seats", "kind": "number", "options": [], "required": True}]
    meta = ticket_form.metadata(conversation="T1:C1:1.2", channel="C1", ts="1.2", requester="UALICE", form=spec)
    return ticket_form.ticket_modal(meta, subject="Printer", description="It is on fire")


def body(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


async def post(payload: dict[str, Any], stored: list[Any]) -> httpx.Response:
    app = create_app(make_settings(), NOWHERE)

    async def store(*args: Any, **_: Any) -> str:
        stored.append(args)
        return "stored"

    app.state.ingest.slack = store
    raw = body(payload)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest") as client:
        return await client.post("/slack/interactions", content=raw, headers=slack_headers(raw, content_type=FORM))


async def test_an_invalid_form_is_answered_with_its_errors_and_nothing_is_stored():
    stored: list[Any] = []
    payload = submission(form_view(), "UALICE", {"subject": "", "field:7": "a dozen"})
    response = await post(payload, stored)
    assert response.status_code == 200
    assert response.json() == {
        "response_action": "errors",
        "errors": {"subject": "A ticket needs a subject.", "field:7": "Seats must be a number."},
    }
    assert stored == []


async def test_a_valid_form_is_stored_and_closes_with_an_empty_200():
    stored: list[Any] = []
    response = await post(submission(form_view(), "UALICE", {"field:7": "12"}), stored)
    assert (response.status_code, response.content) == (200, b"")
    [(kind, payload, *_)] = stored
    assert kind == "interaction" and payload["view"]["callback_id"] == ticket_form.OPEN_TICKET


async def test_socket_mode_answers_the_same_errors_in_the_acknowledgement():
    class Refusing:
        async def slack(self, *_: Any, **__: Any) -> str:
            raise AssertionError("an invalid form must not be stored")

    payload = submission(form_view(), "UALICE", {"subject": "x" * 200, "field:7": "3"})
    request = SocketModeRequest(type="interactive", envelope_id="E1", payload=payload)
    ack = await handle_envelope(Refusing(), request)  # type: ignore[arg-type]
    assert ack == {
        "response_action": "errors",
        "errors": {"subject": "Keep the subject under 150 characters (it has 200)."},
    }

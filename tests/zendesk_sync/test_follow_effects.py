"""`/support status`, Show latest comment, follow checks and `/support oncall`, performed against
the Slack, Zendesk and PagerDuty sandboxes from the commands the router's rules emit: what the
person who asked is answered, and who may see what."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from threadline_common.channels import parse_channels
from threadline_common.models import CommandV4
from threadline_router.rules.commands import (
    check_follower,
    describe_ticket,
    direct_message,
    oncall_answer,
    report_answer,
)
from threadline_router.rules.follows import DEFAULT_CHOICES, parse_choices, update_blocks
from threadline_sandbox.common import BackgroundServer
from threadline_sandbox.pagerduty import PagerDutySandbox
from threadline_zendesk_sync.app import decode_command
from threadline_zendesk_sync.effects import Effects
from threadline_zendesk_sync.plan.failures import PermanentError

from .conftest import NOW, Router, user

pytestmark = pytest.mark.integration

URL = "https://hooks.slack.com/commands/T0SANDBOX/1/x"


def as_sent(command: Any) -> CommandV4:
    """A command as zendesk-sync reads it off Kafka (stamped as `route` stamps it)."""
    command.issued_at = NOW
    command.cause = msgspec.convert({"topic": "threadline.slack.events", "event_id": "e1"}, type(command.cause))
    return decode_command(msgspec.json.encode(command))


@pytest.fixture
def answers(effects: Effects, monkeypatch) -> list[dict[str, Any]]:
    """What reaches response_url (the transport is slack.respond's, tested with it)."""
    said: list[dict[str, Any]] = []

    async def respond(response_url: str, **message: Any) -> bool:
        said.append({"url": response_url, **message})
        return True

    monkeypatch.setattr(effects.slack, "respond", respond)
    return said


async def open_ticket(slack, router: Router, effects: Effects, text: str) -> int:
    root = user(slack, "alice").chat_postMessage(channel="C0SUPPORT", text=text)["ts"]
    [create] = router.message(slack, "C0SUPPORT", root)
    outcome = await effects.perform(create)
    router.results(outcome)
    return int(outcome.results[0].ticket_id)


def status(ticket_id: int, who: str = "U0ALICE", show: str = "status", choices=None) -> CommandV4:
    command = describe_ticket(f"ticket:{ticket_id}", f"status:{who}:{ticket_id}:{show}", who, URL, ticket_id,
                              show, choices)  # type: ignore[arg-type]  # fmt: skip
    return as_sent(command)


def follow(ticket_id: int, who: str, words: tuple[str, ...] = ()) -> CommandV4:
    choices = parse_choices([str(ticket_id), *words]) if words else DEFAULT_CHOICES
    assert not isinstance(choices, str)
    return as_sent(check_follower(f"follow:{who}:{ticket_id}", "T0SANDBOX", who, URL, ticket_id, choices))


async def test_status_answers_number_link_status_assignee_last_update_and_wait(
    slack, zendesk, router, effects, answers
):
    ticket_id = await open_ticket(slack, router, effects, "The printer is on fire and it smells like toast")
    outcome = await effects.perform(status(ticket_id))
    [said] = answers
    assert outcome.effect == "done" and outcome.results == []
    assert said["url"] == URL and said["response_type"] == "ephemeral"
    text = said["text"]
    assert f"|Ticket #{ticket_id}>" in text and zendesk.ticket_url(ticket_id) in text
    assert "The printer is on fire" in text  # the subject
    assert "Status: *new*. Assignee: nobody yet." in text
    assert "Last public update: *Alice Asker*" in text and ">The printer is on fire and it smells like toast" in text
    assert "Waiting on support for" in text

    zendesk.agent_comment(ticket_id, "Have you tried a fire extinguisher? " * 10, status="pending")
    await effects.perform(status(ticket_id))
    text = answers[-1]["text"]
    assert "Status: *pending*" in text and "Last public update: *Agent Ann*" in text
    assert "Waiting on the requester for" in text
    assert len(text.split("\n>")[1].split("\n")[0]) <= 201  # the first 200 characters


async def test_a_ticket_that_does_not_exist_gets_one_line(slack, router, effects, answers):
    outcome = await effects.perform(status(999999))
    assert [a["text"] for a in answers] == ["There is no ticket #999999 (or Threadline cannot see it)."]
    assert outcome.results == []
    await effects.perform(follow(999999, "U0ALICE"))
    assert answers[-1]["text"] == "There is no ticket #999999 (or Threadline cannot see it)."


async def test_a_failure_for_good_is_told_in_one_line_then_reported(slack, effects, answers, monkeypatch):
    async def forbidden(ticket_id: int) -> Any:
        raise PermanentError("Zendesk answered 403: Forbidden")

    monkeypatch.setattr(effects.zendesk, "ticket", forbidden)
    with pytest.raises(PermanentError):
        await effects.perform(status(42))
    assert [a["text"] for a in answers] == [
        "Threadline could not get ticket #42 just now: Zendesk answered 403: Forbidden"
    ]


async def test_someone_who_may_not_see_a_ticket_is_refused(slack, zendesk, router, effects, answers):
    # Emailed by a customer: no Slack thread. Bob is neither an agent, its requester nor a CC.
    ticket_id = zendesk.receive_email("Dana", "dana@example.com", "Salary question", "Private!")
    refused = await effects.perform(follow(ticket_id, "U0BOB"))
    await effects.perform(status(ticket_id, who="U0BOB"))
    assert refused.results == []
    for said in answers:
        assert said["text"].startswith(f"You may not see ticket #{ticket_id}")
        assert "Private" not in said["text"]


async def test_the_requester_may_follow_an_emailed_ticket(slack, zendesk, router, effects, answers):
    ticket_id = zendesk.receive_email("Alice", "alice@sandbox-corp.example", "Invoice", "Where is it?")
    outcome = await effects.perform(follow(ticket_id, "U0ALICE", ("replies", "first", "100")))
    [result] = outcome.results
    assert (result.kind, result.conversation_id, result.ticket_id) == ("follower_checked", f"ticket:{ticket_id}",
                                                                        ticket_id)  # fmt: skip
    assert result.follower.user == "U0ALICE" and result.follower.sees_thread is True
    assert (result.follower.choices.what, result.follower.choices.chars) == (["agent_replies"], 100)
    assert result.ticket_url == zendesk.ticket_url(ticket_id)
    assert answers[-1]["text"].startswith(f"You now follow ticket <{zendesk.ticket_url(ticket_id)}|#{ticket_id}>")
    assert "agents' replies, with the first 100 characters of each comment" in answers[-1]["text"]


async def test_a_member_of_the_thread_s_channel_may_follow_an_agent_outside_it_reads_no_text(
    slack, zendesk, router, effects, answers, zen
):
    ticket_id = await open_ticket(slack, router, effects, "VPN is down")  # a thread in #support
    bob = await effects.perform(follow(ticket_id, "U0BOB"))  # in #support
    assert bob.results[0].follower.sees_thread is True
    # Gina is a Slack Connect guest: no email, not in #support, no Zendesk user.
    await effects.perform(follow(ticket_id, "U0GUEST"))
    assert answers[-1]["text"].startswith(f"You may not see ticket #{ticket_id}")
    # Bob becomes a Zendesk agent, and the thread is in #infra-help, which he is not in.
    zendesk.account.create_user({"name": "Bob Builder", "email": "bob@sandbox-corp.example", "role": "agent"})
    infra = zendesk.receive_email("Carl", "carl@example.com", "Disk full", "help")
    zen_ticket = zen.tickets(id=infra)
    zen_ticket.external_id = "T0SANDBOX:C0INFRA:1700000000.000100"
    zen.tickets.update(zen_ticket)
    agent = await effects.perform(follow(infra, "U0BOB"))
    assert agent.results[0].follower.sees_thread is False
    assert agent.results[0].channel_id == "C0INFRA"


async def test_show_latest_comment_reads_as_the_follower_chose(slack, zendesk, router, effects, answers):
    ticket_id = zendesk.receive_email("Alice", "alice@sandbox-corp.example", "Invoice", "Where is it?")
    zendesk.agent_comment(ticket_id, "Sent it to your inbox this morning, with the VAT.")
    zendesk.agent_comment(ticket_id, "internal: she asked twice", public=False)
    first = parse_choices([str(ticket_id), "first", "12"])
    summary = parse_choices([str(ticket_id), "summary"])
    await effects.perform(status(ticket_id, show="latest_comment", choices=first))
    await effects.perform(status(ticket_id, show="latest_comment", choices=summary))
    short, summarised = (a["text"] for a in answers)
    assert "by *Agent Ann*" in short and ">Sent it to y…" in short and "internal" not in short
    assert "Sent" not in summarised and "Summary only" in summarised


@pytest.fixture
def pagerduty() -> Iterator[PagerDutySandbox]:
    sandbox = PagerDutySandbox().start()
    yield sandbox
    sandbox.stop()


async def test_oncall_names_who_is_on_call_for_the_channel(slack, settings, pagerduty, router, monkeypatch):
    effects = Effects(
        settings.model_copy(
            update={"pagerduty_api_url": pagerduty.base_url, "pagerduty_api_token": SecretStr(pagerduty.token)}
        )
    )
    said: list[str] = []

    async def respond(response_url: str, **message: Any) -> bool:
        said.append(message["text"])
        return True

    monkeypatch.setattr(effects.slack, "respond", respond)
    rules = parse_channels({"channels": {"C0SUPPORT": {"on_call": {"escalation_policy_id": "PPOLSUP"}}}})
    command = oncall_answer("T0SANDBOX:C0SUPPORT:command:U0ALICE", "oncall-answer:e1", "U0ALICE", URL, "C0SUPPORT",
                            rules.channels["C0SUPPORT"])  # fmt: skip
    await effects.perform(as_sent(command))
    assert said == [":pager: On call for <#C0SUPPORT> now: *Agent Ann* (primary), <@U0SRE> (secondary)."]


@pytest.fixture
def reporter() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The reporter's API as zendesk-sync reads it (GET /reports/{kind}, bearer token, 404 for a
    channel it does not report on): what it was asked, and its address."""
    asked: list[dict[str, Any]] = []

    async def report(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != "Bearer reporter-token":
            return JSONResponse({"detail": "unauthorized"}, status_code=401)
        asked.append({"kind": request.path_params["kind"], **request.query_params})
        if request.query_params["channel"] != "C0SUPPORT":
            return JSONResponse({"detail": "not a monitored channel"}, status_code=404)
        text = f"Daily report of #support for {request.query_params['date']}: 3 tickets"
        return JSONResponse({"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]})

    server = BackgroundServer(Starlette(routes=[Route("/reports/{kind}", report)]))
    server.start()
    yield server.url, asked
    server.stop()


async def test_report_answers_agents_and_the_report_channel_s_members(settings, reporter, router, monkeypatch):
    url, asked = reporter
    effects = Effects(
        settings.model_copy(update={"reporter_api_url": url, "reporter_api_token": SecretStr("reporter-token")})
    )
    said: list[dict[str, Any]] = []

    async def respond(response_url: str, **message: Any) -> bool:
        said.append(message)
        return True

    monkeypatch.setattr(effects.slack, "respond", respond)

    def ask(who: str, channel: str = "C0SUPPORT", report_channel: str | None = None) -> CommandV4:
        return as_sent(report_answer(f"T0SANDBOX:{channel}:command:{who}", f"report:{who}:{channel}", who, URL,
                                     "daily", channel, "2026-11-22", report_channel or channel))  # fmt: skip

    await effects.perform(ask("U0BOB"))  # a member of #support
    assert said[-1]["text"] == "Daily report of #support for 2026-11-22: 3 tickets" and said[-1]["blocks"]
    assert asked == [{"kind": "daily", "channel": "C0SUPPORT", "date": "2026-11-22", "format": "slack"}]
    await effects.perform(ask("U0BOB", report_channel="C0INFRA"))  # the reports go to #infra-help: not Bob's
    assert said[-1]["text"].startswith("The reports of <#C0SUPPORT> are for Zendesk agents and members of <#C0INFRA>")
    await effects.perform(ask("U0SRE", channel="C0INFRA"))
    assert said[-1]["text"] == "Threadline has no daily report for <#C0INFRA>."
    unconfigured = Effects(settings)  # no reporter API: one line, not silence
    monkeypatch.setattr(unconfigured.slack, "respond", respond)
    await unconfigured.perform(ask("U0BOB"))
    assert said[-1]["text"].startswith("Reports are not available from Slack here")
    assert len(asked) == 2


async def test_a_follower_s_dm_is_posted_once_with_its_buttons(slack, settings, effects):
    text = ":speech_balloon: *Agent Ann* replied on ticket #42:\n>Try turning it off"
    dm = as_sent(direct_message("ticket:42", "follow-dm:42:U0BOB:evt-1", "U0BOB", text, "follow_update",
                                update_blocks(text, 42, "https://acme.zendesk.com/agent/tickets/42", "ticket:42")))  # fmt: skip
    first = await effects.perform(dm)
    again = await Effects(settings).perform(dm)  # a redelivery, after a restart: found, not posted again
    assert (first.effect, again.effect) == ("done", "already_done")
    [message] = slack.dms("bob")
    assert message["text"] == text
    buttons = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b.get("url") or b.get("value") for b in buttons] == [
        "https://acme.zendesk.com/agent/tickets/42", "ticket:42", "ticket:42",
    ]  # fmt: skip

"""The confirmation's buttons, the message shortcuts and the ticket form performed against the
Slack and Zendesk sandboxes, from the commands the router's rules emit: the confirmation is
rewritten in place, Assign to me finds the agent by email, notes stay private, a copied message
and a `/support open` request each happen once, and an expired trigger offers the form again."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from aiohttp import web
from msgspec.structs import replace
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from threadline_testing.interactions import interaction_record, press, shortcut, submission
from zenpy.lib.api_objects import Ticket, User

from threadline_common import confirmation
from threadline_common.channels import parse_channels
from threadline_common.models.generated.commands_v4 import SlackOpenView
from threadline_router.inbound import decode_slack
from threadline_router.inbound.interactions import interaction_conversation
from threadline_router.rules import Context, command_type
from threadline_zendesk_sync.effects import Effects

from .conftest import NOW, Router, user

pytestmark = pytest.mark.integration

TEAM = "T0SANDBOX"


class Hooks:
    """response_url as Slack serves it: what each answer said."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        self.base = ""

    def url(self, name: str) -> str:
        return f"{self.base}/hooks/{name}"

    def texts(self) -> list[str]:
        return [a["text"] for a in self.answers]


@pytest.fixture
async def hooks() -> AsyncIterator[Hooks]:
    found = Hooks()

    async def answer(request: web.Request) -> web.Response:
        found.answers.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hooks/{name}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    found.base = f"http://127.0.0.1:{port}"
    yield found
    await runner.cleanup()


@pytest.fixture
def router(slack, zendesk) -> Router:
    channels = parse_channels(
        {
            "channels": {
                "C0SUPPORT": {
                    "zendesk": {
                        "group_id": zendesk.group_id,
                        "form": [{"id": 360001, "label": "Region", "kind": "select", "options": ["emea", "amer"]}],
                    },
                    "emoji": {"resolve": {"names": ["white_check_mark"], "who": "requester"}},
                },
            }
        }
    )
    return Router(Context(channels=channels, bot_user_id=slack.bot_user_id, bot_id=slack.bot_id, now=NOW))


def interaction(router: Router, payload: dict[str, Any], event_id: str, hooks: Hooks | None = None) -> list:
    """An interaction as ingest would store it, decided by the row it names."""
    if hooks is not None and payload.get("response_url"):
        payload = {**payload, "response_url": hooks.url(event_id)}
    event = decode_slack(interaction_record(payload, event_id))
    assert event is not None
    return router._apply(event, interaction_conversation(event))


def team(payload: dict[str, Any]) -> dict[str, Any]:
    """The sandbox's team in a payload built for T1."""
    return json.loads(json.dumps(payload).replace('"T1"', f'"{TEAM}"'))


async def opened(slack, router: Router, effects: Effects, text: str = "Printer on fire"):
    root = user(slack, "alice").chat_postMessage(channel="C0SUPPORT", text=text)["ts"]
    [create] = router.message(slack, "C0SUPPORT", root)
    outcome = await effects.perform(create)
    router.results(outcome)
    [posted] = [m for m in slack.thread("C0SUPPORT", root) if m.get("bot_id")]
    return root, outcome.results[0].ticket_id, posted


async def test_the_confirmation_carries_the_buttons_and_a_press_rewrites_it_in_place(slack, zendesk, router, effects):
    root, ticket_id, posted = await opened(slack, router, effects)
    cid = f"{TEAM}:C0SUPPORT:{root}"
    [actions] = [b for b in posted["blocks"] if b["type"] == "actions"]
    assert [(e.get("action_id"), e.get("value")) for e in actions["elements"]] == [
        (confirmation.RESOLVE, cid),
        (confirmation.URGENT, cid),
        (confirmation.FOLLOW, cid),
        (confirmation.ASSIGN_ME, cid),
        (confirmation.OPEN_IN_ZENDESK, None),
    ]
    pressed = team(
        press(confirmation.RESOLVE, cid, "U0ALICE", channel="C0SUPPORT", message_ts=posted["ts"], thread_ts=root)
    )
    commands = interaction(router, pressed, "EvPress1")
    assert [command_type(c) for c in commands] == ["zendesk.set_status", "slack.update_message"]
    outcomes = [await effects.perform(c) for c in commands]
    assert [o.effect for o in outcomes] == ["done", "done"]
    assert zendesk.ticket(ticket_id)["status"] == "solved"
    [shown] = [m for m in slack.thread("C0SUPPORT", root) if m["ts"] == posted["ts"]]
    assert "Solved by <@U0ALICE>" in shown["text"]
    assert confirmation.RESOLVE not in json.dumps(shown["blocks"])
    # The same update again (a redelivery) shows the same message.
    await effects.perform(commands[1])
    [again] = [m for m in slack.thread("C0SUPPORT", root) if m["ts"] == posted["ts"]]
    assert (again["text"], again["blocks"]) == (shown["text"], shown["blocks"])
    gone = await effects.perform(replace(commands[1], ts="1.000001"))
    assert gone.effect == "skipped"


async def test_assign_to_me_uses_the_agent_with_the_pressers_email_once(slack, zendesk, router, effects, hooks):
    root, ticket_id, posted = await opened(slack, router, effects)
    cid = f"{TEAM}:C0SUPPORT:{root}"

    def assign(event_id: str):
        payload = team(press(confirmation.ASSIGN_ME, cid, "U0SRE", channel="C0SUPPORT", message_ts=posted["ts"]))
        [command] = interaction(router, payload, event_id, hooks)
        return command

    assert (await effects.perform(assign("Ev1"))).effect == "skipped"
    assert hooks.texts() == ["No Zendesk agent has the email sam@sandbox-corp.example."]
    sam = zendesk.zenpy().users.create(User(name="Sam", email="sam@sandbox-corp.example", role="agent"))
    assert (await effects.perform(assign("Ev2"))).effect == "done"
    assert zendesk.ticket(ticket_id)["assignee_id"] == sam.id
    audits = len(zendesk.audits_of(ticket_id))
    assert (await effects.perform(assign("Ev3"))).effect == "already_done"
    assert len(zendesk.audits_of(ticket_id)) == audits
    assert hooks.texts()[1:] == [
        f"Ticket #{ticket_id} is assigned to you.",
        f"Ticket #{ticket_id} is already assigned to you.",
    ]
    assert all(a["response_type"] == "ephemeral" for a in hooks.answers)


async def test_add_as_internal_note_arrives_in_zendesk_as_a_private_comment(slack, zendesk, router, effects, hooks):
    root, ticket_id, _ = await opened(slack, router, effects)
    reply = user(slack, "bob").chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="db01 is out of disk")["ts"]
    used = team(
        shortcut(
            "threadline.add_note",
            "U0SRE",
            channel="C0SUPPORT",
            ts=reply,
            thread_ts=root,
            author="U0BOB",
            text="db01 is out of disk",
        )
    )
    note, answer = interaction(router, used, "EvNote1", hooks)
    assert command_type(answer) == "slack.respond"
    before = len(zendesk.comments_of(ticket_id))
    await effects.perform(note)
    await effects.perform(note)  # redelivered: found by its command id
    comments = zendesk.comments_of(ticket_id)
    assert len(comments) == before + 1
    last = comments[-1]
    assert last["public"] is False
    assert last["body"] == "Added from Slack by Sam Reliability (a message by Bob Builder):\ndb01 is out of disk"


async def test_add_to_ticket_copies_the_message_with_its_permalink_as_its_author_once(
    slack, zendesk, router, effects, hooks, zen
):
    _, ticket_id, _ = await opened(slack, router, effects)
    elsewhere = user(slack, "bob").chat_postMessage(channel="C0SUPPORT", text="Same here since 9:00")["ts"]
    used = team(
        shortcut(
            "threadline.add_to_ticket",
            "U0BOB",
            channel="C0SUPPORT",
            ts=elsewhere,
            author="U0BOB",
            text="Same here since 9:00",
        )
    )
    [opening] = interaction(router, used, "EvAdd1")
    filled = submission(opening.view, "U0BOB", {"ticket": f"#{ticket_id}"})
    [copy] = interaction(router, team(filled), "EvAdd2")
    before = len(zendesk.comments_of(ticket_id))
    assert (await effects.perform(copy)).effect == "done"
    assert (await effects.perform(copy)).effect == "already_done"
    comments = zendesk.comments_of(ticket_id)
    assert len(comments) == before + 1
    copied = comments[-1]
    assert copied["public"] is True and copied["body"].startswith("Same here since 9:00")
    assert "From Slack: " in copied["body"] and elsewhere.replace(".", "") in copied["body"]
    assert zendesk.user(copied["author_id"])["email"] == "bob@sandbox-corp.example"
    told = [e["text"] for e in slack.ws.channels["C0SUPPORT"].get("_ephemeral", []) if e["user"] == "U0BOB"]
    assert told[0].startswith("Added the message to ticket") and told[1].startswith("That message is already on ticket")
    missing = await effects.perform(replace(copy, ticket_id=999999, command_id="copy:x"))
    assert missing.effect == "skipped"
    # A ticket Bob may not see (emailed by someone else, no thread, he is no agent): nothing added.
    emailed = zen.tickets.create(
        Ticket(subject="Payroll", description="my salary", requester=User(name="Dana", email="dana@example.com"))
    ).ticket.id
    refused = await effects.perform(replace(copy, ticket_id=emailed, command_id="copy:payroll"))
    assert refused.effect == "skipped" and len(zendesk.comments_of(emailed)) == 1
    told = [e["text"] for e in slack.ws.channels["C0SUPPORT"].get("_ephemeral", []) if e["user"] == "U0BOB"]
    assert told[-1] == f"You may not see ticket #{emailed}: nothing was added."


async def test_support_open_posts_the_request_once_and_opens_the_ticket_on_that_thread(slack, zendesk, router, effects):
    command = msgspec.convert(
        {
            "schema_version": 3,
            "type": "zendesk.open_request",
            "command_id": "open-request:V1",
            "conversation_id": f"{TEAM}:C0SUPPORT:command:U0ALICE",
            "issued_at": NOW,
            "cause": {"topic": "threadline.slack.events", "event_id": "EvV1"},
            "channel_id": "C0SUPPORT",
            "request_text": "<@U0ALICE> asks: *VPN drops every hour*\nSince Monday.",
            "requester": {"slack_user_id": "U0ALICE"},
            "subject": "VPN drops every hour",
            "body": "Since Monday.",
            "priority": "high",
            "ticket_type": "incident",
            "tags": ["slack"],
            "custom_fields": [{"id": 360001, "value": "emea"}],
        },
        type=effects_command_type(),
    )
    first = await effects.perform(command)
    second = await effects.perform(command)
    assert (first.effect, second.effect) == ("done", "already_done")
    roots = [m for m in slack.channel_messages("C0SUPPORT") if m.get("bot_id") and "asks:" in m["text"]]
    assert len(roots) == 1 and roots[0]["text"].startswith("<@U0ALICE> asks: *VPN drops every hour*")
    key = f"{TEAM}:C0SUPPORT:{roots[0]['ts']}"
    [ticket] = [t for t in zendesk.tickets() if t["external_id"] == key]
    assert (ticket["subject"], ticket["priority"], ticket["type"]) == ("VPN drops every hour", "high", "incident")
    assert {"id": 360001, "value": "emea"} in ticket["custom_fields"]
    assert zendesk.user(ticket["requester_id"])["email"] == "alice@sandbox-corp.example"
    [result] = first.results
    assert (result.kind, result.conversation_id, result.moved_from) == ("ticket_created", key, command.conversation_id)
    router.results(first)
    assert router.states[key].requester_slack_id == "U0ALICE" and router.states[key].ticket_id == ticket["id"]
    # The confirmation is in the new thread, with its buttons.
    posted = [m for m in slack.thread("C0SUPPORT", roots[0]["ts"]) if m["ts"] != roots[0]["ts"]]
    assert len(posted) == 1 and confirmation.RESOLVE in json.dumps(posted[0]["blocks"])


def effects_command_type():
    from threadline_common.models import CommandV4

    return CommandV4


async def test_an_expired_trigger_offers_a_button_that_opens_the_form_again(slack, router, effects, hooks, monkeypatch):
    used = team(
        shortcut("threadline.open_ticket", "U0BOB", channel="C0SUPPORT", ts="1700000000.000100", author="U0ALICE")
    )
    [opening] = interaction(router, used, "EvOpen1", hooks)
    assert isinstance(opening, SlackOpenView)

    async def expired(**_: Any) -> AsyncSlackResponse:
        response = AsyncSlackResponse(
            client=effects.slack.client,
            http_verb="POST",
            api_url="views.open",
            req_args={},
            data={"ok": False, "error": "expired_trigger_id"},
            headers={},
            status_code=200,
        )
        raise SlackApiError("expired_trigger_id", response)

    monkeypatch.setattr(effects.slack.client, "views_open", expired)
    outcome = await effects.perform(opening)
    assert outcome.effect == "done"
    [answer] = hooks.answers
    assert answer["text"].startswith("Slack took too long to open the form")
    [button] = answer["blocks"][1]["elements"]
    assert button["action_id"] == "threadline.open_form" and button["value"] == opening.retry_action["value"]
    # Its press (a fresh trigger) opens the same form.
    again = team(press(button["action_id"], button["value"], "U0BOB", channel="C0SUPPORT", trigger_id="trig-fresh"))
    [reopened] = interaction(router, again, "EvOpen2")
    assert isinstance(reopened, SlackOpenView) and reopened.trigger_id == "trig-fresh"
    assert reopened.view["private_metadata"] == opening.view["private_metadata"]

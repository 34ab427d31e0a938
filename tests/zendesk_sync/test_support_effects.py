"""On call, urgent, welcome, reminders and attachments, performed against the Slack, Zendesk and
PagerDuty sandboxes from the commands the router's rules emit; each effect happens once."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import msgspec
import pytest
from msgspec.structs import replace
from pydantic import SecretStr
from zenpy.lib.api_objects import Comment, Ticket

from threadline_common.channels import parse_channels
from threadline_common.dlq import PoisonMessage
from threadline_common.models.generated.commands_v4 import OnCallNotify
from threadline_common.schemas import examples
from threadline_router.inbound import ReminderTick, SlackJoin, ZendeskTicketEvent
from threadline_router.rules import Context
from threadline_sandbox.pagerduty import PagerDutySandbox
from threadline_zendesk_sync.app import decode_command
from threadline_zendesk_sync.effects import Effects
from threadline_zendesk_sync.plan import attachments, failures, slack_posts, zendesk_requests
from threadline_zendesk_sync.plan.failures import PermanentError

from .conftest import NOW, Router, user

pytestmark = pytest.mark.integration


@pytest.fixture
def pagerduty() -> Iterator[PagerDutySandbox]:
    sandbox = PagerDutySandbox().start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def pd_settings(settings, pagerduty):
    return settings.model_copy(
        update={"pagerduty_api_url": pagerduty.base_url, "pagerduty_api_token": SecretStr(pagerduty.token)}
    )


@pytest.fixture
def pd_effects(pd_settings) -> Effects:
    return Effects(pd_settings)


@pytest.fixture
def support_router(slack, zendesk) -> Router:
    channels = parse_channels(
        {
            "channels": {
                "C0SUPPORT": {
                    "zendesk": {"group_id": zendesk.group_id},
                    "emoji": {"urgent": {"names": ["rotating_light"], "who": ["U0ALICE"]}},
                    "on_call": {"escalation_policy_id": "PPOLSUP", "assign": True},
                    "reminders": {"after_minutes": 30},
                    "welcome_message": "Welcome {user}! Post your question in {channel}.",
                },
            }
        }
    )
    return Router(Context(channels=channels, bot_user_id=slack.bot_user_id, bot_id=slack.bot_id, now=NOW))


def bot_texts(slack, channel: str, ts: str) -> list[str]:
    return [m["text"] for m in slack.thread(channel, ts) if m.get("bot_id") and m["ts"] != ts]


async def open_ticket(slack, router: Router, effects: Effects, text: str):
    root = user(slack, "alice").chat_postMessage(channel="C0SUPPORT", text=text)["ts"]
    [create] = router.message(slack, "C0SUPPORT", root)
    outcome = await effects.perform(create)
    return root, outcome.results[0].ticket_id, router.results(outcome)


async def test_a_new_ticket_names_the_on_call_pair_and_is_assigned_to_the_primary_once(
    slack, zendesk, support_router, pd_effects, pd_settings, pagerduty
):
    root, ticket_id, [notify] = await open_ticket(slack, support_router, pd_effects, "VPN down for everyone")
    assert isinstance(notify, OnCallNotify)

    outcomes = [await pd_effects.perform(notify), await Effects(pd_settings).perform(notify)]

    # Ann is an agent in Zendesk but not in Slack: named; Sam is in Slack: mentioned.
    texts = bot_texts(slack, "C0SUPPORT", root)
    assert texts[1:] == [":pager: On call now: *Agent Ann* (primary), <@U0SRE> (secondary)."]
    assert zendesk.ticket(ticket_id)["assignee_id"] == zendesk.agent["id"]
    assert [o.effect for o in outcomes] == ["done", "already_done"]
    assert sum(path.startswith("/oncalls") for _, path in pagerduty.requests) == 1


async def test_no_on_call_or_no_pagerduty_is_said_not_hidden(slack, support_router, pd_effects, settings, pagerduty):
    root, _, [notify] = await open_ticket(slack, support_router, pd_effects, "Wiki is slow")
    with pytest.raises(PermanentError, match="PagerDuty is not configured"):
        await Effects(settings).perform(notify)
    empty = await pd_effects.perform(replace(notify, escalation_policy_id="PUNKNOWN", command_id="oncall:x"))
    assert empty.effect == "done"
    assert bot_texts(slack, "C0SUPPORT", root)[-1].startswith(":pager: Nobody is on call in PagerDuty right now")
    with pytest.raises(PermanentError, match="PagerDuty answered 401: Unauthorized"):
        bad = Effects(
            settings.model_copy(update={"pagerduty_api_url": pagerduty.base_url, "pagerduty_api_token": SecretStr("x")})
        )
        await bad.perform(replace(notify, command_id="oncall:y"))


async def test_a_reminder_asks_the_primary_in_the_thread(slack, support_router, pd_effects):
    root, _, _ = await open_ticket(slack, support_router, pd_effects, "Laptop will not boot")
    conversation = f"T0SANDBOX:C0SUPPORT:{root}"
    later = support_router.states[conversation].waiting_since
    assert later is not None
    [remind] = support_router._apply(ReminderTick(conversation, "2099-01-01T00:00:00Z"), conversation)

    await pd_effects.perform(remind)
    await pd_effects.perform(remind)

    reminders = [t for t in bot_texts(slack, "C0SUPPORT", root) if t.startswith(":hourglass:")]
    assert len(reminders) == 1 and reminders[0].endswith("*Agent Ann*, could you take a look?")


async def test_the_urgent_emoji_sets_the_priority_once_and_says_so(slack, zendesk, support_router, pd_effects):
    root, ticket_id, _ = await open_ticket(slack, support_router, pd_effects, "Payments failing")
    [deny] = support_router.reaction(slack, "C0SUPPORT", root, "U0BOB", "rotating_light")
    await pd_effects.perform(deny)
    # Bob may not: only he is told, and who may.
    [told] = slack.ws.channels["C0SUPPORT"]["_ephemeral"]
    assert told["user"] == "U0BOB" and told["text"].startswith("Your :rotating_light: did not mark this ticket urgent")
    [urgent] = support_router.reaction(slack, "C0SUPPORT", root, "U0ALICE", "rotating_light")

    outcomes = [await pd_effects.perform(urgent), await pd_effects.perform(urgent)]

    assert zendesk.ticket(ticket_id)["priority"] == "urgent"
    note = zendesk.comments_of(ticket_id)[-1]
    assert not note["public"] and note["body"].startswith("Marked urgent from Slack by Alice Asker")
    assert bot_texts(slack, "C0SUPPORT", root)[-1] == f":rotating_light: Ticket #{ticket_id} is now urgent."
    assert [o.effect for o in outcomes] == ["done", "already_done"]
    assert len(zendesk.comments_of(ticket_id)) == 2


async def test_a_welcome_is_shown_only_to_who_joined(slack, support_router, pd_effects):
    [welcome] = support_router._apply(SlackJoin("EvJ1", slack.ws.team_id, "C0SUPPORT", "U0BOB"), "join")
    await pd_effects.perform(welcome)
    assert slack.ws.channels["C0SUPPORT"]["_ephemeral"] == [
        {"user": "U0BOB", "text": "Welcome <@U0BOB>! Post your question in <#C0SUPPORT>."}
    ]
    [stranger] = support_router._apply(SlackJoin("EvJ2", slack.ws.team_id, "C0SUPPORT", "U0GUEST"), "join")
    with pytest.raises(PermanentError, match="user_not_in_channel"):
        await pd_effects.perform(stranger)


async def test_an_agents_attachments_are_linked_in_the_thread(slack, zendesk, support_router, pd_effects):
    root, ticket_id, _ = await open_ticket(slack, support_router, pd_effects, "Need the runbook")
    agent = zendesk.zenpy(as_agent=True)
    upload = agent.attachments.upload(io.BytesIO(b"step 1: breathe"), target_name="runbook.txt")
    agent.tickets.update(Ticket(id=ticket_id, comment=Comment(body="Here it is.", public=True, uploads=[upload.token])))
    comment = zendesk.comments_of(ticket_id)[-1]
    event = ZendeskTicketEvent(
        event_id="zd-att",
        kind="comment",
        ticket_id=ticket_id,
        external_id=f"T0SANDBOX:C0SUPPORT:{root}",
        status="open",
        comment_id=comment["id"],
        comment_body="Here it is.",
        author_id=zendesk.agent["id"],
        author_name="Agent Ann",
        author_is_staff=True,
    )
    [post] = support_router.zendesk(event, f"T0SANDBOX:C0SUPPORT:{root}")
    await pd_effects.perform(post)

    [text] = [t for t in bot_texts(slack, "C0SUPPORT", root) if "Here it is." in t]
    url = comment["attachments"][0]["content_url"]
    assert text == f"*Agent Ann* (Zendesk): Here it is.\n:paperclip: <{url}|runbook.txt> (15 bytes)"


async def test_files_too_large_for_zendesk_are_named_in_the_thread_once(slack, zendesk, support_router, settings):
    effects = Effects(settings.model_copy(update={"max_file_bytes": 1000}))
    root, ticket_id, _ = await open_ticket(slack, support_router, effects, "Logs below")
    user(slack, "alice").files_upload_v2(
        channel="C0SUPPORT",
        thread_ts=root,
        initial_comment="the dump",
        file_uploads=[{"content": b"x" * 5000, "filename": "core.dump"}],
    )
    reply = slack.thread("C0SUPPORT", root)[-1]["ts"]
    [comment] = support_router.message(slack, "C0SUPPORT", reply)

    await effects.perform(comment)
    await Effects(settings).perform(comment)  # a replay after a restart

    notices = [t for t in bot_texts(slack, "C0SUPPORT", root) if t.startswith(":warning:")]
    assert notices == [
        ":warning: Some files could not be added to the ticket (the limit is 1 kB a file); "
        "the agent sees a note and can open them here:\n• core.dump: 5 kB, over the 1 kB limit"
    ]
    assert "core.dump" in zendesk.comments_of(ticket_id)[-1]["body"]


def test_on_call_order_and_texts_are_plain_functions():
    oncalls = [
        {"escalation_level": 2, "user": {"id": "PB"}},
        {"escalation_level": 1, "user": {"id": "PA"}},
        {"escalation_level": 1, "user": {"id": "PA"}},
        {"escalation_level": 3, "user": {"id": "PC"}},
    ]
    assert slack_posts.on_call_order(oncalls) == ["PA", "PB", "PC"]
    opened = next(e for e in examples("threadline.commands", 2) if e.payload["type"] == "oncall.notify").payload
    opened = decode_command(json.dumps({**opened, "reason": "ticket_opened"}).encode())
    assert slack_posts.on_call_text(opened, ["<@U1>"]) == ":pager: On call now: <@U1> (primary)."
    assert slack_posts.on_call_text(replace(opened, reason="reminder", waited_minutes=None), []) == (
        ":hourglass: Reminder. Nobody is on call in PagerDuty right now."
    )
    assert zendesk_requests.assign_request("c", 7, 7) is None
    urgent = next(e for e in examples("threadline.commands", 2) if e.payload["type"] == "zendesk.set_priority").payload
    assert zendesk_requests.priority_request(decode_command(json.dumps(urgent).encode()), "urgent", None) is None
    assert attachments.attachment_lines([{"file_name": "a.png"}]) == "", "no URL, nothing to link"
    assert failures.pagerduty_reason('{"error": {"message": "Invalid Input Provided", "errors": ["Limit"]}}') == (
        "Invalid Input Provided; Limit"
    )


def test_the_worker_reads_every_command_version_and_refuses_others():
    v4 = next(e.payload for e in examples("threadline.commands", 4) if e.payload["type"] == "slack.post_answers")
    v3 = next(e.payload for e in examples("threadline.commands", 3) if e.payload["type"] == "slack.respond")
    v2 = next(e.payload for e in examples("threadline.commands", 2) if e.payload["type"] == "oncall.notify")
    v1 = next(e.payload for e in examples("threadline.commands", 1))
    for payload in (v4, v3, v2, v1):
        assert msgspec.to_builtins(decode_command(json.dumps(payload).encode())) == payload
    with pytest.raises(PoisonMessage, match=r"Invalid enum value 5 - at `\$\.schema_version`"):
        decode_command(json.dumps({**v2, "schema_version": 5}).encode())
    with pytest.raises(PoisonMessage, match=r"threadline\.commands v1"):
        decode_command(json.dumps({**v2, "schema_version": 1}).encode())  # a v2 variant is no v1 record

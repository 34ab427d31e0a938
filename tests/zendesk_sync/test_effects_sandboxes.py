"""Each command performed against the Slack and Zendesk sandboxes, then performed again (also by
a fresh executor, as after a restart): every effect happens once. Checked from the outside with
slack_sdk and zenpy."""

from __future__ import annotations

import asyncio
import json
import threading

import aiohttp
import msgspec
import pytest
import requests
from msgspec.structs import replace
from threadline_testing.hostile import pings_nobody
from zenpy.lib.api_objects import Ticket, User

from threadline_common.retry import TransientError
from threadline_router.inbound import ZendeskTicketEvent
from threadline_zendesk_sync.app import decode_command
from threadline_zendesk_sync.effects import Effects
from threadline_zendesk_sync.plan.failures import PermanentError, ThreadGone
from threadline_zendesk_sync.zendesk_client import KeyedSession, ZendeskRateLimited

from .conftest import NOW, Router, bot, router_for, user

pytestmark = pytest.mark.integration


def a_command(fields: dict):
    """A command written here, as the worker would read it (the envelope filled in)."""
    envelope = {"schema_version": 1, "issued_at": NOW, "cause": {"topic": "threadline.slack.events", "event_id": "ev"}}
    return decode_command(json.dumps({**envelope, **fields}).encode())


def bot_replies(slack, channel: str, ts: str) -> list[dict]:
    return [m for m in slack.thread(channel, ts) if m.get("bot_id") and m["ts"] != ts]


def email_created(
    zendesk,
    zen,
    group_id: int,
    subject: str,
    body: str = "Since 9am.",
    name: str = "Dana",
    email: str = "dana@example.com",
) -> ZendeskTicketEvent:
    """An email to a support group, and the ticket.created event Zendesk sends for it."""
    ticket_id = zendesk.receive_email(name, email, subject, body, group_id)
    return ZendeskTicketEvent(
        event_id=f"zd-created-{ticket_id}",
        kind="created",
        ticket_id=ticket_id,
        external_id=None,
        status="new",
        via_channel="email",
        group_id=group_id,
        subject=subject,
        description=body,
        requester_id=zen.tickets(id=ticket_id).requester_id,
    )


def emailed(zendesk, zen, router: Router, name: str, email: str, subject: str, body: str) -> tuple[int, dict]:
    """An email to the support group as a ticket, and the router's open_thread for it."""
    created = email_created(zendesk, zen, zendesk.group_id, subject, body, name, email)
    [open_thread] = router.zendesk(created, f"zd:{created.ticket_id}")
    return created.ticket_id, open_thread


async def open_ticket(slack, router: Router, effects: Effects, text: str, channel: str = "C0SUPPORT", who="alice"):
    root = user(slack, who).chat_postMessage(channel=channel, text=text)["ts"]
    [create] = router.message(slack, channel, root)
    outcome = await effects.perform(create)
    router.results(outcome)
    return root, create, outcome


async def test_a_ticket_is_created_and_announced_once(slack, zendesk, router, effects, settings, zen):
    root, create, outcome = await open_ticket(
        slack, router, effects, "The printer is on fire\n<@U0BOB> saw it too &amp; says hi"
    )
    again = await effects.perform(create)
    after_restart = await Effects(settings).perform(create)

    [ticket] = list(zen.tickets(external_id=f"T0SANDBOX:C0SUPPORT:{root}"))
    assert ticket.subject == "The printer is on fire"
    assert ticket.group_id == zendesk.group_id and ticket.priority == "normal" and ticket.tags == ["slack"]
    assert zen.users(id=ticket.requester_id).email == "alice@sandbox-corp.example"
    [first] = zendesk.comments_of(ticket.id)
    assert "@Bob Builder saw it too & says hi" in first["body"]
    assert f"sandbox-corp.slack.com/archives/C0SUPPORT/p{root.replace('.', '')}" in first["body"]
    assert first["author_id"] == ticket.requester_id

    [announcement] = bot_replies(slack, "C0SUPPORT", root)
    assert f"|#{ticket.id}>" in announcement["text"]
    assert announcement["metadata"]["event_payload"]["ticket_id"] == ticket.id
    assert [o.effect for o in (outcome, again, after_restart)] == ["done", "already_done", "already_done"]
    [result] = outcome.results
    result = msgspec.to_builtins(result)
    assert result == {
        **result,
        "kind": "ticket_created",
        "conversation_id": f"T0SANDBOX:C0SUPPORT:{root}",
        "ticket_id": ticket.id,
        "ticket_url": f"{zendesk.base_url}/agent/tickets/{ticket.id}",
        "channel_id": "C0SUPPORT",
        "thread_ts": root,
    }
    assert again.results == outcome.results == after_restart.results


async def test_only_the_ticket_creation_carries_the_commands_idempotency_key(slack, router, effects, monkeypatch):
    # The key goes with the one call it is given to (in the pool thread that makes it), never
    # with the calls around it: a users/create_or_update POST must not be replayed as a ticket.
    sent: list[tuple[str, str, str | None]] = []
    send = KeyedSession.send

    def recording(self, request, **kwargs):
        sent.append((request.method, request.url, request.headers.get("Idempotency-Key")))
        return send(self, request, **kwargs)

    monkeypatch.setattr(KeyedSession, "send", recording)
    _, create, _ = await open_ticket(slack, router, effects, "Keyboard missing keys")
    await asyncio.gather(*(effects.zendesk.find_ticket(f"T0SANDBOX:C0SUPPORT:{i}.0") for i in range(8)))

    keyed = [(method, url, key) for method, url, key in sent if key]
    assert [(method, url.split("?")[0].endswith("/api/v2/tickets.json"), key) for method, url, key in keyed] == [
        ("POST", True, create.command_id)
    ]
    assert any(method == "POST" and "users" in url for method, url, _ in sent), "the requester was created too"


async def test_a_ticket_created_before_a_crash_is_found_not_repeated(slack, router, effects, zen):
    root = user(slack, "alice").chat_postMessage(channel="C0SUPPORT", text="VPN down")["ts"]
    [create] = router.message(slack, "C0SUPPORT", root)
    # The earlier attempt created the ticket and died before announcing it.
    zen.tickets.create(Ticket(subject="VPN down", external_id=create.external_id, comment={"body": "VPN down"}))

    outcome = await effects.perform(create)

    [ticket] = list(zen.tickets(external_id=create.external_id))
    assert outcome.results[0].ticket_id == ticket.id
    assert len(bot_replies(slack, "C0SUPPORT", root)) == 1


async def test_a_reply_becomes_one_comment_by_its_author(slack, zendesk, router, effects, settings, zen):
    # Bob wrote to support by email once: Zendesk knows him under another name, which stays.
    bob = zen.users.create(User(name="Robert Builder", email="bob@sandbox-corp.example"))
    root, _, created = await open_ticket(slack, router, effects, "Disk full")
    ticket_id = created.results[0].ticket_id
    reply = user(slack, "bob").chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="Which disk?")["ts"]
    [comment] = router.message(slack, "C0SUPPORT", reply)

    outcomes = [
        await effects.perform(comment),
        await effects.perform(comment),
        await Effects(settings).perform(comment),
    ]

    comments = zendesk.comments_of(ticket_id)
    assert [c["body"] for c in comments[1:]] == ["Which disk?"]
    assert comments[1]["author_id"] == bob.id and zen.users(id=bob.id).name == "Robert Builder"
    assert comments[1]["metadata"]["custom"] == {"threadline_command_id": comment.command_id, "slack_ts": reply}
    assert [o.effect for o in outcomes] == ["done", "already_done", "already_done"]
    # Each attempt names the comment it wrote, so the router knows its webhook for a copy.
    for outcome in outcomes:
        [added] = outcome.results
        assert (added.kind, added.comment_id, added.ticket_id) == ("comment_added", comments[1]["id"], ticket_id)
        assert added.command_id == comment.command_id and added.schema_version == 4


async def test_a_slack_connect_guest_without_email_is_named_not_guessed(slack, zendesk, router, effects, zen):
    root, _, created = await open_ticket(slack, router, effects, "Partner API 500s", channel="C0SHARED", who="sam")
    reply = user(slack, "guest").chat_postMessage(channel="C0SHARED", thread_ts=root, text="Still failing")["ts"]
    [comment] = router.message(slack, "C0SHARED", reply)

    await effects.perform(comment)

    author = zen.users(id=zendesk.comments_of(created.results[0].ticket_id)[-1]["author_id"])
    assert (author.name, author.email, author.external_id) == ("Gina Guest", None, "slack:U0GUEST")


async def test_an_agents_answer_is_posted_once_and_our_own_comments_never_come_back(
    slack, zendesk, router, effects, settings
):
    root, _, created = await open_ticket(slack, router, effects, "Printer jammed")
    ticket_id = created.results[0].ticket_id
    conversation = created.results[0].conversation_id
    reply = user(slack, "bob").chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="Tray 2")["ts"]
    [comment] = router.message(slack, "C0SUPPORT", reply)
    await effects.perform(comment)
    ours = zendesk.comments_of(ticket_id)[-1]
    answer_id = zendesk.agent_comment(ticket_id, "Open tray 2 and pull gently.")

    def comment_event(comment_id: int, body: str, author_id: int, name: str) -> ZendeskTicketEvent:
        return ZendeskTicketEvent(
            event_id=f"zd-{comment_id}",
            kind="comment",
            ticket_id=ticket_id,
            external_id=conversation,
            status="open",
            comment_id=comment_id,
            comment_body=body,
            comment_public=True,
            author_id=author_id,
            author_name=name,
            author_is_staff=name == "Agent Ann",
        )

    # Bob's reply came back from Zendesk as a comment by Bob: the router cannot tell, we can.
    [echo] = router.zendesk(comment_event(ours["id"], "Tray 2", ours["author_id"], "Bob Builder"), conversation)
    [answer] = router.zendesk(
        comment_event(answer_id, "Open tray 2 and pull gently.", zendesk.agent["id"], "Agent Ann"), conversation
    )
    echoed = await Effects(settings).perform(echo)
    outcomes = [await effects.perform(answer), await effects.perform(answer), await Effects(settings).perform(answer)]

    posts = bot_replies(slack, "C0SUPPORT", root)[1:]  # after the ticket link
    assert [p["text"] for p in posts] == ["*Agent Ann* (Zendesk): Open tray 2 and pull gently."]
    assert posts[0]["username"] == "Agent Ann"
    assert posts[0]["icon_url"] == "https://avatars.sandbox.invalid/ann.png"
    assert posts[0]["metadata"]["event_payload"]["command_id"] == f"zd-comment:{answer_id}"
    assert echoed.effect == "skipped"
    assert [o.effect for o in outcomes] == ["done", "already_done", "already_done"]


async def test_solving_from_slack_happens_once_and_a_replay_does_not_undo_a_reopen(
    slack, zendesk, router, effects, settings, zen
):
    root, _, created = await open_ticket(slack, router, effects, "Badge reader broken")
    ticket_id = created.results[0].ticket_id
    word = user(slack, "alice").chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="resolve")["ts"]
    [solve] = router.message(slack, "C0SUPPORT", word)

    first, again = await effects.perform(solve), await effects.perform(solve)
    assert zen.tickets(id=ticket_id).status == "solved"
    note = zendesk.comments_of(ticket_id)[-1]
    assert note["public"] is False and note["body"] == "Solved from Slack by Alice Asker."

    zendesk.agent_set_status(ticket_id, "open")
    replay = await Effects(settings).perform(solve)

    assert zen.tickets(id=ticket_id).status == "open"
    assert [o.effect for o in (first, again, replay)] == ["done", "already_done", "already_done"]


async def test_a_closed_ticket_refuses_a_comment_and_a_reply_opens_a_follow_up(slack, zendesk, router, effects, zen):
    root, _, created = await open_ticket(slack, router, effects, "Laptop won't boot")
    ticket_id = created.results[0].ticket_id
    late = user(slack, "alice").chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="one more thing")["ts"]
    [comment] = router.message(slack, "C0SUPPORT", late)
    zendesk.agent_set_status(ticket_id, "closed")

    with pytest.raises(PermanentError, match="closed"):
        await effects.perform(comment)

    conversation = created.results[0].conversation_id
    router.states[conversation].status = "closed"
    again = user(slack, "alice").chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="It broke again")["ts"]
    [followup] = router.message(slack, "C0SUPPORT", again)
    outcome = await effects.perform(followup)

    [new] = [t for t in zen.tickets() if t.external_id == f"{conversation}#2"]
    assert new.via_followup_source_id == ticket_id and new.subject == "It broke again"
    assert outcome.results[0].ticket_id == new.id
    link = bot_replies(slack, "C0SUPPORT", root)[-1]["text"]
    assert f"Ticket #{ticket_id} is closed, so I opened follow-up ticket" in link and f"|#{new.id}>" in link


async def test_an_emailed_ticket_gets_one_thread_and_points_at_it(slack, zendesk, router, effects, settings, zen):
    ticket_id, open_thread = emailed(zendesk, zen, router, "Dana", "dana@example.com", "VPN drops hourly", "Since 9am.")

    outcome = await effects.perform(open_thread)
    again = await Effects(settings).perform(open_thread)

    [root] = [m for m in slack.channel_messages("C0SUPPORT") if m.get("bot_id")]
    assert (
        "*VPN drops hourly*" in root["text"]
        and "dana@example.com" in root["text"]
        and f"|#{ticket_id}>" in root["text"]
    )
    key = f"T0SANDBOX:C0SUPPORT:{root['ts']}"
    assert zen.tickets(id=ticket_id).external_id == key
    by_thread, by_ticket = outcome.results
    assert (by_thread.conversation_id, by_thread.moved_from) == (key, None)
    assert (by_ticket.conversation_id, by_ticket.moved_from) == (f"zd:{ticket_id}", f"zd:{ticket_id}")
    for result in outcome.results:
        assert (result.kind, result.ticket_id, result.team_id, result.channel_id, result.thread_ts) == (
            "thread_opened",
            ticket_id,
            "T0SANDBOX",
            "C0SUPPORT",
            root["ts"],
        )
    assert again.results == outcome.results and again.effect == "already_done"

    # The router links the thread; a reply in it reaches the ticket.
    router.results(outcome)
    reply = user(slack, "sam").chat_postMessage(channel="C0SUPPORT", thread_ts=root["ts"], text="On it")["ts"]
    [comment] = router.message(slack, "C0SUPPORT", reply)
    await effects.perform(comment)
    assert zendesk.comments_of(ticket_id)[-1]["body"] == "On it"


async def test_a_public_channel_the_bot_was_never_invited_to_is_joined_to_open_a_thread(slack, zendesk, effects, zen):
    # #random is a support channel for emails to the infra group, but nobody invited the bot:
    # Slack answers not_in_channel to its look for earlier posts, so it joins, then posts once.
    router = router_for(slack, zendesk, {"C0RANDOM": {"name": "random"}}, {zendesk.infra_group_id: "C0RANDOM"})
    created = email_created(zendesk, zen, zendesk.infra_group_id, "Wifi is down")
    [open_thread] = router.zendesk(created, f"zd:{created.ticket_id}")
    assert bot(slack).conversations_info(channel="C0RANDOM")["channel"]["is_member"] is False

    outcome = await effects.perform(open_thread)
    again = await effects.perform(open_thread)

    assert bot(slack).conversations_info(channel="C0RANDOM")["channel"]["is_member"] is True
    [root] = [m for m in slack.channel_messages("C0RANDOM") if m.get("bot_id")]
    assert "*Wifi is down*" in root["text"]
    assert (outcome.effect, again.effect) == ("done", "already_done")


async def test_a_thread_in_a_public_channel_the_bot_is_not_in_is_read_after_joining(slack, effects):
    # A thread Threadline must answer in, in a channel it is not (or no longer) in: the look
    # for its earlier posts (conversations.replies) answers not_in_channel first.
    root = user(slack, "alice").chat_postMessage(channel="C0RANDOM", text="Is the wiki down?")["ts"]
    ts, posted = await effects.slack.post_once("cmd-random-1", "C0RANDOM", root, "Ticket #1", {}, since=0.0)
    assert posted and [m["ts"] for m in bot_replies(slack, "C0RANDOM", root)] == [ts]
    assert await effects.slack.post_once("cmd-random-1", "C0RANDOM", root, "Ticket #1", {}, since=0.0) == (ts, False)


async def test_a_private_channel_the_bot_is_not_in_is_reported_as_such(slack, zendesk, effects, zen):
    # To a non-member a private channel does not exist (channel_not_found): no join is possible,
    # and the reason says it may be private and uninvited, so an agent knows what to do.
    router = router_for(
        slack, zendesk, {"G0HRPRIVATE": {"name": "hr-private"}}, {zendesk.infra_group_id: "G0HRPRIVATE"}
    )
    created = email_created(zendesk, zen, zendesk.infra_group_id, "Payslip missing")
    [open_thread] = router.zendesk(created, f"zd:{created.ticket_id}")
    with pytest.raises(ThreadGone, match="private and the Threadline app is not a member"):
        await effects.perform(open_thread)
    assert not [m for m in slack.channel_messages("G0HRPRIVATE") if m.get("bot_id")]


HOSTILE_EMAIL = """Hi <!channel>, the VPN drops <@U0BOB> every hour, see <http://evil.example|the status page>.

Thanks,
Dana
--
Dana Doe | ACME Corp
+1 555 0100

On Mon, Nov 30, 2026 at 9:00 AM Support <support@acme.example> wrote:
> How can we help? <!everyone>
"""


async def test_an_emailed_thread_pings_nobody_shows_the_reply_and_is_noted_on_the_ticket_once(
    slack, zendesk, router, effects, settings, zen
):
    ticket_id, open_thread = emailed(
        zendesk, zen, router, "<!here> Dana", "dana@example.com", "<!channel> VPN :fire:", HOSTILE_EMAIL
    )

    outcomes = [await effects.perform(open_thread), await effects.perform(open_thread)]
    outcomes.append(await Effects(settings).perform(open_thread))  # redelivered after a restart

    [root] = [m for m in slack.channel_messages("C0SUPPORT") if m.get("bot_id")]
    assert pings_nobody(root["text"])
    assert "*&lt;!channel&gt; VPN :fire:*" in root["text"] and "&lt;!here&gt; Dana" in root["text"]
    assert "&lt;@U0BOB&gt;" in root["text"] and "|the status page>" not in root["text"]
    assert "Dana Doe" not in root["text"] and "How can we help" not in root["text"], "no signature, no quotes"
    assert root["text"].endswith(
        f"_Signature and quoted replies left out: the whole email is on ticket <{settings.ticket_url(ticket_id)}|#{ticket_id}>._"
    )
    comments = zendesk.comments_of(ticket_id)
    assert "Dana Doe | ACME Corp" in comments[0]["body"], "the ticket keeps the whole email"
    notes = [c for c in comments if not c["public"]]
    permalink = f"sandbox-corp.slack.com/archives/C0SUPPORT/p{root['ts'].replace('.', '')}"
    assert len(notes) == 1 and permalink in notes[0]["body"], "one internal note takes the agent to the thread"
    assert zen.tickets(id=ticket_id).external_id == f"T0SANDBOX:C0SUPPORT:{root['ts']}"
    assert [o.effect for o in outcomes] == ["done", "already_done", "already_done"]


async def test_a_crash_between_the_thread_and_its_note_leaves_one_of_each(
    slack, zendesk, router, effects, settings, zen
):
    ticket_id = zendesk.receive_email("Dana", "dana@example.com", "VPN drops", "Since 9am.", zendesk.group_id)
    created = ZendeskTicketEvent(
        event_id="zd-created",
        kind="created",
        ticket_id=ticket_id,
        external_id=None,
        status="new",
        via_channel="email",
        group_id=zendesk.group_id,
        subject="VPN drops",
        description="Since 9am.",
    )
    [open_thread] = router.zendesk(created, f"zd:{ticket_id}")

    async def crash(*_args, **_kwargs):
        raise TransientError("Zendesk unreachable")

    effects.zendesk.update_ticket = crash  # the thread is posted, then the note's write fails
    with pytest.raises(TransientError):
        await effects.perform(open_thread)
    redelivered = await Effects(settings).perform(open_thread)

    assert len([m for m in slack.channel_messages("C0SUPPORT") if m.get("bot_id")]) == 1
    notes = [c for c in zendesk.comments_of(ticket_id) if not c["public"]]
    assert len(notes) == 1 and "Slack thread" in notes[0]["body"]
    assert redelivered.effect == "done", "the note was written now"


async def test_an_agents_html_answer_reads_as_slack_formatting_and_pings_nobody(slack, zendesk, router, effects):
    root, _, created = await open_ticket(slack, router, effects, "Printer jammed")
    ticket_id, conversation = created.results[0].ticket_id, created.results[0].conversation_id
    html = '<p>Open <strong>tray 2</strong>, see <a href="https://kb.example/42">the guide</a> &lt;!channel&gt;</p>'
    answer_id = zendesk.agent_comment(ticket_id, "Open tray 2, see the guide <!channel>")
    event = ZendeskTicketEvent(
        event_id=f"zd-{answer_id}",
        kind="comment",
        ticket_id=ticket_id,
        external_id=conversation,
        status="open",
        comment_id=answer_id,
        comment_body="Open **tray 2**, see the guide <!channel>",
        comment_html=html,
        comment_public=True,
        author_id=zendesk.agent["id"],
        author_name="Agent Ann",
        author_is_staff=True,
    )
    [answer] = router.zendesk(event, conversation)
    await effects.perform(answer)

    [post] = bot_replies(slack, "C0SUPPORT", root)[1:]
    assert post["text"] == (
        "*Agent Ann* (Zendesk): Open *tray 2*, see <https://kb.example/42|the guide> &lt;!channel&gt;"
    )
    assert pings_nobody(post["text"])


async def test_agents_read_slack_emoji_names_and_formatting(slack, zendesk, router, effects, zen):
    _, _, created = await open_ticket(slack, router, effects, "Printer *on fire* :fire: <@U0BOB> saw it")
    ticket = zen.tickets(id=created.results[0].ticket_id)
    assert ticket.subject == "Printer on fire 🔥 @Bob Builder saw it"
    [first] = zendesk.comments_of(ticket.id)
    assert first["body"].startswith("Printer **on fire** 🔥 @Bob Builder saw it")


async def test_files_are_attached_and_oversized_ones_noted(slack, zendesk, router, settings):
    effects = Effects(settings.model_copy(update={"max_file_bytes": 1000}))
    root, _, created = await open_ticket(slack, router, effects, "Screenshots attached below")
    alice = user(slack, "alice")
    alice.files_upload_v2(
        channel="C0SUPPORT",
        thread_ts=root,
        initial_comment="error screens",
        file_uploads=[
            {"content": b"small png bytes", "filename": "error.png"},
            {"content": b"x" * 5000, "filename": "dump.log"},
        ],
    )
    reply = slack.thread("C0SUPPORT", root)[-1]["ts"]
    [comment] = router.message(slack, "C0SUPPORT", reply)

    await effects.perform(comment)

    last = zendesk.comments_of(created.results[0].ticket_id)[-1]
    assert [a["file_name"] for a in last["attachments"]] == ["error.png"]
    assert "dump.log" in last["body"] and "left in Slack" in last["body"]
    content = zendesk.account.uploads[last["attachments"][0]["content_url"].split("/")[-2]]["content"]
    assert content == b"small png bytes"


async def test_a_ticket_asked_for_with_a_reaction_takes_the_message_and_its_author(slack, router, effects, zen):
    root = user(slack, "alice").chat_postMessage(channel="C0INFRA", text="build-7 is out of disk")["ts"]
    assert router.message(slack, "C0INFRA", root) == []  # this channel opens tickets on :ticket: only
    [create] = router.reaction(slack, "C0INFRA", root, "U0SRE", "ticket")

    await effects.perform(create)

    [ticket] = list(zen.tickets(external_id=f"T0SANDBOX:C0INFRA:{root}"))
    assert ticket.subject == "build-7 is out of disk"
    assert zen.users(id=ticket.requester_id).email == "alice@sandbox-corp.example"
    assert "opened from Slack by Sam Reliability" in ticket.description


async def test_a_reaction_is_added_once(slack, effects):
    root = user(slack, "alice").chat_postMessage(channel="C0SUPPORT", text="done?")["ts"]
    command = a_command(
        {
            "type": "slack.add_reaction",
            "command_id": f"solved-reaction:1:{root}",
            "conversation_id": f"T0SANDBOX:C0SUPPORT:{root}",
            "channel_id": "C0SUPPORT",
            "ts": root,
            "name": "white_check_mark",
        }
    )

    outcomes = [await effects.perform(command), await effects.perform(command)]

    reactions = bot(slack).reactions_get(channel="C0SUPPORT", timestamp=root)["message"]["reactions"]
    assert reactions == [{"name": "white_check_mark", "users": ["U0BOT"], "count": 1}]
    assert [o.effect for o in outcomes] == ["done", "already_done"]


async def test_a_write_whose_answer_was_lost_is_not_repeated(slack, zendesk, router, effects, monkeypatch):
    root, _, created = await open_ticket(slack, router, effects, "Wifi flaky")
    ticket_id = created.results[0].ticket_id
    reply = user(slack, "bob").chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="Floor 2 too")["ts"]
    [comment] = router.message(slack, "C0SUPPORT", reply)
    answer_id = zendesk.agent_comment(ticket_id, "Rebooting the access point.")
    post = router.zendesk(
        ZendeskTicketEvent(
            event_id="zd-answer",
            kind="comment",
            ticket_id=ticket_id,
            external_id=created.results[0].conversation_id,
            status="open",
            comment_id=answer_id,
            comment_body="Rebooting the access point.",
            author_id=zendesk.agent["id"],
            author_name="Agent Ann",
            author_is_staff=True,
        ),
        created.results[0].conversation_id,
    )[0]
    update, post_message = effects.zendesk.zen.tickets.update, effects.slack.client.chat_postMessage

    def update_then_time_out(*args, **kwargs):
        update(*args, **kwargs)
        raise requests.ReadTimeout("the answer never came")

    async def post_then_disconnect(**kwargs):
        await post_message(**kwargs)
        raise aiohttp.ServerDisconnectedError()

    with monkeypatch.context() as patched:
        # On the class: each of zendesk-sync's threads has its own client.
        patched.setattr(
            type(effects.zendesk.zen.tickets), "update", lambda self, *a, **kw: update_then_time_out(*a, **kw)
        )
        patched.setattr(effects.slack.client, "chat_postMessage", post_then_disconnect)
        for command in (comment, post):
            with pytest.raises(TransientError):
                await effects.perform(command)
    retried = [await effects.perform(comment), await effects.perform(post)]

    assert [c["body"] for c in zendesk.comments_of(ticket_id)].count("Floor 2 too") == 1
    assert [m["text"] for m in bot_replies(slack, "C0SUPPORT", root)].count(
        "*Agent Ann* (Zendesk): Rebooting the access point."
    ) == 1
    assert [o.effect for o in retried] == ["already_done", "already_done"]


async def test_zendesks_plain_text_429_is_a_wait_for_retry_after_not_a_parse_error(slack, zendesk, router, effects):
    # Real Zendesk answers its rate limit with a text/plain sentence, not JSON: only the
    # Retry-After header may be read, and the command is retried after it.
    root = user(slack, "alice").chat_postMessage(channel="C0SUPPORT", text="Printer jammed")["ts"]
    [create] = router.message(slack, "C0SUPPORT", root)
    zendesk.set_knobs(rate_limit_per_minute=1)  # the command's first request spends the minute
    with pytest.raises(ZendeskRateLimited) as limited:
        await effects.perform(create)
    assert isinstance(limited.value, TransientError) and limited.value.retry_after >= 1
    assert zendesk.tickets() == [] and bot_replies(slack, "C0SUPPORT", root) == []


async def test_outages_on_either_side_are_transient_and_refusals_permanent(slack, zendesk, router, effects):
    root, _, _ = await open_ticket(slack, router, effects, "Monitor flickers")
    reply = user(slack, "bob").chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="Mine too")["ts"]
    [comment] = router.message(slack, "C0SUPPORT", reply)
    note = a_command(
        {
            "type": "slack.post_message",
            "command_id": "help:C0SUPPORT:1",
            "conversation_id": comment.conversation_id,
            "channel_id": "C0SUPPORT",
            "thread_ts": root,
            "text": "help text",
            "purpose": "help",
        }
    )

    zendesk.knobs.error_rate = 1.0
    with pytest.raises(TransientError, match="Zendesk answered 503"):
        await Effects(effects.settings).perform(comment)
    zendesk.knobs.error_rate = 0.0
    slack.knobs.error_rate = 1.0
    with pytest.raises(TransientError, match="Slack answered fatal_error"):
        await effects.perform(note)
    slack.knobs.error_rate = 0.0
    with pytest.raises(PermanentError, match="channel_not_found"):
        await effects.perform(replace(note, channel_id="C0NOWHERE"))


async def test_each_zendesk_call_the_budget_counts_is_one_request_even_when_it_fails(zendesk, effects):
    # A 503 is the engine's to retry (through the account's budget, after a pause), never the
    # client's: the budget would count one request while Zendesk counted several.
    zendesk.knobs.error_rate = 1.0
    before = len(zendesk.requests())
    with pytest.raises(TransientError, match="503"):
        await effects.zendesk.find_ticket("T0SANDBOX:C0SUPPORT:1.000001")
    zendesk.knobs.error_rate = 0.0
    assert len(zendesk.requests()) - before == 1
    assert await effects.zendesk.find_ticket("T0SANDBOX:C0SUPPORT:1.000001") is None
    assert len(zendesk.requests()) - before == 2


async def test_zendesk_calls_in_parallel_threads_never_share_a_zenpy_client(effects):
    # zenpy keeps per-write state on its API objects: two threads on one client race.
    both_running = threading.Barrier(2, timeout=5)

    def client():
        both_running.wait()
        return effects.zendesk.zen

    first, second = await asyncio.gather(effects.zendesk.call(client), effects.zendesk.call(client))
    assert first is not second
    created = await asyncio.gather(
        *(
            effects.zendesk.call(
                lambda i=i: effects.zendesk.zen.tickets.create(Ticket(subject=f"parallel {i}", description="x"))
            )
            for i in range(48)
        )
    )
    assert len({int(audit.ticket.id) for audit in created}) == 48


async def test_slack_calls_share_one_session_and_its_kept_alive_connection(slack, effects):
    # slack_sdk without a session opens (and closes) a new connection for every call.
    await effects.slack.call(effects.slack.client.auth_test)
    session = effects.slack.client.session
    for _ in range(3):
        await effects.slack.call(effects.slack.client.auth_test)
    assert effects.slack.client.session is session and not session.closed
    assert sum(len(conns) for conns in session.connector._conns.values()) == 1
    await effects.close()
    assert session.closed


async def test_no_volume_of_traffic_between_a_post_and_its_retry_makes_it_twice(
    slack, zendesk, router, effects, settings, zen
):
    """The look for an earlier post is bounded by time (since the command was issued), never by a
    count of messages: a busy channel and a long thread after the post do not hide it."""
    _, open_thread = emailed(zendesk, zen, router, "Eve", "eve@example.com", "Printer jam", "Tray 2.")
    await effects.perform(open_thread)
    root, create, _ = await open_ticket(slack, router, effects, "Screen flickers")
    people = user(slack, "bob")
    for i in range(260):  # more than the old look (the latest 200 at the top of the channel)
        people.chat_postMessage(channel="C0SUPPORT", text=f"chatter {i}")
    for i in range(210):  # a thread longer than one page
        people.chat_postMessage(channel="C0SUPPORT", thread_ts=root, text=f"reply {i}")

    again = Effects(settings)  # as after a crash: nothing remembered
    assert (await again.perform(open_thread)).effect == "already_done"
    assert (await again.perform(create)).effect == "already_done"
    assert len([m for m in slack.channel_messages("C0SUPPORT") if m.get("bot_id") and "Printer jam" in m["text"]]) == 1
    assert len([m for m in bot_replies(slack, "C0SUPPORT", root) if "opened ticket" in m["text"].lower()]) == 1

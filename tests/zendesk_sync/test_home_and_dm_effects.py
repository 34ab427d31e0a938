"""A private request's ticket and the Home tab, performed against the Slack and Zendesk sandboxes
from the commands the router's rules emit: the ticket names no channel, its link and the agents'
answers go into the DM thread, and slack.publish_home is what the person sees on their Home."""

from __future__ import annotations

import msgspec
import pytest

from threadline_common.models import HomeItem
from threadline_common.models.generated.commands_v4 import Cause, SlackPublishHome
from threadline_common.models.generated.follows_v1 import FollowedTicket
from threadline_router.inbound import ZendeskTicketEvent
from threadline_router.rules.home_view import home_view
from threadline_zendesk_sync.effects import Effects
from threadline_zendesk_sync.plan import zendesk_requests

from .conftest import router_for

pytestmark = pytest.mark.integration


def publish(command_id: str, view: dict) -> SlackPublishHome:
    return SlackPublishHome(
        schema_version=3,
        command_id=command_id,
        conversation_id="person:T0SANDBOX:U0ALICE",
        issued_at="2026-12-01T10:00:00.000Z",
        cause=Cause(topic="threadline.router.inbound", event_id="home:1"),
        user="U0ALICE",
        view=view,
    )


async def test_a_published_home_is_what_the_person_sees_and_a_redelivery_publishes_once(slack, effects, settings):
    view = home_view((), (), ())
    first = await effects.perform(publish("home:person:T0SANDBOX:U0ALICE:1", view))
    assert first.effect == "done"
    home = slack.home("alice")
    assert home is not None and home["type"] == "home"
    assert "You have no open requests" in str(home["blocks"])
    assert slack.home("bob") is None  # only the person's own Home

    # The same command again on this worker: already done; on another worker: published again,
    # the same view (Slack keeps only the latest), which changes nothing the person sees.
    assert (await effects.perform(publish("home:person:T0SANDBOX:U0ALICE:1", view))).effect == "already_done"
    assert (await Effects(settings).perform(publish("home:person:T0SANDBOX:U0ALICE:1", view))).effect == "done"
    assert slack.home("alice")["blocks"] == home["blocks"]

    # A later publish replaces it.
    newer = {**view, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Ticket *#42* · open"}}]}
    assert (await effects.perform(publish("home:person:T0SANDBOX:U0ALICE:2", newer))).effect == "done"
    assert "#42" in str(slack.home("alice")["blocks"])


async def test_the_fullest_home_is_one_slack_accepts(slack, effects):
    def item(n: int) -> HomeItem:
        return HomeItem(
            conversation_id=f"T0SANDBOX:C{n % 30}:{n}.0",
            channel_id=f"C{n % 30}",
            channel_name=None,
            thread_ts=f"{n}.0",
            ticket_id=n,
            ticket_url=f"https://acme.zendesk.com/agent/tickets/{n}",
            status="open",
            requester="U0BOB",
            private=n % 2 == 0,
            opened_at="2026-12-01T10:00:00Z",
            waiting_since="2026-12-01T10:00:00Z",
            updated_at="2026-12-01T10:00:00Z",
        )

    many = [item(n) for n in range(200)]
    followed = [FollowedTicket(ticket_id=n + 1, since="2026-11-23T10:00:00Z") for n in range(200)]
    outcome = await effects.perform(publish("home:person:T0SANDBOX:U0ALICE:1", home_view(many, followed, many)))
    assert outcome.effect == "done" and "more channels" in str(slack.home("alice"))


async def test_a_view_slack_refuses_is_a_failure_not_a_retry(effects):
    from threadline_zendesk_sync.plan.failures import PermanentError

    with pytest.raises(PermanentError):
        await effects.perform(publish("home:person:T0SANDBOX:U0ALICE:9", {"type": "home", "blocks": "not blocks"}))


async def test_a_private_requests_ticket_names_no_channel_and_its_answers_go_into_the_dm(slack, zendesk, effects):
    router = router_for(slack, zendesk, direct_messages={"enabled": True, "zendesk": {"priority": "high"}})
    root = slack.dm("alice", "My payslip shows the wrong tax code")
    [create] = router.message(slack, "D0ALICE", root)
    assert create.private is True

    outcome = await effects.perform(create)
    ticket_id = outcome.results[0].ticket_id
    ticket = zendesk.ticket(ticket_id)
    description = zendesk.comments_of(ticket_id)[0]["body"]
    assert (
        zendesk_requests.PRIVATE_NOTE in description and "archives" not in description and "D0ALICE" not in description
    )
    assert set(ticket["tags"]) == {"slack", "slack-dm", "private"} and ticket["priority"] == "high"
    # The link is in the DM thread, once however often the command comes.
    assert (await effects.perform(create)).effect == "already_done"
    replies = [m for m in slack.dms("alice") if m.get("thread_ts") == root and m["ts"] != root]
    assert len(replies) == 1 and f"#{ticket_id}" in replies[0]["text"]

    router.results(outcome)
    comment_id = zendesk.agent_comment(ticket_id, "Which month is it?")
    event = ZendeskTicketEvent(
        event_id="evt-1",
        kind="comment",
        ticket_id=ticket_id,
        external_id=create.external_id,
        status="open",
        comment_id=comment_id,
        comment_body="Which month is it?",
        comment_public=True,
        author_id=int(zendesk.agent["id"]),
        author_name="Agent Ann",
        author_is_staff=True,
    )
    [post] = router.zendesk(event, create.conversation_id)
    assert (await effects.perform(post)).effect == "done"
    answers = [m for m in slack.dms("alice") if m.get("thread_ts") == root and "Which month" in m.get("text", "")]
    assert len(answers) == 1
    assert msgspec.to_builtins(post)["channel_id"] == "D0ALICE"

"""Following a ticket, as its followers notice it: the follows rows' rules as pure functions
(both tables in memory, notes delivered to the rows they name, every record checked against
its contract)."""

from __future__ import annotations

import pytest
from router.follow_support import Router, checked, press, slash
from threadline_testing.records import message_body, slack_record, zendesk_record

from threadline_common.channels import parse_channels
from threadline_router.inbound import SyncResult, decode_zendesk
from threadline_router.rules import Context, command_type, route_follow_row
from threadline_router.rules.follows import parse_choices

pytestmark = pytest.mark.unit


@pytest.fixture
def ctx() -> Context:
    channels = parse_channels({"channels": {"C1": {"name": "support"}}, "email_groups": {10: "C1"}})
    return Context(channels=channels, zendesk_api_user_id=999, now="2026-11-23T10:00:00Z")


@pytest.fixture
def router(ctx) -> Router:
    return Router(ctx)


def comment(ticket_id, comment_id, body, public=True, staff=True, author="Agent Ann", external_id=None, author_id=None):
    return zendesk_record(
        "comment_added",
        ticket_id,
        external_id,
        {"comment": {"id": str(comment_id), "body": body, "is_public": public,
                     "author": {"id": author_id or ("7" if staff else "8"), "name": author, "is_staff": staff}}},
        subject="Printer on fire",
    )  # fmt: skip


def status_change(ticket_id, current, previous, external_id=None):
    return zendesk_record(
        "status_changed", ticket_id, external_id, {"current": current.upper(), "previous": previous.upper()}
    )


def follow(router, text, user="U0CAROL", sees_thread=True, event_id=None):
    """`/support <text>` and zendesk-sync allowing it: the commands the router sent."""
    [check] = router.send(slash(text, user=user, event_id=event_id))
    assert command_type(check) == "zendesk.check_follower"
    assert router.send(checked(check, sees_thread)) == []  # stored; zendesk-sync already answered
    return check


def dms(commands):
    assert all(command_type(c) == "slack.direct_message" for c in commands)
    return {c.user: c for c in commands}


def test_parse_choices():
    every = ["agent_replies", "requester_comments", "status_changes"]
    assert parse_choices(["42"]).what == every and parse_choices(["42"]).detail == "full"
    replies = parse_choices(["42", "replies"])
    assert (replies.what, replies.detail) == (["agent_replies"], "full")
    both = parse_choices(["#42", "status", "replies", "first", "200"])
    assert (both.what, both.detail, both.chars) == (["status_changes", "agent_replies"], "first", 200)
    assert parse_choices(["42", "summary"]).detail == "summary"
    assert "is not something to follow" in parse_choices(["42", "loudly"])
    assert "`first` takes a number" in parse_choices(["42", "first"])
    assert "`first` takes a number" in parse_choices(["42", "first", "99999"])


def test_follow_is_checked_by_zendesk_sync_then_stored_on_both_rows(router):
    check = follow(router, "follow 42 replies first 20")
    assert check.conversation_id == "ticket:42" and check.team_id == "T1"
    assert check.choices.what == ["agent_replies"] and (check.choices.detail, check.choices.chars) == ("first", 20)
    ticket = router.row("ticket:42")
    assert [(f.user, f.choices.detail, f.sees_thread) for f in ticket.followers] == [("U0CAROL", "first", True)]
    assert ticket.ticket_url == "https://acme.zendesk.com/agent/tickets/42"
    [answer] = router.send(slash("following"))
    assert answer.text.startswith("You follow 1 ticket: #42.")


def test_an_agent_reply_reaches_followers_who_chose_it_an_internal_note_never(router):
    follow(router, "follow 42 replies first 20", user="U0CAROL")
    follow(router, "follow 42 status", user="U0DAVE")
    follow(router, "follow 42 summary", user="U0ERIN")
    reply = router.send(comment(42, 501, "Try turning it off and on again, then call me"))
    by_user = dms(reply)
    assert set(by_user) == {"U0CAROL", "U0ERIN"}  # Dave chose status changes only
    carol = by_user["U0CAROL"]
    assert carol.purpose == "follow_update" and carol.conversation_id == "ticket:42"
    assert (
        "*Agent Ann* replied on ticket <https://acme.zendesk.com/agent/tickets/42|#42> (Printer on fire)" in carol.text
    )
    assert "Try turning it off a…" in carol.text and "call me" not in carol.text
    assert "Try turning" not in by_user["U0ERIN"].text and "Summary only" in by_user["U0ERIN"].text
    actions = carol.blocks[-1]["elements"]
    assert [a.get("action_id") for a in actions] == ["open_ticket", "threadline.latest_comment", "threadline.unfollow"]
    assert actions[0]["url"] == "https://acme.zendesk.com/agent/tickets/42"
    assert actions[1]["value"] == actions[2]["value"] == "ticket:42"
    assert router.send(comment(42, 502, "VIP, careful", public=False)) == []
    assert router.send(comment(42, 501, "Try turning it off and on again, then call me")) == []  # redelivered
    status = dms(router.send(status_change(42, "solved", "open")))
    assert set(status) == {"U0DAVE", "U0ERIN"}
    assert "is now *solved* (was open)" in status["U0DAVE"].text


def test_threadline_s_own_comments_are_not_told(router):
    follow(router, "follow 42")
    assert router.send(comment(42, 503, "Solved from Slack by Alice.", author_id="999")) == []


def test_requester_comments_are_a_choice_of_their_own(router):
    follow(router, "follow 42 requester")
    assert router.send(comment(42, 601, "An agent says hi")) == []
    [dm] = router.send(comment(42, 602, "Still broken!", staff=False, author="Alice"))
    assert "*Alice* commented on ticket" in dm.text and "Still broken!" in dm.text


def test_a_follower_outside_the_thread_s_channel_gets_no_text(router):
    follow(router, "follow 42", sees_thread=False)
    [dm] = router.send(comment(42, 501, "the secret fix"))
    assert "secret" not in dm.text and "Summary only" in dm.text


def test_unfollow_by_command_and_by_button_stops_the_messages(router):
    follow(router, "follow 42", user="U0CAROL")
    follow(router, "follow 42", user="U0DAVE")
    [bye] = router.send(slash("unfollow 42", user="U0CAROL"))
    assert bye.text.startswith("You no longer follow ticket #42.")
    [bye] = router.send(press("threadline.unfollow", "ticket:42", user="U0DAVE"))
    assert command_type(bye) == "slack.respond" and bye.text.startswith("You no longer follow ticket #42.")
    assert router.send(comment(42, 501, "anyone there?")) == []
    assert router.send(press("threadline.unfollow", "ticket:42", user="U0DAVE")) == []  # Slack's retry
    [again] = router.send(slash("unfollow 42", user="U0CAROL", event_id="other"))
    assert again.text == "You do not follow ticket #42."
    [mine] = router.send(slash("following", user="U0CAROL"))
    assert mine.text.startswith("You follow no tickets.")


def test_following_again_changes_the_choices_without_asking_zendesk(router):
    follow(router, "follow 42")
    [answer] = router.send(slash("follow 42 status", event_id="again"))
    assert command_type(answer) == "slack.respond" and "from now on you hear of status changes." in answer.text
    assert router.send(comment(42, 501, "hello")) == []
    assert len(router.send(status_change(42, "pending", "open"))) == 1


def test_show_latest_comment_asks_zendesk_sync_with_the_follower_s_choices(router):
    follow(router, "follow 42 first 50", sees_thread=False)
    [command] = router.send(press("threadline.latest_comment", "ticket:42"))
    assert command_type(command) == "zendesk.describe_ticket"
    assert (command.show, command.detail, command.ticket_id) == ("latest_comment", "summary", 42)


def test_a_follow_by_thread_link_and_by_the_confirmation_s_button(router):
    router.send(slack_record(message_body("C1", "1700000000.000100", "printer on fire")))
    router.send(SyncResult(kind="ticket_created", conversation_id="T1:C1:1700000000.000100", command_id="c",
                           ticket_id=42))  # fmt: skip
    link = "https://acme.slack.com/archives/C1/p1700000000000100"
    [check] = router.send(slash(f"follow {link} replies"))
    assert command_type(check) == "zendesk.check_follower"
    assert (check.ticket_id, check.thread_channel_id, check.conversation_id) == (42, "C1", "ticket:42")
    assert check.choices.what == ["agent_replies"]
    router.send(checked(check))
    [bye] = router.send(slash(f"unfollow {link}"))  # the thread's row tells the ticket's row
    assert bye.text.startswith("You no longer follow ticket #42.")
    [button] = router.send(press("threadline.follow", "T1:C1:1700000000.000100"))
    assert command_type(button) == "zendesk.check_follower" and button.thread_channel_id == "C1"
    [none] = router.send(press("threadline.follow", "T1:C1:1700000000.000999", event_id="p2"))
    assert none.text.startswith("This thread has no Zendesk ticket yet")


def test_an_emailed_ticket_is_followed_like_any_other(router):
    follow(router, "follow 77")
    created = zendesk_record("created", 77, None, {}, via={"channel": "mail"}, group_id="10", subject="Invoice")
    assert [command_type(c) for c in router.send(created)] == ["slack.open_thread"]  # its conversation's, not ours
    [dm] = router.send(comment(77, 701, "Paid, thanks", external_id=None))
    assert dm.user == "U0CAROL" and "Paid, thanks" in dm.text


def test_a_ticket_nobody_follows_costs_nothing(router):
    assert router.send(comment(42, 501, "hello")) == []
    assert router.row("ticket:42") is None


def test_each_follower_s_dm_names_their_own_workspace(router, ctx):
    """The ticket's row has no workspace in its key: the decision says whose each DM is (the
    router sends it as the command's threadline-slack-team header, for that workspace's token)."""
    follow(router, "follow 42", user="U0CAROL")
    other = slash("follow 42", user="W2DANA")
    other["team_id"] = other["body"]["team_id"] = "T2"
    [check] = router.send(other)
    assert check.team_id == "T2"
    router.send(checked(check))
    event = decode_zendesk(comment(42, 502, "Fixed now"))
    decision = route_follow_row(event, router.row("ticket:42"), "ticket:42", ctx)
    assert {c.user: decision.teams[c.command_id] for c in decision.commands} == {"U0CAROL": "T1", "W2DANA": "T2"}

"""`/support` and its subcommands, as the person who typed them sees the answers: the router's
rules as pure functions, every command checked against its contract."""

from __future__ import annotations

import pytest
from router.follow_support import Router, slash
from threadline_testing.records import message_body, slack_record

from threadline_common.channels import parse_channels
from threadline_router.inbound import SyncResult
from threadline_router.rules import Context, command_type

pytestmark = pytest.mark.unit

CHANNELS = {
    "defaults": {"zendesk": {"tags": ["slack"]}},
    "channels": {
        "C1": {
            "name": "support",
            "zendesk": {"group_id": 10},
            "emoji": {"urgent": {"names": ["rotating_light"], "who": "requester_and_responders"}},
            "on_call": {"escalation_policy_id": "PPOLSUP"},
            "reminders": {"after_minutes": 30, "max_reminders": 2},
            "out_of_hours": {},
        },
        "C2": {
            "name": "infra",
            "auto_open": False,
            "emoji": {"open": {"names": ["ticket"], "who": ["U0SAM"]}},
            "on_closed_reply": "notice",
            "timezone": "Europe/Paris",
        },
    },
}


@pytest.fixture
def ctx() -> Context:
    return Context(channels=parse_channels(CHANNELS), bot_user_id="UBOT", zendesk_api_user_id=999,
                   now="2026-11-23T10:00:00Z")  # fmt: skip


@pytest.fixture
def router(ctx) -> Router:
    return Router(ctx)


def only_answer(commands) -> str:
    [command] = commands
    assert command_type(command) == "slack.respond" and command.response_type == "ephemeral"
    assert command.user == "U0CAROL" and command.response_url.startswith("https://hooks.slack.com/")
    return command.text


def test_help_describes_this_channel_from_its_configuration(router):
    text = only_answer(router.send(slash("help")))
    assert "#support" in text
    assert "Every new message" in text
    assert ":rotating_light:" in text and "only the requester or the people who replied" in text
    assert "Business hours: Mon, Tue, Wed, Thu, Fri, 09:00 to 17:00 (UTC)" in text
    assert "hears when the team is back" in text
    assert "30 min: who is on call is reminded (at most 2 times)" in text
    for sub in ("status", "open", "follow", "unfollow", "following", "oncall"):
        assert f"/support {sub}" in text
    assert only_answer(router.send(slash(""))) == text  # nothing typed: the same help


def test_help_in_a_channel_that_opens_by_emoji_and_in_an_unserved_one(router):
    infra = only_answer(router.send(slash("help", channel="C2")))
    assert "#infra" in infra and "marks it with :ticket:" in infra and "<@U0SAM>" in infra
    assert "Every new message" not in infra and "(Europe/Paris)" in infra
    assert "not sent to Zendesk" in infra  # on_closed_reply: notice
    elsewhere = only_answer(router.send(slash("help", channel="C9")))
    assert elsewhere.startswith("*Threadline does not serve this channel*")
    assert "/support follow" in elsewhere


@pytest.mark.parametrize("text", ["frobnicate", "STATUSES now"])
def test_an_unknown_subcommand_gets_one_line_and_the_short_help(router, text):
    answer = only_answer(router.send(slash(text)))
    assert answer.startswith("`") and "is not a /support command" in answer and "/support help" in answer


def test_a_subcommand_the_person_types_with_slack_markup_cannot_ping_anyone(router):
    answer = only_answer(router.send(slash("<!channel>")))
    assert "<!channel>" not in answer and "&lt;!channel&gt;" in answer


def test_status_without_a_ticket_explains_how_to_name_one(router):
    answer = only_answer(router.send(slash("status")))
    assert "Slack does not allow slash commands in threads" in answer and "/support status 42" in answer
    bad = only_answer(router.send(slash("status banana")))
    assert "`banana` is not a ticket number or a thread link" in bad


def test_status_of_a_ticket_number_is_looked_up_by_zendesk_sync(router):
    for text in ("status 42", "status #42", "status https://acme.zendesk.com/agent/tickets/42"):
        [command] = router.send(slash(text))
        assert command_type(command) == "zendesk.describe_ticket"
        assert (command.ticket_id, command.show, command.user) == (42, "status", "U0CAROL")
        assert command.conversation_id == "ticket:42"
        assert command.response_url == "https://hooks.slack.com/commands/T1/1/U0CAROL"


def test_ticket_number_zero_is_no_ticket(router):
    assert only_answer(router.send(slash("status 0"))) == "`0` is not a ticket number."
    assert only_answer(router.send(slash("follow #0"))) == "`0` is not a ticket number."


def test_status_of_a_thread_link_answers_from_the_thread_s_ticket(router, ctx):
    link = "<https://acme.slack.com/archives/C1/p1700000000000100|thread>"
    no_ticket = only_answer(router.send(slash(f"status {link}")))
    assert no_ticket == "That thread has no Zendesk ticket (yet)."
    router.send(slack_record(message_body("C1", "1700000000.000100", "printer on fire")))
    router.send(
        SyncResult(kind="ticket_created", conversation_id="T1:C1:1700000000.000100", command_id="c", ticket_id=42)
    )
    [command] = router.send(slash(f"status {link}"))
    assert command_type(command) == "zendesk.describe_ticket"
    assert (command.ticket_id, command.thread_channel_id, command.conversation_id) == (
        42,
        "C1",
        "T1:C1:1700000000.000100",
    )


def test_oncall_asks_pagerduty_through_zendesk_sync_or_says_there_is_none(router):
    [command] = router.send(slash("oncall"))
    assert command_type(command) == "oncall.answer"
    assert (command.channel_id, command.escalation_policy_id, command.schedule_id) == ("C1", "PPOLSUP", None)
    assert only_answer(router.send(slash("oncall", channel="C2"))) == "No on-call is configured for this channel."
    unserved = only_answer(router.send(slash("oncall", channel="C9")))
    assert unserved == "Threadline does not serve this channel, so it has no on-call."


def test_the_same_command_delivered_twice_is_the_same_answer(router):
    first, second = router.send(slash("help", event_id="e1")), router.send(slash("help", event_id="e1"))
    assert [c.command_id for c in first] == [c.command_id for c in second]
    assert router.send(slash("help", event_id="e2"))[0].command_id != first[0].command_id


def test_open_is_the_ticket_form(router):
    [command] = router.send(slash("open my laptop is slow"))  # rules.forms.open_from_command
    assert command_type(command) == "slack.open_view"


def test_report_asks_for_the_latest_full_period_of_this_channel_or_another(router):
    [daily] = router.send(slash("report daily"))
    assert command_type(daily) == "report.answer"
    assert (daily.kind, daily.channel_id, daily.date, daily.report_channel_id) == ("daily", "C1", "2026-11-22", "C1")
    [weekly] = router.send(slash("report weekly <#C2|infra>"))
    assert (weekly.kind, weekly.channel_id, weekly.date) == ("weekly", "C2", "2026-11-16")
    [by_name] = router.send(slash("report Weekly #infra", event_id="by-name"))
    assert by_name.channel_id == "C2"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("report", "Use `/support report daily|weekly [#channel]`"),
        ("report monthly", "Use `/support report daily|weekly [#channel]`"),
        ("report daily #nowhere", "`#nowhere` is not a channel Threadline serves."),
        ("report daily <#C9|random>", "Threadline does not serve <#C9>, so it has no reports."),
    ],
)
def test_a_report_of_nothing_gets_one_line(router, text, said):
    assert only_answer(router.send(slash(text))).startswith(said)

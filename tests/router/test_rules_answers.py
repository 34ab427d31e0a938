"""Automatic answers as pure rules: a customer's new question gets one offer (the matching rules,
the searches the channel asks for), once per thread; the requester's feedback solves or calls a
person, once; anyone else's press changes nothing but hears why."""

from __future__ import annotations

import pytest
from threadline_testing.interactions import interaction_record, press
from threadline_testing.records import message_body, slack_record

from threadline_common import answers
from threadline_common.channels import parse_channels
from threadline_router.inbound import SyncResult, decode_slack
from threadline_router.rules import Context, command_type, route

from .test_rules import assert_valid_output

pytestmark = pytest.mark.unit

CID = "T1:C1:100.000100"
URL = "https://acme.zendesk.com/agent/tickets/42"
RULES = [
    {"id": "vpn", "keywords": ["vpn"], "answer": "Try <https://wiki.example.com/vpn|the VPN guide>."},
    {"id": "password", "regex": r"(?i)\bpassword\b", "answer": "Reset it at https://id.example.com."},
    {"id": "logs", "keywords": ["logs"], "answer": "Please attach your logs.", "first_message_only": False},
]


def context(answers_config, on_call=False) -> Context:
    c1 = {"name": "support", "answers": answers_config}
    if on_call:
        c1["on_call"] = {"escalation_policy_id": "PPOL"}
    channels = parse_channels(
        {
            "channels": {"C1": c1, "C2": {"name": "plain"}},
            "direct_messages": {"enabled": True, "answers": answers_config},
        }
    )
    return Context(channels=channels, bot_user_id="UBOT", bot_id="BBOT", now="2026-11-23T14:05:00Z")


@pytest.fixture
def ctx() -> Context:
    return context({"rules": RULES, "similar_solved": True, "help_center": {"locale": "en-us"}})


def decide(record, state, ctx):
    event = decode_slack(record)
    assert event is not None
    decision = route(event, state, ctx)
    assert_valid_output(decision)
    return decision


def ask(text, ctx, channel="C1", user="UALICE", ts="100.000100", state=None, thread_ts=None):
    return decide(slack_record(message_body(channel, ts, text, user=user, thread_ts=thread_ts)), state, ctx)


def offers(decision):
    return [c for c in decision.commands if command_type(c) == "slack.post_answers"]


def created(state, ctx, ticket_id=42):
    result = SyncResult(kind="ticket_created", conversation_id=CID, command_id="c", ticket_id=ticket_id, ticket_url=URL)
    return route(result, state, ctx)


def test_a_new_question_matching_rules_gets_one_offer_with_every_match_and_the_searches(ctx):
    decision = ask("My VPN password expired, logs attached", ctx)
    assert [command_type(c) for c in decision.commands] == ["zendesk.create_ticket", "slack.post_answers"]
    [offer] = offers(decision)
    assert offer.command_id == f"answers:{CID}"
    assert (offer.channel_id, offer.thread_ts, offer.requester, offer.team_id) == ("C1", "100.000100", "UALICE", "T1")
    assert [r.id for r in offer.rules] == ["vpn", "password", "logs"]  # config order
    assert offer.rules[0].answer == RULES[0]["answer"]
    assert offer.question == "My VPN password expired, logs attached"
    assert offer.similar_solved and offer.help_center is not None and offer.help_center.locale == "en-us"


def test_no_rule_matching_still_searches_when_the_channel_asks_for_it(ctx):
    [offer] = offers(ask("The coffee machine is broken", ctx))
    assert offer.rules == [] and offer.similar_solved


def test_nothing_is_offered_when_nothing_matches_and_nothing_is_searched():
    ctx = context({"rules": RULES})
    decision = ask("The coffee machine is broken", ctx)
    assert offers(decision) == [] and [command_type(c) for c in decision.commands] == ["zendesk.create_ticket"]
    assert offers(ask("vpn down", ctx))  # the same channel still answers its rules


def test_a_channel_without_answers_offers_nothing(ctx):
    assert offers(ask("vpn down", ctx, channel="C2")) == []


def test_a_private_request_by_direct_message_gets_its_answers(ctx):
    [offer] = offers(ask("vpn down", ctx, channel="D0ALICE"))
    assert offer.channel_id == "D0ALICE" and [r.id for r in offer.rules] == ["vpn"]


def test_a_redelivered_or_edited_question_is_not_offered_again(ctx):
    state = ask("vpn down", ctx).state
    assert offers(ask("vpn down", ctx, state=state)) == []  # Slack retried the event
    edit = {
        "team_id": "T1",
        "type": "event_callback",
        "event_id": "EvEdit",
        "event": {
            "type": "message",
            "subtype": "message_changed",
            "channel": "C1",
            "ts": "100.000900",
            "message": {
                "user": "UALICE",
                "text": "vpn and password",
                "ts": "100.000100",
                "edited": {"ts": "100.000900"},
            },
        },
    }
    assert offers(decide(slack_record(edit), state, ctx)) == []


def test_a_follow_up_gets_only_follow_up_rules_and_never_a_rule_twice(ctx):
    state = ask("vpn down", ctx).state
    state = created(state, ctx).state
    reply = ask("vpn still down, here are my logs", ctx, ts="100.000500", state=state, thread_ts="100.000100")
    [offer] = offers(reply)
    assert [r.id for r in offer.rules] == ["logs"]  # vpn answers the question only
    assert offer.command_id == f"answers:{CID}:100.000500"
    assert not offer.similar_solved and offer.help_center is None  # the searches are for the question
    again = ask("more logs", ctx, ts="100.000600", state=reply.state, thread_ts="100.000100")
    assert offers(again) == []  # logs was offered in this thread already
    other = ask("logs from bob", ctx, user="UBOB", ts="100.000700", state=again.state, thread_ts="100.000100")
    assert offers(other) == []  # someone answering is not the customer asking


def test_a_follow_up_matching_nothing_new_offers_nothing(ctx):
    state = created(ask("vpn down", ctx).state, ctx).state
    assert offers(ask("thanks", ctx, ts="100.000500", state=state, thread_ts="100.000100")) == []


# --- feedback -----------------------------------------------------------------------------------

OFFER_BLOCKS = answers.blocks(CID, ["Try the VPN guide."], [], [])


def feedback(action, user, state, ctx, event_id):
    body = press(action, CID, user)
    body["message"]["blocks"] = OFFER_BLOCKS
    return decide(interaction_record(body, event_id), state, ctx)


@pytest.fixture
def offered(ctx):
    """Alice asked about the VPN in C1, was offered the vpn answer, and her ticket #42 exists."""
    return created(ask("vpn down", ctx).state, ctx).state


def test_this_solved_it_by_the_requester_solves_tags_thanks_and_rewrites_the_buttons(offered, ctx):
    decision = feedback(answers.SOLVED, "UALICE", offered, ctx, "Ev1")
    assert [command_type(c) for c in decision.commands] == [
        "zendesk.answer_solved",
        "slack.post_message",
        "slack.update_message",
    ]
    solve, thanks, update = decision.commands
    assert solve.ticket_id == 42 and solve.author.slack_user_id == "UALICE"
    assert solve.tags == ["threadline_answered", "threadline_answer_vpn"] and solve.rule_ids == ["vpn"]
    assert "<@UALICE>" in thanks.text and thanks.thread_ts == "100.000100"
    assert (update.channel_id, update.ts) == ("C1", "100.000200")
    assert "Solved by this answer — thanks <@UALICE>" in update.text
    assert not [b for b in update.blocks if b["type"] == "actions"]  # nothing left to press
    assert any(b["type"] == "section" and "VPN guide" in b["text"]["text"] for b in update.blocks)


def test_a_double_click_or_a_retry_solves_once(offered, ctx):
    once = feedback(answers.SOLVED, "UALICE", offered, ctx, "Ev1")
    assert feedback(answers.SOLVED, "UALICE", once.state, ctx, "Ev1").commands == []  # Slack's retry
    assert feedback(answers.SOLVED, "UALICE", once.state, ctx, "Ev2").commands == []  # a second click
    assert feedback(answers.MORE, "UALICE", once.state, ctx, "Ev3").commands == []  # answered already


def test_someone_else_pressing_hears_only_the_requester_can_answer_and_nothing_changes(offered, ctx):
    for action in (answers.SOLVED, answers.MORE):
        decision = feedback(action, "UBOB", offered, ctx, "Ev1")
        [told] = decision.commands
        assert command_type(told) == "slack.respond" and told.user == "UBOB" and told.response_type == "ephemeral"
        assert told.text == "Only the person who asked can answer this."
        assert decision.state == offered


def test_i_still_need_help_says_a_person_is_coming_once(offered, ctx):
    decision = feedback(answers.MORE, "UALICE", offered, ctx, "Ev1")
    assert [command_type(c) for c in decision.commands] == ["slack.post_message", "slack.update_message"]
    coming, update = decision.commands
    assert "a person is coming" in coming.text
    assert "still needs help" in update.text and not [b for b in update.blocks if b["type"] == "actions"]
    assert feedback(answers.MORE, "UALICE", decision.state, ctx, "Ev2").commands == []
    assert feedback(answers.SOLVED, "UALICE", decision.state, ctx, "Ev3").commands == []


def test_i_still_need_help_names_who_is_on_call_where_the_channel_has_on_call():
    ctx = context({"rules": RULES}, on_call=True)
    state = created(ask("vpn down", ctx).state, ctx).state
    decision = feedback(answers.MORE, "UALICE", state, ctx, "Ev1")
    [named] = [c for c in decision.commands if command_type(c) == "oncall.notify"]
    assert named.escalation_policy_id == "PPOL" and not named.assign and named.thread_ts == "100.000100"


def test_this_solved_it_before_the_ticket_exists_solves_it_once_it_is_created(ctx):
    state = ask("vpn down", ctx).state  # the ticket is still being created
    pressed = feedback(answers.SOLVED, "UALICE", state, ctx, "Ev1")
    assert [command_type(c) for c in pressed.commands] == ["slack.post_message", "slack.update_message"]
    opened = created(pressed.state, ctx)
    [solve] = [c for c in opened.commands if command_type(c) == "zendesk.answer_solved"]
    assert solve.ticket_id == 42 and "threadline_answer_vpn" in solve.tags
    assert [c for c in created(opened.state, ctx).commands if command_type(c) == "zendesk.answer_solved"] == []


def test_the_feedback_is_an_activity_naming_the_rules_offered(offered, ctx):
    [said] = feedback(answers.SOLVED, "UALICE", offered, ctx, "Ev1").activity
    assert (said.type, said.schema_version, said.actor.id, said.actor.role) == (
        "answer_feedback",
        2,
        "UALICE",
        "requester",
    )
    assert said.answer.rule_ids == ["vpn"] and said.answer.feedback == "solved" and said.ticket_id == 42
    [more] = feedback(answers.MORE, "UALICE", offered, ctx, "Ev1").activity
    assert more.answer.feedback == "more" and more.event_id == said.event_id


def test_a_team_member_s_question_gets_no_answer_even_when_it_opens_a_ticket():
    """`team_posts: open_ticket`: a team member's post is a request, but nothing is suggested to them."""
    channels = parse_channels(
        {
            "channels": {
                "C1": {"name": "support", "answers": {"rules": RULES}, "team": ["S0TEAM"], "team_posts": "open_ticket"}
            }
        }
    )
    ctx = Context(
        channels=channels, bot_user_id="UBOT", bot_id="BBOT", now="2026-11-23T14:05:00Z", groups={"S0TEAM": ("USAM",)}
    )
    by_sam = ask("my vpn drops", ctx, user="USAM")
    assert [command_type(c) for c in by_sam.commands] == ["zendesk.create_ticket"] and offers(by_sam) == []
    by_alice = ask("my vpn drops", ctx, user="UALICE", ts="100.000200")
    assert len(offers(by_alice)) == 1

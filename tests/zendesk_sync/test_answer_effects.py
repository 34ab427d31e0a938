"""Automatic answers performed against the sandboxes: the offer is one threaded message (the rule
answers, similar solved conversations, Help Center links, the two buttons), posted once even when
retried after a crash, and nothing when there is nothing to offer; "This solved it" solves and
tags the ticket once."""

from __future__ import annotations

import pytest
from threadline_testing.interactions import interaction_record, press

from threadline_common import answers
from threadline_router.inbound import decode_slack
from threadline_zendesk_sync import suggestions
from threadline_zendesk_sync.effects import Effects

from .conftest import router_for, user

RULES = [{"id": "vpn", "keywords": ["vpn"], "answer": "Try <https://wiki.example.com/vpn|the VPN guide>."}]
SIMILAR = [
    suggestions.Suggestion(
        "VPN drops <every> hour", "https://acme.zendesk.com/agent/tickets/7", "solved 3 days ago: new profile"
    )
]
ARTICLES = [suggestions.Suggestion("Set up the VPN", "https://help.example.com/articles/1", "Install the client")]


@pytest.fixture
def found(monkeypatch):
    """What the searches find (their own tests are the search module's)."""
    asked: list[tuple[str, dict]] = []

    async def similar(reporter, **kw):
        asked.append(("similar", kw))
        return list(SIMILAR)

    async def articles(zendesk, **kw):
        asked.append(("articles", kw))
        return list(ARTICLES)

    monkeypatch.setattr(suggestions, "similar_solved", similar)
    monkeypatch.setattr(suggestions, "help_center_articles", articles)
    return asked


def answering_router(slack, zendesk, rules=RULES, **more):
    return router_for(
        slack,
        zendesk,
        {
            "C0SUPPORT": {
                "name": "support",
                "zendesk": {"group_id": zendesk.group_id},
                "answers": {"rules": rules, **more},
            }
        },
    )


def offers(slack, root):
    return [m for m in slack.thread("C0SUPPORT", root) if m.get("bot_id") and answers.SOLVED in str(m.get("blocks"))]


async def test_the_offer_is_one_message_with_answers_suggestions_and_buttons_posted_once(
    slack, zendesk, settings, found
):
    router = answering_router(slack, zendesk, similar_solved=True, help_center={"locale": "en-us"})
    root = user(slack, "alice").chat_postMessage(channel="C0SUPPORT", text="My VPN drops")["ts"]
    [_, offer] = router.message(slack, "C0SUPPORT", root)
    outcome = await Effects(settings).perform(offer)
    again = await Effects(settings).perform(offer)  # a retry after a crash: a new worker, nothing cached

    assert (outcome.effect, again.effect) == ("done", "already_done")
    [posted] = offers(slack, root)
    assert posted["thread_ts"] == root
    shown = str(posted["blocks"])
    assert "the VPN guide" in shown and "Similar solved conversations" in shown and "Help Center" in shown
    assert "<https://acme.zendesk.com/agent/tickets/7|VPN drops &lt;every&gt; hour>" in shown  # escaped
    assert "<https://help.example.com/articles/1|Set up the VPN>" in shown
    [actions] = [b for b in posted["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        (answers.SOLVED, f"T0SANDBOX:C0SUPPORT:{root}"),
        (answers.MORE, f"T0SANDBOX:C0SUPPORT:{root}"),
    ]
    assert [kind for kind, _ in found] == ["similar", "articles"]  # the retry searched nothing
    assert found[0][1]["exclude_conversation"] == f"T0SANDBOX:C0SUPPORT:{root}" and found[1][1]["locale"] == "en-us"
    [record] = outcome.activity
    assert (record.type, record.answer.rule_ids, record.answer.similar, record.answer.articles) == (
        "answer_offered", ["vpn"], 1, 1,
    )  # fmt: skip
    assert again.activity == [record]  # the same record (counts read back from the post), not a second offer


async def test_nothing_is_posted_when_no_rule_matched_and_the_searches_found_nothing(slack, zendesk, settings):
    router = answering_router(slack, zendesk, similar_solved=True)
    root = user(slack, "alice").chat_postMessage(channel="C0SUPPORT", text="The coffee machine")["ts"]
    [_, offer] = router.message(slack, "C0SUPPORT", root)
    outcome = await Effects(settings).perform(offer)  # the placeholder searches find nothing
    assert outcome.effect == "skipped" and "nothing to offer" in outcome.detail and outcome.activity == []
    assert [m for m in slack.thread("C0SUPPORT", root) if m.get("bot_id")] == []


async def test_this_solved_it_solves_and_tags_the_ticket_once(slack, zendesk, settings):
    router = answering_router(slack, zendesk)
    effects = Effects(settings)
    root = user(slack, "alice").chat_postMessage(channel="C0SUPPORT", text="vpn is down")["ts"]
    create, offer = router.message(slack, "C0SUPPORT", root)
    created = await effects.perform(create)
    router.results(created)
    await effects.perform(offer)
    [posted] = offers(slack, root)
    conversation = f"T0SANDBOX:C0SUPPORT:{root}"
    body = press(answers.SOLVED, conversation, "U0ALICE", channel="C0SUPPORT", message_ts=posted["ts"], thread_ts=root)
    event = decode_slack(interaction_record(body, "Ev-press"))
    assert event is not None
    [solve, _thanks, _rewrite] = router._apply(event, conversation)

    outcomes = [await effects.perform(solve), await Effects(settings).perform(solve)]

    assert [o.effect for o in outcomes] == ["done", "already_done"]
    ticket = zendesk.ticket(created.results[0].ticket_id)
    assert ticket["status"] == "solved"
    assert {"slack", "threadline_answered", "threadline_answer_vpn"} <= set(ticket["tags"])
    notes = [c for c in zendesk.comments_of(ticket["id"]) if "automatic answer solved it" in c["body"]]
    assert len(notes) == 1 and not notes[0]["public"] and "(rules: vpn)" in notes[0]["body"]

"""Help Center suggestions through zendesk-sync's own Zendesk client against the Zendesk sandbox:
the articles that answer a question, as plain text; nothing, and one log line, when Zendesk
fails or is too slow. The pure conversions of both searches' results."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from zenpy.lib.api_objects.help_centre_objects import Article

from threadline_zendesk_sync import suggestions
from threadline_zendesk_sync.suggestions import Suggestion, article_suggestion, help_center_articles, similar_solved

SECTION = 1022  # the sandbox's seeded "IT help" section


@pytest.fixture
def articles(zen):
    made = {}
    for title, body, locale in (
        ("Connecting to the VPN from home", "<p>Install the <b>VPN</b> client &amp; sign in with SSO.</p>", "en-us"),
        ("Resetting your password", "<p>Open <a href='https://id.example'>the password page</a>.</p>", "en-us"),
        ("Se connecter au VPN", "<p>Installez le client VPN.</p>", "fr"),
    ):
        made[title] = zen.help_center.articles.create(
            section=SECTION, article=Article(title=title, body=body, locale=locale)
        )
    return made


async def test_the_articles_that_answer_a_question_in_its_locale(effects, articles):
    found = await help_center_articles(effects.zendesk, text="How do I get VPN access from home?", locale="en-us")
    vpn = articles["Connecting to the VPN from home"]
    assert found[0] == Suggestion(
        title="Connecting to the VPN from home",
        url=vpn.html_url,
        detail="Install the VPN client & sign in with SSO.",  # the snippet, its <em> and entities gone
    )
    assert all(s.title != "Se connecter au VPN" for s in found)
    french = await help_center_articles(effects.zendesk, text="VPN", locale="fr")
    assert [s.title for s in french] == ["Se connecter au VPN"]
    reset = await help_center_articles(effects.zendesk, text="password reset please", locale=None, limit=1)
    assert [s.title for s in reset] == ["Resetting your password"]


@pytest.mark.parametrize("fault", ["error", "timeout"])
async def test_a_failing_or_slow_help_center_suggests_nothing_and_says_so_once(
    effects, zendesk, articles, caplog, monkeypatch, fault
):
    if fault == "error":
        zendesk.set_knobs(error_rate=1.0, error_status=500)
    else:
        monkeypatch.setattr(suggestions, "SEARCH_TIMEOUT_SECONDS", 0.3)
        zendesk.set_knobs(latency_seconds=2.0)
    with caplog.at_level(logging.WARNING, logger=suggestions.__name__):
        assert await help_center_articles(effects.zendesk, text="VPN from home", locale="en-us") == []
    lines = [r for r in caplog.records if r.name == suggestions.__name__]
    assert len(lines) == 1 and "Help Center articles not suggested" in lines[0].getMessage()


@pytest.mark.unit
async def test_no_reporter_no_similar_conversations():
    assert await similar_solved(None, team_id="T1", channel="C1", text="vpn", exclude_conversation="T1:C1:1") == []


@pytest.mark.unit
def test_a_similar_conversation_reads_as_when_and_how_it_was_solved():
    now = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    found = {
        "conversation_id": "T1:C1:1.2",
        "ticket_id": 42,
        "question": "VPN fails from home",
        "answer": "Renewed your certificate.",
        "solved_at": "2026-11-20T10:00:00.000Z",
        "solved_source": "zendesk",
    }
    made = suggestions.solved_suggestion(found, lambda t: f"https://z.example/agent/tickets/{t}", now)
    assert made == Suggestion(
        "VPN fails from home", "https://z.example/agent/tickets/42", "solved 3 days 0 h ago: Renewed your certificate."
    )
    unanswered = suggestions.solved_suggestion({**found, "answer": None, "solved_source": "slack"}, str, now)
    assert unanswered is not None and unanswered.detail == "solved 3 days 0 h ago: marked solved in Slack"
    assert suggestions.solved_suggestion({**found, "ticket_id": None}, str, now) is None


@pytest.mark.unit
def test_an_article_without_a_snippet_shows_the_beginning_of_its_body_as_text():
    article = {
        "title": "VPN",
        "html_url": "https://h.example/hc/en-us/articles/1",
        "body": "<p>A&nbsp;<i>b</i></p>" * 60,
    }
    made = article_suggestion(article)
    assert made is not None and made.detail.startswith("A b A b") and len(made.detail) == suggestions.MAX_DETAIL
    assert "<" not in made.detail and made.detail.endswith("…")
    assert article_suggestion({"title": "No page"}) is None


async def test_the_demo_articles_answer_the_demo_questions_once_written_twice(effects, zen):
    from threadline_devstack.help_center import ARTICLES, seed_articles

    ids = seed_articles(zen, SECTION)
    assert seed_articles(zen, SECTION) == ids and len(ids) == len(ARTICLES)  # `up` again writes nothing new
    vpn = await help_center_articles(effects.zendesk, text="How do I get VPN access from home?", locale="en-us")
    assert vpn[0].title == "Connecting to the VPN from home"
    reset = await help_center_articles(effects.zendesk, text="I need a password reset, mine expired", locale="en-us")
    assert reset[0].title == "Resetting your password"

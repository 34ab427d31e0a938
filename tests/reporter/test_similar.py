"""GET /similar on the real node: conversations indexed from activity through the reporter, a
question asked, the solved ones of the same team and channel that look like it come back, best
first; never an open one, another channel's or team's, nor the asking conversation; and with no
text kept, the search says it is off."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from threadline_reporter.app import create_app
from threadline_reporter.similar import first_line
from threadline_sandbox.common import BackgroundServer
from threadline_zendesk_sync.reporter_client import Reporter
from threadline_zendesk_sync.suggestions import similar_solved

from .conftest import API_TOKEN, produce, wait_until

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
TEAM = "T0SANDBOX"


def conversation(
    key: str, ticket: int, question: str, answer: str | None, *, solved: bool, channel: str = "C0SUPPORT",
    team: str = TEAM,
) -> list[dict[str, Any]]:  # fmt: skip
    ts = f"1763600{ticket:03d}.000100"
    cid = f"{team}:{channel}:{ts}"
    base = {"schema_version": 1, "conversation_id": cid, "channel_id": channel, "thread_ts": ts}
    out: list[dict[str, Any]] = [
        {**base, "event_id": f"slack:{channel}:{ts}", "type": "message", "occurred_at": "2026-11-20T09:00:00Z",
         "ticket_id": None, "source": "slack", "text": question, "actor": {"id": f"U{key}", "role": "requester"}},
        {**base, "event_id": f"zd-created:{ticket}", "type": "ticket_created", "occurred_at": "2026-11-20T09:00:05Z",
         "ticket_id": ticket, "source": "zendesk", "status": "new", "actor": {"id": None, "role": "system"}},
    ]  # fmt: skip
    if answer:
        out.append(
            {**base, "event_id": f"zd-comment:{ticket}", "type": "comment", "occurred_at": "2026-11-20T09:30:00Z",
             "ticket_id": ticket, "source": "zendesk", "text": answer, "actor": {"id": "901", "role": "agent"}}
        )  # fmt: skip
    if solved:
        out.append(
            {**base, "event_id": f"zd-status:{ticket}", "type": "status_change", "occurred_at": "2026-11-20T10:00:00Z",
             "ticket_id": ticket, "source": "zendesk", "status": "solved", "previous_status": "open",
             "actor": {"id": "901", "role": "agent"}}
        )  # fmt: skip
    return out


def cid(ticket: int, channel: str = "C0SUPPORT", team: str = TEAM) -> str:
    return f"{team}:{channel}:1763600{ticket:03d}.000100"


VPN_SOLVED = 101
STORIES = [
    conversation("A", VPN_SOLVED, "I can't connect to the VPN from home, it says authentication failed\nSince Monday.",
                 "Your VPN certificate had expired: I renewed it.\nReconnect with the new profile.", solved=True),
    conversation("B", 102, "How do I reset my password for the expense tool?",
                 "Use the forgot password link on the login page.", solved=True),
    conversation("C", 103, "The VPN keeps dropping from home every ten minutes, authentication failed each time",
                 "Looking into it", solved=False),
    conversation("D", 104, "The printer on floor 3 is jammed again", "Cleared the jam.", solved=True),
    conversation("E", 105, "VPN from home: authentication failed on the client", "Reinstalled the VPN client.",
                 solved=True),
    # Another channel, another team: never offered here.
    conversation("F", 106, "VPN authentication failed from home on the build server", "Fixed the VPN", solved=True,
                 channel="C0INFRA"),
    conversation("G", 107, "VPN authentication failed from home", "Fixed the VPN", solved=True, team="T0OTHER"),
    # The question being asked now, open.
    conversation("Q", 108, "VPN connection from home fails: authentication failed", None, solved=False),
]  # fmt: skip
QUESTION = "VPN connection from home fails: authentication failed"


@pytest.fixture
def indexed(make_service, es, es_index_prefix, kafka_bootstrap, kafka_topics):
    produce(kafka_bootstrap, kafka_topics.activity, [r for story in STORIES for r in story])

    def count() -> int:
        try:
            return int(es.count(index=f"{es_index_prefix}conversations")["count"])
        except Exception:
            return 0

    servers: list[BackgroundServer] = []

    def start(**overrides: Any) -> tuple[TestClient, Reporter]:
        """The API in this process, and zendesk-sync's client of it over HTTP."""
        service = make_service(web_port=0, **overrides).start()
        wait_until("the conversations are searchable", lambda: count() == len(STORIES))
        app = create_app(service)
        server = BackgroundServer(app)
        server.start()
        servers.append(server)
        return TestClient(app), Reporter(server.url, API_TOKEN, ticket_url=lambda t: f"https://z.example/tickets/{t}")

    yield start
    for server in servers:
        server.stop()


def ask(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    answer = client.get("/similar", params={"team": TEAM, "channel": "C0SUPPORT", **params}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["similar"])


async def test_the_solved_conversations_of_the_same_channel_that_look_alike_come_first(indexed):
    client, reporter = indexed()
    found = ask(client, text=QUESTION, exclude=cid(108), limit=3)
    tickets = [s["ticket_id"] for s in found]
    assert tickets[:2] == [VPN_SOLVED, 105] or tickets[:2] == [105, VPN_SOLVED], found
    assert not {103, 106, 107, 108} & set(tickets)  # open, another channel, another team, the asker
    best = next(s for s in found if s["ticket_id"] == VPN_SOLVED)
    assert best["question"] == "I can't connect to the VPN from home, it says authentication failed"
    assert best["answer"] == "Your VPN certificate had expired: I renewed it."
    assert best["solved_at"] == "2026-11-20T10:00:00.000Z" and best["solved_source"] == "zendesk"
    assert best["conversation_id"] == cid(VPN_SOLVED) and best["thread_ts"] == "1763600101.000100"
    # A password question finds the password conversation, and not the VPN ones.
    assert [s["ticket_id"] for s in ask(client, text="I forgot my password for the expense tool")] == [102]
    # The asking conversation is never its own suggestion, even once solved.
    assert VPN_SOLVED not in [s["ticket_id"] for s in ask(client, text=QUESTION, exclude=cid(VPN_SOLVED))]
    assert len(ask(client, text=QUESTION, limit=1)) == 1
    assert ask(client, text="Kubernetes quota exceeded for namespace") == []
    # zendesk-sync's suggestions, through its client of this API.
    suggested = await similar_solved(
        reporter, team_id=TEAM, channel="C0SUPPORT", text="I forgot my password for the expense tool",
        exclude_conversation=cid(108),
    )  # fmt: skip
    assert [(s.title, s.url) for s in suggested] == [
        ("How do I reset my password for the expense tool?", "https://z.example/tickets/102")
    ]
    assert suggested[0].detail.startswith("solved ") and suggested[0].detail.endswith(
        ": Use the forgot password link on the login page."
    )


async def test_with_no_text_kept_similar_search_is_off(indexed, caplog):
    client, reporter = indexed(text_mode="drop")
    answer = client.get("/similar", params={"team": TEAM, "channel": "C0SUPPORT", "text": QUESTION}, headers=AUTH)
    assert answer.status_code == 409
    assert "THREADLINE_REPORTER_TEXT_MODE=drop" in answer.json()["detail"]
    with caplog.at_level(logging.INFO, logger="threadline_zendesk_sync"):
        for _ in range(2):
            found = await similar_solved(reporter, team_id=TEAM, channel="C0SUPPORT", text=QUESTION,
                                         exclude_conversation=cid(108))  # fmt: skip
            assert found == []
    said = [r.getMessage() for r in caplog.records if r.name.startswith("threadline_zendesk_sync")]
    assert len(said) == 1 and "similar solved conversations are off" in said[0]  # said once, not per question


def test_a_bad_question_is_refused_with_its_reason(indexed):
    client, _ = indexed()
    for params in ({"text": ""}, {"text": "x" * 2001}, {"text": "vpn", "limit": 0}, {"text": "vpn", "limit": 11}):
        answer = client.get("/similar", params={"team": TEAM, "channel": "C0SUPPORT", **params}, headers=AUTH)
        assert answer.status_code == 422, params


@pytest.mark.unit
def test_first_line_skips_blank_lines_and_shortens():
    assert first_line("\n  \n  Hello there  \nmore") == "Hello there"
    assert first_line(None) is None and first_line(" \n ") is None
    assert first_line("x" * 200, 10) == "x" * 9 + "…"

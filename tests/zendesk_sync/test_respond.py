"""slack.respond: the answer to a slash command reaches the person who typed it, only them, through
the command's response_url; a used-up response_url is not retried forever."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from threadline_common.models.generated.commands_v4 import Cause, SlackRespond
from threadline_sandbox.common import BackgroundServer


@pytest.fixture
def acknowledging_app() -> Iterator[str]:
    """An app that acknowledges every command with an empty 200, as ingest does."""

    async def ack(_request) -> Response:
        return Response(status_code=200)

    server = BackgroundServer(Starlette(routes=[Route("/slack/commands", ack, methods=["POST"])]))
    server.start()
    yield f"{server.url}/slack/commands"
    server.stop()


def respond(response_url: str, text: str, **fields) -> SlackRespond:
    return SlackRespond(
        schema_version=3,
        command_id=f"respond:{text}",
        conversation_id="T0SANDBOX:C0SUPPORT:command:U0ALICE",
        issued_at="2026-12-01T10:00:00.000Z",
        cause=Cause(topic="threadline.slack.events", event_id="ev-1"),
        response_url=response_url,
        user="U0ALICE",
        text=text,
        purpose="answer",
        **fields,
    )


async def test_the_answer_is_an_ephemeral_only_its_asker_sees(slack, effects, acknowledging_app):
    slack.commands_url = acknowledging_app
    typed = slack.slash_command("alice", "C0SUPPORT", "/support", "status 42")
    assert typed.status == 200 and typed.message is None  # acknowledged, nothing shown yet

    outcome = await effects.perform(respond(typed.response_url, "Ticket #42 is open."))

    assert outcome.effect == "done"
    seen = slack.ephemerals("alice")
    assert [(e["text"], e["channel"], e["via"]) for e in seen] == [("Ticket #42 is open.", "C0SUPPORT", "response_url")]
    assert slack.ephemerals("bob") == []
    assert not any("Ticket #42" in m.get("text", "") for m in slack.channel_messages("C0SUPPORT"))


async def test_blocks_and_in_channel_answers_are_sent_as_given(slack, effects, acknowledging_app):
    slack.commands_url = acknowledging_app
    typed = slack.slash_command("alice", "C0SUPPORT", "/support", "oncall")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*On call:* <@U0BOB>"}}]

    await effects.perform(respond(typed.response_url, "On call: Bob", blocks=blocks, response_type="in_channel"))

    posted = [m for m in slack.channel_messages("C0SUPPORT") if m.get("text") == "On call: Bob"]
    assert len(posted) == 1 and posted[0]["blocks"] == blocks


async def test_a_used_up_response_url_is_skipped_not_retried(slack, effects, acknowledging_app):
    slack.commands_url = acknowledging_app
    typed = slack.slash_command("alice", "C0SUPPORT", "/support", "help")
    for n in range(slack.knobs.response_url_uses):
        assert (await effects.perform(respond(typed.response_url, f"answer {n}"))).effect == "done"

    outcome = await effects.perform(respond(typed.response_url, "one too many"))

    assert (outcome.effect, outcome.detail) == ("skipped", "response_url refused")
    assert "one too many" not in [e["text"] for e in slack.ephemerals("alice")]

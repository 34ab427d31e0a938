"""Commands whose key names no workspace, with several workspaces: the single bot token is the
first workspace's (T1), the second (T2) has only its install (installations in the real
installations topic). The Slack sandbox, as Slack, answers channel_not_found to another
workspace's token for a channel of T2 and user_not_found to conversations.open for a person of T2.

- the rotating fireman's hand-over (`rotation:<channel>`) is announced in T2's channel with T2's
  token: zendesk-sync asks each token in turn which workspace shows the channel, and keeps it;
- an emailed ticket's thread (`zd:<ticket>`) is opened in T2's channel with T2's token, and the
  conversation is keyed by T2;
- a ticket's DM to a follower (`ticket:<id>`) goes out with the token of the workspace the router
  names in the command's `threadline-slack-team` header (the follower's)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from threadline_testing.installs import install, keep

from threadline_common.installations import TokenResolver, token_resolver
from threadline_common.models.generated.commands_v4 import Cause, SlackDirectMessage, SlackOpenThread, SlackPostMessage
from threadline_common.settings import KafkaSettings
from threadline_common.times import now_iso
from threadline_sandbox.slack import SlackSandbox
from threadline_zendesk_sync.effects import Effects
from threadline_zendesk_sync.plan.failures import PermanentError
from threadline_zendesk_sync.settings import ZendeskSyncSettings

pytestmark = pytest.mark.integration
KEY = Fernet.generate_key().decode()
CAUSE = Cause(topic="threadline.router.inbound", event_id="test")
ISSUED = now_iso()


@pytest.fixture
def tokens(slack: SlackSandbox, kafka_bootstrap: str, kafka_topics) -> Iterator[TokenResolver]:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    slack.add_workspace("T2", "Second Corp")
    slack.add_channel("C2HELP", "help-t2", "T2", members=[slack.bot_user_id, "W2DANA"])
    slack.person_token("T2", "W2DANA")  # Dana is a person of T2
    keep(kafka, kafka_topics.slack_installations, KEY, install(slack, "T2", "Second Corp"))
    resolver = token_resolver(slack.bot_token, KEY, kafka, kafka_topics.slack_installations, "zendesk-sync")
    yield resolver
    assert resolver.store is not None
    resolver.store.close()


def handover(command_id: str) -> SlackPostMessage:
    """What the router's on_handover_tick sends for C2HELP."""
    return SlackPostMessage(
        schema_version=1,
        command_id=command_id,
        conversation_id="rotation:C2HELP",
        issued_at=ISSUED,
        cause=CAUSE,
        channel_id="C2HELP",
        thread_ts=None,
        text=":fire_engine: <@W2DANA> is on duty.",
        purpose="notice",
    )


async def test_a_hand_over_is_announced_in_t2_s_channel_with_t2_s_token(
    slack: SlackSandbox, settings: ZendeskSyncSettings, tokens: TokenResolver
):
    effects = Effects(settings, tokens=tokens)
    try:
        outcome = await effects.perform(handover("handover:C2HELP:2026-12-02T09:00:00Z"))
        assert outcome.effect == "done"
        [posted] = slack.channel_messages("C2HELP")
        assert posted["text"].startswith(":fire_engine:") and posted["_token_team"] == "T2"
        assert effects.slack.channel_workspaces["C2HELP"] == ("T2", None)  # kept: asked once

        # The same hand-over again (a redelivered tick): found, not posted twice.
        again = await effects.perform(handover("handover:C2HELP:2026-12-02T09:00:00Z"))
        assert again.effect == "already_done" and len(slack.channel_messages("C2HELP")) == 1
    finally:
        await effects.close()


async def test_a_follower_of_t2_gets_the_ticket_s_dm_with_t2_s_token(
    slack: SlackSandbox, settings: ZendeskSyncSettings, tokens: TokenResolver
):
    def dm(command_id: str) -> SlackDirectMessage:
        return SlackDirectMessage(
            schema_version=3,
            command_id=command_id,
            conversation_id="ticket:42",
            issued_at=ISSUED,
            cause=CAUSE,
            user="W2DANA",
            text=":speech_balloon: An agent replied on ticket #42.",
            purpose="follow_update",
        )

    effects = Effects(settings, tokens=tokens)
    try:
        # Without the router's word the single token (T1's) opens the DM, and Slack refuses it.
        with pytest.raises(PermanentError, match="user_not_found"):
            await effects.perform(dm("follow-dm:42:W2DANA:e0"))

        outcome = await effects.perform(dm("follow-dm:42:W2DANA:e1"), team_id="T2")
        assert outcome.effect == "done"
        [message] = slack.channel_messages(effects.slack.dm_channels["W2DANA"])
        assert "replied on ticket #42" in message["text"] and message["_token_team"] == "T2"
    finally:
        await effects.close()


async def test_an_emailed_ticket_s_thread_is_opened_in_t2_s_channel_keyed_by_t2(
    slack: SlackSandbox, zendesk, settings: ZendeskSyncSettings, tokens: TokenResolver
):
    ticket_id = zendesk.receive_email("Dana", "dana@example.com", "Scanner offline", "Since 9am.", zendesk.group_id)
    command = SlackOpenThread(
        schema_version=1,
        command_id=f"open-thread:{ticket_id}",
        conversation_id=f"zd:{ticket_id}",
        issued_at=ISSUED,
        cause=CAUSE,
        channel_id="C2HELP",
        ticket_id=ticket_id,
        subject="Scanner offline",
        body="Since 9am.",
    )
    effects = Effects(settings, tokens=tokens)
    try:
        outcome = await effects.perform(command)
        [root] = slack.channel_messages("C2HELP")
        assert root["_token_team"] == "T2"
        assert {r.conversation_id for r in outcome.results} == {f"T2:C2HELP:{root['ts']}", f"zd:{ticket_id}"}
        assert all(r.team_id == "T2" for r in outcome.results)
    finally:
        await effects.close()

"""zendesk-sync against the Slack and Zendesk sandboxes, fed with the commands the router's own
rules emit (as the worker receives them: the commands contract's structs, decoded from JSON)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from slack_sdk import WebClient
from zenpy import Zenpy

from threadline_common.channels import parse_channels
from threadline_common.models import CommandV4
from threadline_router.conversation import Conversation
from threadline_router.inbound import Inbound, SlackMessage, SlackReaction, ZendeskTicketEvent, decode_result
from threadline_router.rules import Context, route
from threadline_sandbox.slack import SlackSandbox
from threadline_sandbox.zendesk import ZendeskSandbox
from threadline_zendesk_sync.app import decode_command
from threadline_zendesk_sync.effects import Effects
from threadline_zendesk_sync.plan.outcomes import Outcome
from threadline_zendesk_sync.settings import ZendeskSyncSettings

NOW = "2026-11-23T10:00:00Z"


class Router:
    """The router's decisions, without Kafka: events in, commands out, results fed back."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.states: dict[str, Conversation] = {}
        self._events = 0

    def _apply(self, event: Inbound, conversation_id: str) -> list[CommandV4]:
        decision = route(event, self.states.get(conversation_id), self.ctx)
        if decision.state is not None:
            self.states[decision.state.conversation_id] = decision.state
        return [decode_command(msgspec.json.encode(c)) for c in decision.commands]

    def _event_id(self) -> str:
        self._events += 1
        return f"Ev{self._events:06d}"

    def message(self, slack: SlackSandbox, channel: str, ts: str) -> list[CommandV4]:
        """A message already in the Slack sandbox, as the Events API would deliver it."""
        [m] = [m for m in slack.channel_messages(channel) if m["ts"] == ts]
        event = SlackMessage(
            event_id=self._event_id(),
            team_id=slack.ws.team_id,
            channel_id=channel,
            ts=ts,
            thread_ts=m.get("thread_ts"),
            user=m.get("user"),
            bot_id=m.get("bot_id"),
            text=m.get("text", ""),
            files=tuple(m.get("files") or ()),
        )
        return self._apply(event, f"{slack.ws.team_id}:{channel}:{m.get('thread_ts') or ts}")

    def reaction(self, slack: SlackSandbox, channel: str, ts: str, user: str, name: str) -> list[CommandV4]:
        event = SlackReaction(self._event_id(), slack.ws.team_id, channel, ts, user, name, True)
        return self._apply(event, f"{slack.ws.team_id}:{channel}:{ts}")

    def zendesk(self, event: ZendeskTicketEvent, conversation_id: str) -> list[CommandV4]:
        return self._apply(event, conversation_id)

    def results(self, outcome: Outcome) -> list[CommandV4]:
        commands: list[CommandV4] = []
        for record in outcome.results:
            result = decode_result(msgspec.json.encode(record))
            commands += self._apply(result, result.conversation_id)
        return commands


@pytest.fixture
def slack() -> Iterator[SlackSandbox]:
    sandbox = SlackSandbox().start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def zendesk(monkeypatch) -> Iterator[ZendeskSandbox]:
    sandbox = ZendeskSandbox().start()
    for key, value in sandbox.zenpy_env().items():
        monkeypatch.setenv(key, value)  # the unmodified zenpy, here and in Effects, reaches the sandbox
    yield sandbox
    sandbox.stop()


@pytest.fixture
def settings(slack: SlackSandbox, zendesk: ZendeskSandbox, tmp_path: Path) -> ZendeskSyncSettings:
    return ZendeskSyncSettings(
        zendesk_subdomain=zendesk.subdomain,
        zendesk_email=zendesk.api_email,
        zendesk_api_token=zendesk.api_token,
        zendesk_ticket_url=f"{zendesk.base_url}/agent/tickets/",
        slack_bot_token=slack.bot_token,
        slack_api_url=slack.api_url,
        slack_channel_interval_seconds=0.0,
        data_dir=tmp_path,
    )


@pytest.fixture
def effects(settings: ZendeskSyncSettings) -> Effects:
    return Effects(settings)


@pytest.fixture
def router(slack: SlackSandbox, zendesk: ZendeskSandbox) -> Router:
    return router_for(slack, zendesk)


def router_for(
    slack: SlackSandbox,
    zendesk: ZendeskSandbox,
    channels_extra: dict[str, Any] | None = None,
    email_groups: dict[int, str] | None = None,
    direct_messages: dict[str, Any] | None = None,
) -> Router:
    """The router with the test channels, plus `channels_extra`; emails of `email_groups`
    (group id -> channel) open threads there (default: the main group in #support);
    `direct_messages`: the channels file's section (private requests; default off)."""
    channels = parse_channels(
        {
            "defaults": {"zendesk": {"tags": ["slack"]}},
            "channels": {
                "C0SUPPORT": {"name": "support", "zendesk": {"group_id": zendesk.group_id, "priority": "normal"}},
                "C0INFRA": {
                    "name": "infra",
                    "ticket_reaction": "ticket",
                    "zendesk": {"group_id": zendesk.infra_group_id},
                },
                "C0SHARED": {"name": "partner-support"},
                **(channels_extra or {}),
            },
            "email_groups": email_groups or {zendesk.group_id: "C0SUPPORT"},
            "direct_messages": direct_messages or {},
        }
    )
    ctx = Context(
        channels=channels,
        bot_user_id=slack.bot_user_id,
        bot_id=slack.bot_id,
        zendesk_api_user_id=int(zendesk.api_user["id"]),
        now=NOW,
    )
    return Router(ctx)


@pytest.fixture
def zen(zendesk: ZendeskSandbox) -> Zenpy:
    """The outside view of Zendesk."""
    client = Zenpy(subdomain=zendesk.subdomain, email=zendesk.api_email, token=zendesk.api_token)
    client.disable_caching()
    return client


def user(slack: SlackSandbox, name: str) -> WebClient:
    return WebClient(token=slack.user_token(name), base_url=slack.api_url)


def bot(slack: SlackSandbox) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url)

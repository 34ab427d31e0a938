"""threadline-ops with several workspaces, on the whole pipeline against the Slack sandbox: a
thread of a second workspace's channel is read with that workspace's bot token (the sandbox, as
Slack, answers channel_not_found to the single token there), and its conversation is keyed by
that workspace, for `backfill` and for `relink` of a thread Threadline never saw; a channel of a
workspace covered only by an org-wide install is read with the org's token."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from cryptography.fernet import Fernet
from pipeline.conftest import Pipeline, wait_until
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from threadline_testing.installs import install, keep
from zenpy.lib.api_objects import Ticket

from threadline_common.settings import KafkaSettings
from threadline_router.ops.cli import main
from threadline_sandbox.zendesk import ZendeskSandbox

pytestmark = pytest.mark.integration
KEY = Fernet.generate_key().decode()


@pytest.fixture
def pipeline_settings() -> dict[str, dict[str, str]]:
    return {"zendesk-sync": {"slack_installations_key": KEY}}


@pytest.fixture
def pipeline_channels() -> Callable[[ZendeskSandbox], str]:
    """The seed workspace's #support, T2's #help and #help of T3 (of the organisation E1)."""
    return lambda zendesk: (
        f"channels:\n  C0SUPPORT: {{name: support, zendesk: {{group_id: {zendesk.group_id}}}}}\n"
        f"  C2HELP: {{name: help, zendesk: {{group_id: {zendesk.group_id}}}}}\n"
        f"  C3HELP: {{name: help-grid, zendesk: {{group_id: {zendesk.infra_group_id}}}}}\n"
    )


@pytest.fixture
def ops(pipeline: Pipeline, tmp_path, monkeypatch) -> Callable[..., tuple[int, str]]:
    p = pipeline
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": p.kafka_bootstrap,
        "KAFKA_TOPIC_PREFIX": p.topics.prefix,
        "THREADLINE_OPS_SLACK_BOT_TOKEN": p.slack.bot_token,
        "THREADLINE_OPS_SLACK_INSTALLATIONS_KEY": KEY,
        "THREADLINE_OPS_SLACK_API_URL": p.slack.api_url,
        "THREADLINE_OPS_ZENDESK_SUBDOMAIN": p.zendesk.subdomain,
        "THREADLINE_OPS_ZENDESK_EMAIL": p.zendesk.api_email,
        "THREADLINE_OPS_ZENDESK_API_TOKEN": p.zendesk.api_token,
        "THREADLINE_OPS_ZENDESK_TICKET_URL": f"{p.zendesk.base_url}/agent/tickets/",
        "THREADLINE_OPS_CHANNELS_FILE": str(tmp_path / "channels.yaml"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    def run(*argv: str) -> tuple[int, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), out, err)
        return code, out.getvalue() + err.getvalue()

    return run


def link(channel: str, ts: str) -> str:
    return f"https://second-corp.slack.com/archives/{channel}/p{ts.replace('.', '')}"


def unseen(p: Pipeline, post: Callable[[], str]) -> str:
    """A conversation from before Threadline was installed: Slack told nobody about it."""
    urls = list(p.slack.events_urls)
    p.slack.events_urls.clear()
    try:
        return post()
    finally:
        p.slack.events_urls.extend(urls)


def bot_posts(p: Pipeline, channel: str, root: str) -> list[dict]:
    return [m for m in p.slack.thread(channel, root) if m.get("bot_id") and m["ts"] != root]


def test_backfill_and_relink_read_a_thread_with_its_own_workspaces_token(pipeline: Pipeline, ops):
    p = pipeline
    p.slack.add_workspace("T2", "Second Corp")
    p.slack.add_channel("C2HELP", "help", "T2", members=[p.slack.bot_user_id, "W2DANA", "W2ERIN"])
    p.slack.add_workspace("T3", "Third Corp", enterprise_id="E1")
    p.slack.add_channel("C3HELP", "help-grid", "T3", members=[p.slack.bot_user_id, "W3ALICE"])
    installs = [install(p.slack, "T2", "Second Corp"), install(p.slack, "T3", "Acme Grid", "E1", org_wide=True)]
    keep(KafkaSettings(bootstrap_servers=p.kafka_bootstrap), p.topics.slack_installations, KEY, *installs)
    dana = WebClient(token=p.slack.person_token("T2", "W2DANA"), base_url=p.slack.api_url)
    erin = WebClient(token=p.slack.person_token("T2", "W2ERIN"), base_url=p.slack.api_url)
    alice_t3 = WebClient(token=p.slack.person_token("T3", "W3ALICE"), base_url=p.slack.api_url)
    with pytest.raises(SlackApiError) as refused:  # what the single token alone would meet
        p.bot.conversations_replies(channel="C2HELP", ts="1.000001")
    assert refused.value.response["error"] == "channel_not_found"

    # backfill: the T2 thread read with T2's token, its conversation keyed by T2.
    def old_question() -> str:
        root = str(dana.chat_postMessage(channel="C2HELP", text="The T2 wiki returns 502")["ts"])
        erin.chat_postMessage(channel="C2HELP", thread_ts=root, text="Same here")
        return root

    root = unseen(p, old_question)
    code, said = ops("backfill", link("C2HELP", root))
    assert code == 0 and "1 threads (2 messages)" in said and "1 without a conversation" in said, said
    cid = f"T2:C2HELP:{root}"
    [ticket] = wait_until("the backfilled ticket", lambda: list(p.zen().tickets(external_id=cid)))
    assert ticket.subject == "The T2 wiki returns 502"
    wait_until("its history as a comment", lambda: "Same here" in [c["body"] for c in p.zendesk.comments_of(ticket.id)])
    [confirmation] = wait_until("the ticket link in the old T2 thread", lambda: bot_posts(p, "C2HELP", root))[:1]
    assert confirmation["team"] == "T2" and confirmation["_token_team"] == "T2"

    # relink of a thread Threadline never saw: read with T2's token to name its conversation.
    root2 = unseen(p, lambda: str(dana.chat_postMessage(channel="C2HELP", text="The T2 VPN drops")["ts"]))
    other = p.zen().tickets.create(Ticket(subject="VPN outage", comment={"body": "Known problem"})).ticket
    code, said = ops("relink", link("C2HELP", root2), str(other.id), "--by", "ops-ann")
    assert code == 0 and "the router applied relink" in said, said
    assert p.zen().tickets(id=other.id).external_id == f"T2:C2HELP:{root2}"
    [notice] = wait_until("the relink notice in T2's thread", lambda: bot_posts(p, "C2HELP", root2))[:1]
    assert "ops-ann linked this thread to ticket" in notice["text"] and notice["_token_team"] == "T2"

    # A workspace with no install of its own, in an organisation installed org-wide: the org's token.
    root3 = unseen(p, lambda: str(alice_t3.chat_postMessage(channel="C3HELP", text="The Grid wiki is slow")["ts"]))
    code, said = ops("backfill", link("C3HELP", root3))
    assert code == 0 and "1 threads (1 messages)" in said, said
    [ticket3] = wait_until("T3's ticket", lambda: list(p.zen().tickets(external_id=f"T3:C3HELP:{root3}")))
    assert ticket3.group_id == p.zendesk.infra_group_id
    [link3] = wait_until("the ticket link in T3's thread", lambda: bot_posts(p, "C3HELP", root3))[:1]
    assert link3["_token_team"] == "E1"

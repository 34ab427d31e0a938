"""threadline-ops against the whole pipeline on the real broker, checked from outside with
slack_sdk, zenpy and the command's own output."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from pipeline.conftest import Pipeline, wait_until
from zenpy.lib.api_objects import Ticket

from threadline_router.ops.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture
def ops(
    pipeline: Pipeline, kafka_bootstrap, kafka_topics, tmp_path: Path, monkeypatch
) -> Callable[..., tuple[int, str]]:
    p = pipeline
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "KAFKA_TOPIC_PREFIX": kafka_topics.prefix,
        "THREADLINE_OPS_SLACK_BOT_TOKEN": p.slack.bot_token,
        "THREADLINE_OPS_SLACK_API_URL": p.slack.api_url,
        "THREADLINE_OPS_ZENDESK_SUBDOMAIN": p.zendesk.subdomain,
        "THREADLINE_OPS_ZENDESK_EMAIL": p.zendesk.api_email,
        "THREADLINE_OPS_ZENDESK_API_TOKEN": p.zendesk.api_token,
        "THREADLINE_OPS_ZENDESK_TICKET_URL": f"{p.zendesk.base_url}/agent/tickets/",
        "THREADLINE_OPS_CHANNELS_FILE": str(tmp_path / "channels.yaml"),  # the router's, written by `pipeline`
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    def run(*argv: str) -> tuple[int, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), out, err)
        return code, out.getvalue() + err.getvalue()

    return run


def link(ts: str, channel: str = "C0SUPPORT") -> str:
    return f"https://sandbox-corp.slack.com/archives/{channel}/p{ts.replace('.', '')}"


def bot_posts(p: Pipeline, root: str, containing: str) -> list[dict]:
    return [m for m in p.slack.thread("C0SUPPORT", root) if m.get("bot_id") and containing in m["text"]]


def tickets_for(p: Pipeline, external_id: str) -> list:
    return list(p.zen().tickets(external_id=external_id))


def public_bodies(p: Pipeline, ticket_id: int) -> list[str]:
    return [c["body"] for c in p.zendesk.comments_of(ticket_id) if c["public"]]


def test_backfill_show_relink_and_unlink(pipeline: Pipeline, ops):
    p = pipeline
    alice, bob = p.user("alice"), p.user("bob")
    # A conversation from before Threadline was installed: Slack told nobody about it.
    urls = list(p.slack.events_urls)
    p.slack.events_urls.clear()
    root = alice.chat_postMessage(channel="C0SUPPORT", text="The wiki returns 502 since this morning")["ts"]
    bob.chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="Same here, on every page")
    alice.chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="help")
    p.slack.events_urls.extend(urls)
    cid = f"T0SANDBOX:C0SUPPORT:{root}"

    code, said = ops("backfill", link(root))
    assert code == 0 and "1 threads (3 messages)" in said and "1 without a conversation" in said
    [ticket] = wait_until("the backfilled ticket", lambda: tickets_for(p, cid))
    assert ticket.subject == "The wiki returns 502 since this morning" and ticket.group_id == p.zendesk.group_id
    wait_until("its history as comments", lambda: len(public_bodies(p, ticket.id)) >= 3)
    assert public_bodies(p, ticket.id)[1:] == ["Same here, on every page", "help"]  # in order; `help` is history
    wait_until("the ticket link in the old thread", lambda: bot_posts(p, root, "opened ticket"))

    code, said = ops("backfill", link(root))
    assert code == 0 and "1 already linked" in said
    # A live reply after the second backfill: once it is on the ticket, the backfill has been applied too.
    alice.chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="Still down")
    wait_until("the live reply", lambda: "Still down" in public_bodies(p, ticket.id))
    assert public_bodies(p, ticket.id)[1:] == ["Same here, on every page", "help", "Still down"]
    assert len(tickets_for(p, cid)) == 1 and len(bot_posts(p, root, "opened ticket")) == 1
    assert not bot_posts(p, root, "I keep this thread")  # no help text for an old `help`

    code, said = ops("show", link(root))
    assert code == 0 and f"#{ticket.id}" in said and cid in said and "U0BOB" in said  # bob replied
    code, said = ops("show", "--json", str(ticket.id))
    assert code == 0 and json.loads(said)["conversation_id"] == cid

    # The wiki outage already has a ticket of its own: the thread belongs there.
    other = p.zen().tickets.create(Ticket(subject="Wiki outage", comment={"body": "Known problem"})).ticket
    code, said = ops("relink", link(root), str(other.id), "--by", "ops-ann")
    assert code == 0 and "the router applied relink" in said, said
    assert p.zen().tickets(id=other.id).external_id == cid and p.zen().tickets(id=ticket.id).external_id is None
    wait_until("the relink notice", lambda: bot_posts(p, root, "ops-ann linked this thread to ticket <"))
    code, said = ops("show", "--json", link(root))
    assert json.loads(said)["ticket_id"] == other.id and json.loads(said)["previous_ticket_ids"] == [ticket.id]
    alice.chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="Works again for me")
    wait_until("replies going to the new ticket", lambda: "Works again for me" in public_bodies(p, other.id))
    p.zendesk.agent_comment(other.id, "Fixed the proxy.")
    wait_until("the new ticket's answers in the thread", lambda: bot_posts(p, root, "Fixed the proxy"))
    assert "Works again for me" not in public_bodies(p, ticket.id)
    code, said = ops("relink", link(root), str(other.id))
    assert code == 0 and "already linked" in said

    code, said = ops("relink", link(root), "999999")
    assert code == 2 and "argument ticket: Zendesk has no ticket #999999" in said

    code, said = ops("unlink", link(root), "--by", "ops-ann")
    assert code == 0 and "the router applied unlink" in said, said
    wait_until("the unlink notice", lambda: bot_posts(p, root, "ops-ann unlinked this thread"))
    assert p.zen().tickets(id=other.id).external_id is None
    code, said = ops("show", link(root))
    assert code == 1 and "no conversation for thread" in said
    code, said = ops("unlink", link(root))
    assert code == 1 and "nothing to unlink" in said


def test_dead_letters_replayed_after_the_cause_is_fixed_take_effect_once(pipeline: Pipeline, ops):
    p = pipeline
    alice = p.user("alice")
    p.zendesk.knobs.update({"error_rate": 1.0, "error_status": 403})  # refused until an admin fixes the token
    root = alice.chat_postMessage(channel="C0SUPPORT", text="Laptop will not boot")["ts"]
    cid = f"T0SANDBOX:C0SUPPORT:{root}"
    wait_until("the failure told in the thread", lambda: bot_posts(p, root, "could not update Zendesk"))
    p.zendesk.knobs.update({"error_rate": 0.0})

    code, said = ops("dlq", "replay", "threadline.commands", "--dry-run")
    assert code == 0 and "would replay 1 dead letters" in said and "Zendesk answered 403" in said
    assert tickets_for(p, cid) == []
    code, said = ops("dlq", "replay", "threadline.commands", "--since", "0")
    assert code == 0 and "replayed 1 dead letters" in said
    [ticket] = wait_until("the ticket, at last", lambda: tickets_for(p, cid))
    wait_until("its link in the thread", lambda: bot_posts(p, root, "opened ticket"))

    # Replaying the same letter again does nothing twice: the ids come from the original event.
    code, said = ops("dlq", "replay", "threadline.commands")
    assert code == 0 and "replayed 1 dead letters" in said
    alice.chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="It beeps three times")
    wait_until("a later reply on the ticket", lambda: "It beeps three times" in public_bodies(p, ticket.id))
    assert len(tickets_for(p, cid)) == 1 and len(bot_posts(p, root, "opened ticket")) == 1
    code, said = ops("dlq", "replay", "threadline.commands", "--since", "1")
    assert code == 0 and "replayed 0 dead letters" in said


def test_ops_records_land_on_the_partition_the_router_owns_for_the_conversation(kafka_bootstrap, kafka_topics):
    """The router (aiokafka) partitions keys with murmur2; a record sent elsewhere would reach a
    worker that does not hold the conversation's row."""
    from aiokafka.partitioner import DefaultPartitioner

    from threadline_common.settings import KafkaSettings
    from threadline_router.ops.kafka_io import KafkaIO

    io_ = KafkaIO(KafkaSettings(bootstrap_servers=kafka_bootstrap))
    topic = kafka_topics.router_inbound
    keys = [f"T0SANDBOX:C0SUPPORT:17959852{n:02d}.000001".encode() for n in range(24)]
    io_.send(topic, [(key, b"{}", [], None) for key in keys])
    partitions = sorted(io_.partitions(topic))
    landed = {m.key(): m.partition() for m in io_.read(topic)}
    assert landed == {key: DefaultPartitioner()(key, partitions, partitions) for key in keys}
    assert len(set(landed.values())) == len(partitions)  # the keys were spread: the check means something

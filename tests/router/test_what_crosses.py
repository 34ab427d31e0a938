"""The router's rules for what crosses the bridge: agents' comments and Zendesk's words in Slack
ping nobody and read as Slack formatting; only conversation opens tickets or adds comments."""

import json

import msgspec
import pytest
from threadline_testing.hostile import HOSTILE, links, pings_nobody
from threadline_testing.records import PAYLOADS, message_body, slack_record, zendesk_record

from threadline_common.schemas import validate
from threadline_common.slack_messages import CONVERSATION_SUBTYPES, DOCUMENTED_IGNORED
from threadline_router.inbound import SlackDelete, SyncResult, decode_slack, decode_zendesk
from threadline_router.rules import command_type, route

pytestmark = pytest.mark.unit


def run(events, ctx, state=None):
    """Each record decoded and routed in turn; what the router emits must match its contracts."""
    decisions = []
    for raw in events:
        event = decode_slack(raw) if "team_id" in raw else decode_zendesk(raw)
        assert event is not None
        decision = route(event, state, ctx)
        for command in decision.commands:
            record = msgspec.to_builtins(command)
            validate("threadline.commands", record["schema_version"], record)
        for activity in (msgspec.to_builtins(a) for a in decision.activity):
            validate("threadline.activity", activity["schema_version"], activity)
        decisions.append(decision)
        state = decision.state
    return state, decisions


def commands(decisions):
    return [c for d in decisions for c in d.commands]


def opened(ctx, text="My printer is on fire"):
    return run([slack_record(message_body("C1", "100.000100", text))], ctx)


def created(state, ctx, ticket_id=42):
    result = SyncResult(
        kind="ticket_created", conversation_id=state.conversation_id, command_id="c", ticket_id=ticket_id
    )
    return route(result, state, ctx).state


THREAD = "T1:C1:100.000100"


def agent_comment(comment_id: int, body: str, html_body: str | None = None, name: str = "Agent Ann") -> dict:
    comment = {
        "id": str(comment_id),
        "body": body,
        "is_public": True,
        "author": {"id": "7", "name": name, "is_staff": True},
    }
    if html_body is not None:
        comment["html_body"] = html_body
    return zendesk_record("comment_added", 42, THREAD, {"comment": comment})


# --- Zendesk -> Slack -----------------------------------------------------------------------------


@pytest.mark.parametrize("html", [False, True], ids=["body", "html_body"])
@pytest.mark.parametrize("text", [t for _, t in HOSTILE], ids=[n for n, _ in HOSTILE])
def test_an_agents_comment_in_the_thread_pings_nobody(ctx, text, html):
    state = created(opened(ctx)[0], ctx)
    record = agent_comment(601, text, f"<p>{text}</p>" if html else None, name="<!channel> Ann")
    _, decisions = run([record], ctx, state)
    [post] = commands(decisions)
    shown = post.text
    assert shown.startswith("*&lt;!channel&gt; Ann* (Zendesk): ")
    assert pings_nobody(shown)
    assert all("click" not in label for _, label in links(shown)), "no link hides where it goes"


def test_an_agents_formatting_reads_as_slack_formatting(ctx):
    state = created(opened(ctx)[0], ctx)
    html = '<div class="zd-comment"><p>Please <strong>restart</strong> it, see <a href="https://kb.example/1">KB</a></p></div>'
    _, decisions = run(
        [agent_comment(602, "Please restart it, see KB", html), agent_comment(603, "**Done** ~~maybe~~")],
        ctx,
        state,
    )
    first, second = commands(decisions)
    assert first.text == "*Agent Ann* (Zendesk): Please *restart* it, see <https://kb.example/1|KB>"
    assert second.text == "*Agent Ann* (Zendesk): *Done* ~maybe~"


def test_comments_waiting_for_an_emailed_thread_are_converted_when_posted(ctx):
    created_evt = zendesk_record("created", 77, None, {}, via={"channel": "email"}, group_id="10", subject="x")
    state, _ = run([created_evt], ctx)
    early = zendesk_record(
        "comment_added",
        77,
        None,
        {"comment": {"id": "700", "body": "<!here> **read me**", "is_public": True, "author": {"id": "7"}}},
    )
    state, _ = run([early], ctx, state)
    opened_result = SyncResult(
        kind="thread_opened",
        conversation_id="zd:77",
        command_id="open-thread:77",
        ticket_id=77,
        team_id="T1",
        channel_id="C1",
        thread_ts="200.000100",
        moved_from="zd:77",
    )
    [post] = route(opened_result, state, ctx).commands
    assert post.text == "*Support agent* (Zendesk): &lt;!here&gt; *read me*"


def test_zendesks_words_in_a_failure_notice_are_escaped(ctx):
    state = created(opened(ctx)[0], ctx)
    failed = SyncResult(
        kind="failed", conversation_id=THREAD, command_id="comment:C1:1", reason="Zendesk answered 422: <!channel>"
    )
    [notice] = route(failed, state, ctx).commands
    assert notice.text.endswith("Zendesk answered 422: &lt;!channel&gt;")
    assert pings_nobody(notice.text)


# --- Slack -> Zendesk -------------------------------------------------------------------------------


def test_a_subject_has_emoji_and_readable_links(ctx):
    _, decisions = run(
        [slack_record(message_body("C1", "100.000100", "VPN *down* on fire :fire: <https://x.io|here>"))], ctx
    )
    [create] = commands(decisions)
    assert create.subject == "VPN down on fire 🔥 here"
    assert create.body == "VPN *down* on fire :fire: <https://x.io|here>", "zendesk-sync converts the body"


# --- only conversation ------------------------------------------------------------------------------


def subtyped(subtype: str, ts: str, thread_ts: str | None = None) -> dict:
    body = message_body("C1", ts, "renamed the channel", user="U1", thread_ts=thread_ts, subtype=subtype)
    return slack_record(body)


@pytest.mark.parametrize("subtype", sorted(DOCUMENTED_IGNORED))
def test_no_system_subtype_opens_a_ticket_or_adds_a_comment(ctx, subtype):
    assert decode_slack(subtyped(subtype, "100.000900")) is None
    assert decode_slack(subtyped(subtype, "100.000901", thread_ts="100.000100")) is None


def test_unknown_subtypes_are_ignored(ctx):
    assert decode_slack(subtyped("telepathy_share_2031", "100.000900")) is None


@pytest.mark.parametrize("subtype", sorted(CONVERSATION_SUBTYPES - {"bot_message"}))
def test_file_shares_and_broadcast_replies_are_conversation(ctx, subtype):
    state = created(opened(ctx)[0], ctx)
    _, decisions = run([subtyped(subtype, "100.000950", thread_ts="100.000100")], ctx, state)
    assert [command_type(c) for c in commands(decisions)] == ["zendesk.add_comment"]


def test_a_hidden_message_replied_notice_opens_nothing():
    body = {
        "team_id": "T1",
        "type": "event_callback",
        "event_id": "EvReplied",
        "event": {
            "type": "message",
            "subtype": "message_replied",
            "hidden": True,
            "channel": "C1",
            "event_ts": "100.000300",
            "ts": "100.000300",
            "message": {"type": "message", "user": "U1", "text": "help", "thread_ts": "100.000100", "ts": "100.000100"},
        },
    }
    assert decode_slack(slack_record(body)) is None


def test_the_real_payloads_of_people_and_of_slack_are_told_apart():
    def inner(name):
        return decode_slack(slack_record(json.loads((PAYLOADS / "slack" / name).read_text())))

    assert inner("message_subtype_channel_join_subot.json") is None
    assert inner("message_file_share_public_channel.json") is not None
    assert inner("message_thread_broadcast.json") is not None


def test_a_deleted_parent_with_replies_is_a_deletion_not_an_edit(ctx):
    state = created(opened(ctx)[0], ctx)
    body = {
        "team_id": "T1",
        "type": "event_callback",
        "event_id": "EvTomb",
        "event": {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "channel": "C1",
            "ts": "100.000999",
            "event_ts": "100.000999",
            "message": {
                "type": "message",
                "subtype": "tombstone",
                "hidden": True,
                "text": "This message was deleted.",
                "user": "USLACKBOT",
                "ts": "100.000100",
                "thread_ts": "100.000100",
                "reply_count": 2,
            },
            "previous_message": {"type": "message", "user": "U1", "text": "help", "ts": "100.000100"},
        },
    }
    event = decode_slack(slack_record(body))
    assert isinstance(event, SlackDelete) and event.ts == "100.000100" and event.user == "U1"
    _, decisions = run([slack_record(body)], ctx, state)
    [note] = commands(decisions)
    assert note.body == "A Slack message by U1 was deleted from the thread."
    assert note.public is False
    assert [a.type for a in decisions[0].activity] == ["delete"]

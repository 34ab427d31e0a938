"""Which Slack requests ingest takes, under which key, as which record: every real payload."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from threadline_common.schemas import validate
from threadline_ingest.bodies import BadRequest, parse_form
from threadline_ingest.records import encode
from threadline_ingest.slack import (
    Accept,
    Drop,
    SlackPolicy,
    check_command,
    check_event_callback,
    check_interaction,
    event_id_of,
    event_thread,
    retry_number,
    route_command,
    route_event,
    route_interaction,
    slack_record,
)

pytestmark = pytest.mark.unit

SLACK = Path(__file__).resolve().parents[1] / "fixtures" / "real_payloads" / "slack"

# The record key of every real Events API body: <installing team>:<channel>:<thread root ts>, or the
# team alone for events about no message.
EXPECTED_KEYS = {
    "app_mention.json": "T111:C111:1595926230.009600",
    "app_mention_blocks_user_element.json": "T111:C111:1610241741.000200",
    "app_uninstalled.json": "T111",
    "member_joined_channel.json": "T111",
    "member_left_channel.json": "T111",
    # The fixture's edited message lacks its ts (real Slack sends it): the previous one's is the root.
    "message_changed.json": "T111:C111:1665102338.901939",
    "message_channel_top_level_with_authorizations.json": "T111:C111:1610261659.001400",
    "message_channel_top_level_with_blocks.json": "T111:C111:1596183880.004200",
    # The deleted message's ts, not the deletion event's.
    "message_deleted.json": "T111:C111:1665368619.804829",
    "message_enterprise_grid_org_wide_install.json": "T111:C111:1606810819.000800",
    "message_file_share_private_channel.json": "T111:G111:1610493715.001000",
    "message_file_share_public_channel.json": "T111:C111:1652227646.593159",
    "message_from_other_app_bot_id_no_subtype.json": "T111:C111:1610261539.000900",
    # Slack Connect: keyed by the installing workspace (context_team_id), not the author's.
    "message_slack_connect_external_shared_channel.json": "INSTALLED_TEAM_ID:C111:1678454365.204709",
    "message_slack_connect_mentions_bot.json": "INSTALLED_TEAM_ID:C111:1678455198.838499",
    "message_subtype_bot_message_classic.json": "T111:C111:1610262363.001600",
    "message_subtype_bot_message_own_app_response_url.json": "T111:C111:1658282075.825129",
    "message_subtype_channel_join_subot.json": "<TEAM_ID>:CLK7MCUS3:1577110180.007100",
    # A reply (broadcast or not) joins its thread: the root's ts.
    "message_thread_broadcast.json": "T111:C111:1633663824.000500",
    "message_thread_reply_in_channel.json": "T111:C111:1726133698.626339",
    # Reactions: the message they are on (item.ts).
    "reaction_added_channel_message_item.json": "T111:C111:1599529504.000400",
    "reaction_added_dm_message_item.json": "T0JFD6M53:D2AQCJCQ2:1477958101.000004",
    "reaction_added_shared_channel_source_team_differs.json": "T_SOURCE:C111:1599529504.000400",
    "tokens_revoked.json": "T111",
}


def on_the_wire(record) -> dict:
    return json.loads(encode(record))


def load(name: str) -> dict:
    return json.loads((SLACK / name).read_text())


def event_callbacks() -> list[str]:
    return sorted(p.name for p in SLACK.glob("*.json") if load(p.name).get("type") == "event_callback")


def test_every_real_events_api_body_has_an_expected_key():
    assert set(event_callbacks()) == set(EXPECTED_KEYS)


@pytest.mark.parametrize("name", sorted(EXPECTED_KEYS))
def test_key_of_every_real_events_api_body(name):
    decision = route_event(load(name), SlackPolicy())
    assert isinstance(decision, Accept)
    assert decision.key == EXPECTED_KEYS[name]
    assert decision.conversation_key == (EXPECTED_KEYS[name] if ":" in EXPECTED_KEYS[name] else None)


@pytest.mark.parametrize("name", sorted(EXPECTED_KEYS))
def test_record_of_every_real_events_api_body_meets_the_topic_contract(name):
    body = load(name)
    check_event_callback(body)
    decision = route_event(body, SlackPolicy())
    assert isinstance(decision, Accept)
    record = on_the_wire(
        slack_record(
            kind="event_callback",
            body=body,
            event_id=event_id_of("event_callback", body, json.dumps(body).encode()),
            accepted=decision,
            now=1_700_000_000.123,
            source="http",
            retry_num=retry_number("2"),
            retry_reason="http_timeout",
        )
    )
    validate("threadline.slack.events", 1, record)
    assert record["body"] == body
    assert record["received_at"] == "2023-11-14T22:13:20.123Z"
    assert record["retry_num"] == 2


def test_a_thread_and_everything_in_it_share_one_key():
    """Root message, a reply, an edit of the reply, its deletion and a reaction on the root."""
    root = {"type": "message", "channel": "C1", "ts": "100.000001", "text": "help"}
    reply = {"type": "message", "channel": "C1", "ts": "100.000002", "thread_ts": "100.000001"}
    edit = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "C1",
        "ts": "100.000009",
        "message": {"ts": "100.000002", "thread_ts": "100.000001", "text": "edited"},
        "previous_message": {"ts": "100.000002", "thread_ts": "100.000001"},
    }
    deletion = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": "C1",
        "ts": "100.000010",
        "deleted_ts": "100.000002",
        "previous_message": {"ts": "100.000002", "thread_ts": "100.000001"},
    }
    reaction = {"type": "reaction_added", "item": {"type": "message", "channel": "C1", "ts": "100.000001"}}
    keys = {route_event({"team_id": "T1", "event": e}, SlackPolicy()) for e in (root, reply, edit, deletion, reaction)}
    assert keys == {Accept("T1", "T1:C1:100.000001", "T1:C1:100.000001")}


def test_a_reaction_on_a_reply_is_keyed_by_the_reply_because_slack_does_not_name_the_root():
    reaction = {"type": "reaction_removed", "item": {"type": "message", "channel": "C1", "ts": "100.000002"}}
    assert event_thread(reaction) == ("C1", "100.000002")


def test_a_reaction_on_a_file_has_no_thread():
    reaction = {"type": "reaction_added", "item": {"type": "file", "file": "F1"}}
    assert route_event({"team_id": "T1", "event": reaction}, SlackPolicy()) == Accept("T1", "T1", None)


def test_inner_events_of_real_threads():
    expected = {
        "java_slack_sdk_bot_message_in_thread.json": ("C111", "1610402224.000200"),
        "zenslackchat_message_other_channel.json": ("C01A96HA9BR", "1598021977.004100"),
        "zenslackchat_message_thread_reply_channel_type.json": ("C0192NP3TFG", "1603982476.010000"),
        "zenslackchat_message_thread_reply_emoji_zwj.json": ("C019JUGAGTS", "1598021907.003600"),
        "zenslackchat_message_thread_reply_unknown_parent.json": ("C019JUGAGTS", "1598021907.003600"),
        "zenslackchat_message_top_level_emoji_rich_text.json": ("C019JUGAGTS", "1597940362.013100"),
    }
    for name, thread in expected.items():
        data = load(f"inner_events/{name}")
        assert event_thread(data.get("event", data)) == thread, name
    # conversations.replies: every message of a thread names the same root.
    replies = load("inner_events/zenslackchat_conversations_replies_thread_messages.json")
    assert {event_thread(m)[1] for m in replies} == {replies[0]["ts"]}


def test_slack_connect_is_accepted_for_the_installing_workspace_only():
    policy = SlackPolicy(team_ids=frozenset({"INSTALLED_TEAM_ID"}))
    for name in ("message_slack_connect_external_shared_channel.json", "message_slack_connect_mentions_bot.json"):
        decision = route_event(load(name), policy)
        assert isinstance(decision, Accept) and decision.team_id == "INSTALLED_TEAM_ID"
        assert route_event(load(name), SlackPolicy(team_ids=frozenset({"T_SOMEONE_ELSE"}))) == Drop("workspace")


def test_older_slack_connect_envelopes_name_our_workspace_only_in_authorizations():
    body = load("reaction_added_shared_channel_source_team_differs.json")
    decision = route_event(body, SlackPolicy(team_ids=frozenset({"T_INSTALLED"})))
    assert decision == Accept("T_INSTALLED", "T_INSTALLED:C111:1599529504.000400", "T_INSTALLED:C111:1599529504.000400")
    # Configured by enterprise: accepted too, keyed by the envelope's team.
    assert isinstance(route_event(body, SlackPolicy(team_ids=frozenset({"E_INSTALLED"}))), Accept)


def test_an_org_wide_install_is_accepted_by_its_enterprise_id():
    body = load("message_enterprise_grid_org_wide_install.json")
    assert isinstance(route_event(body, SlackPolicy(team_ids=frozenset({"E111"}))), Accept)
    assert route_event(body, SlackPolicy(team_ids=frozenset({"E999"}))) == Drop("workspace")


def test_other_apps_are_dropped():
    body = load("app_mention.json")
    assert isinstance(route_event(body, SlackPolicy(app_ids=frozenset({body["api_app_id"]}))), Accept)
    assert route_event(body, SlackPolicy(app_ids=frozenset({"A_OTHER"}))) == Drop("app")


def test_unmonitored_channels_are_dropped_but_lifecycle_and_channel_less_events_are_not():
    policy = SlackPolicy(channels=frozenset({"C_SUPPORT"}))
    assert route_event(load("message_channel_top_level_with_blocks.json"), policy) == Drop("channel")
    assert route_event(load("reaction_added_channel_message_item.json"), policy) == Drop("channel")
    assert route_event(load("member_joined_channel.json"), policy) == Drop("channel")
    for name in ("app_uninstalled.json", "tokens_revoked.json"):
        assert isinstance(route_event(load(name), policy), Accept)
    # Losing access is news whatever workspace filter is configured.
    strict = SlackPolicy(team_ids=frozenset({"T_OTHER"}), app_ids=frozenset({"A_OTHER"}), channels=policy.channels)
    assert isinstance(route_event(load("app_uninstalled.json"), strict), Accept)
    monitored = SlackPolicy(channels=frozenset({"C111"}))
    assert isinstance(route_event(load("message_channel_top_level_with_blocks.json"), monitored), Accept)


def test_interactions_are_keyed_by_the_message_they_are_about():
    assert route_interaction(load("interactivity/block_actions_with_message_socket_mode.json"), SlackPolicy()) == (
        Accept("T0G9PQBBK", "T0G9PQBBK:C111:1678252213.679169", "T0G9PQBBK:C111:1678252213.679169")
    )
    in_thread = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "container": {"type": "message", "channel_id": "C1", "message_ts": "100.000002"},
        "message": {"ts": "100.000002", "thread_ts": "100.000001"},
    }
    assert route_interaction(in_thread, SlackPolicy()).key == "T1:C1:100.000001"
    modal = {"type": "view_submission", "team": {"id": "T1"}, "view": {"id": "V1"}}
    assert route_interaction(modal, SlackPolicy()) == Accept("T1", "T1", None)


def test_interactions_and_commands_obey_the_workspace_and_app_filters_not_the_channel_filter(real_payloads):
    payload = load("interactivity/block_actions_payload_decoded.json")
    form = parse_form((SLACK / "interactivity" / "slash_command_form_body.txt").read_bytes().strip())
    unmonitored = SlackPolicy(channels=frozenset({"C_SUPPORT"}))
    assert isinstance(route_interaction(payload, unmonitored), Accept)
    assert route_command(form, unmonitored) == Accept("T111", "T111", None)
    assert route_interaction(payload, SlackPolicy(team_ids=frozenset({"T9"}))) == Drop("workspace")
    assert route_command(form, SlackPolicy(team_ids=frozenset({"T9"}))) == Drop("workspace")
    assert isinstance(route_command(form, SlackPolicy(team_ids=frozenset({"E111"}))), Accept)
    assert route_command(form, SlackPolicy(app_ids=frozenset({"A9"}))) == Drop("app")


def test_interaction_and_command_records_meet_the_topic_contract():
    payload = load("interactivity/block_actions_payload_decoded.json")
    raw_form = (SLACK / "interactivity" / "slash_command_form_body.txt").read_bytes().strip()
    form = parse_form(raw_form)
    assert form["command"] == "/hello-world" and form["enterprise_name"] == "Org Name"
    for kind, body, decision, raw in (
        ("interaction", payload, route_interaction(payload, SlackPolicy()), b"payload=..."),
        ("slash_command", form, route_command(form, SlackPolicy()), raw_form),
    ):
        record = on_the_wire(
            slack_record(
                kind=kind,
                body=body,
                event_id=event_id_of(kind, body, raw),
                accepted=decision,
                now=1.0,
                source="socket_mode",
            )
        )
        validate("threadline.slack.events", 1, record)
    assert event_id_of("slash_command", form, raw_form) == event_id_of("slash_command", form, raw_form)
    assert event_id_of("slash_command", form, raw_form) != event_id_of("slash_command", form, raw_form + b"&x=1")


@pytest.mark.parametrize(
    "body",
    [
        {"type": "event_callback"},
        {"type": "event_callback", "event": "message"},
        {"type": "event_callback", "event": {"text": "no type"}},
        {"type": "event_callback", "event": {"type": "message"}, "event_id": 5},
        {"type": "event_callback", "event": {"type": "message"}, "team_id": ["T1"]},
        {"type": "event_callback", "event": {"type": "message"}, "authorizations": [1]},
        {"type": "event_callback", "event": {"type": "message"}, "event_time": "soon"},
    ],
)
def test_event_callbacks_the_contract_cannot_carry_are_bad_requests(body):
    with pytest.raises(BadRequest):
        check_event_callback(body)


def test_interactions_and_commands_without_their_fields_are_bad_requests():
    with pytest.raises(BadRequest):
        check_interaction({"team": {"id": "T1"}})
    with pytest.raises(BadRequest):
        check_command({"command": "/x", "team_id": "T1", "channel_id": "C1"})
    with pytest.raises(BadRequest):
        check_command({"command": "x", "team_id": "T1", "channel_id": "C1", "user_id": "U1"})


@pytest.mark.parametrize(("header", "number"), [(None, None), ("0", None), ("1", 1), ("3", 3), ("x", None)])
def test_retry_number(header, number):
    assert retry_number(header) == number


# --- whatever Slack (or a holder of the signing secret) sends: a 400 or a record of the contract ---

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=6), st.just(""), st.just("C1"))
ids = st.one_of(scalars, st.lists(st.text(max_size=3), max_size=2), st.dictionaries(st.text(max_size=3), scalars))
slack_ts = st.from_regex(r"[0-9]{1,10}\.[0-9]{1,6}", fullmatch=True)
timestamps = st.one_of(slack_ts, slack_ts, ids, st.just("1.2:3"))
messages = st.fixed_dictionaries({}, optional={"ts": timestamps, "thread_ts": timestamps, "text": scalars})
events = st.fixed_dictionaries(
    {},
    optional={
        "type": st.one_of(st.sampled_from(["message", "reaction_added", "app_uninstalled", "app_mention"]), ids),
        "subtype": st.one_of(st.sampled_from(["message_changed", "message_deleted", "message_replied"]), ids),
        "channel": st.one_of(st.just("C1"), ids, st.fixed_dictionaries({"id": ids}), st.just("C:1")),
        "channel_id": ids,
        "ts": timestamps,
        "thread_ts": timestamps,
        "deleted_ts": timestamps,
        "item": st.one_of(ids, st.fixed_dictionaries({}, optional={"type": ids, "channel": ids, "ts": timestamps})),
        "message": st.one_of(ids, messages),
        "previous_message": st.one_of(ids, messages),
    },
)
names = st.one_of(st.sampled_from(["T1", "C1", "E1", "A1", "T:1"]), st.text(min_size=1, max_size=6))
envelopes = st.fixed_dictionaries(
    # The envelope's own fields have the types Slack documents (others are refused, see above);
    # the event inside is anything.
    {"type": st.just("event_callback"), "event": events.map(lambda e: {"type": "message", **e})},
    optional={
        "event_id": names,
        "team_id": names,
        "context_team_id": st.one_of(st.none(), names),
        "enterprise_id": ids,
        "context_enterprise_id": ids,
        "api_app_id": names,
        "event_time": st.integers(),
        "is_ext_shared_channel": st.booleans(),
        "authorizations": st.lists(
            st.fixed_dictionaries({}, optional={"team_id": ids, "enterprise_id": ids}), max_size=2
        ),
    },
)
policies = st.builds(
    SlackPolicy,
    team_ids=st.frozensets(st.sampled_from(["T1", "C1", "E1"]), max_size=2),
    app_ids=st.frozensets(st.sampled_from(["A1", "C1"]), max_size=1),
    channels=st.frozensets(st.sampled_from(["C1", "C2"]), max_size=1),
)


@given(body=envelopes, policy=policies)
@settings(max_examples=400, deadline=None)
def test_any_signed_envelope_is_refused_or_becomes_a_record_of_the_contract(body, policy):
    try:
        check_event_callback(body)
    except BadRequest:
        assert not isinstance(body["event"].get("type"), str)
        return
    decision = route_event(body, policy)
    if isinstance(decision, Drop):
        return
    record = on_the_wire(
        slack_record(
            kind="event_callback",
            body=body,
            event_id=event_id_of("event_callback", body, json.dumps(body).encode()),
            accepted=decision,
            now=0,
            source="http",
        )
    )
    validate("threadline.slack.events", 1, record)
    assert decision.key == (decision.conversation_key or decision.team_id)


@given(payload=st.dictionaries(st.sampled_from(["type", "team", "user", "container", "message", "channel"]), ids))
@settings(max_examples=200, deadline=None)
def test_any_signed_interaction_is_refused_or_becomes_a_record_of_the_contract(payload):
    try:
        check_interaction(payload)
    except BadRequest:
        return
    decision = route_interaction(payload, SlackPolicy())
    assert isinstance(decision, Accept)
    record = on_the_wire(
        slack_record(
            kind="interaction",
            body=payload,
            event_id=event_id_of("interaction", payload, None),
            accepted=decision,
            now=0,
            source="http",
        )
    )
    validate("threadline.slack.events", 1, record)


def test_direct_messages_are_taken_only_when_they_are_served():
    """A DM to the app (channel_type im, a D... channel) is a private request once
    direct_messages is enabled, however the channel filter reads; off, it is dropped like any
    unmonitored channel."""
    body = load("message_channel_top_level_with_blocks.json")
    dm = {**body, "event": {**body["event"], "channel": "D0ALICE", "channel_type": "im"}}
    reaction = load("reaction_added_dm_message_item.json")
    off = SlackPolicy(channels=frozenset({"C_SUPPORT"}))
    assert route_event(dm, off) == Drop("channel")
    on = SlackPolicy(channels=frozenset({"C_SUPPORT"}), direct_messages=True)
    accepted = route_event(dm, on)
    assert isinstance(accepted, Accept) and accepted.key == f"{body['team_id']}:D0ALICE:{body['event']['ts']}"
    assert isinstance(route_event(reaction, on), Accept)
    # Other channels are still filtered.
    assert route_event(body, on) == Drop("channel")

"""The Slack sandbox through the unmodified slack_sdk: every method Threadline uses, Slack's
errors, and signed Events API callbacks with Slack's shapes and retries."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from threadline_sandbox.slack import SlackSandbox

pytestmark = pytest.mark.unit
SECRET = "sandbox-test-secret"


class Receiver:
    """A listening endpoint that records callbacks and answers with a configurable status."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/slack/events"

    def events(self) -> list[dict]:
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def slack(receiver):
    sandbox = SlackSandbox(SECRET, [receiver.url]).start()
    sandbox.knobs.retry_delays = (0.05, 0.05, 0.05)
    yield sandbox
    sandbox.stop()


def client(slack: SlackSandbox, token: str | None = None) -> WebClient:
    return WebClient(token=token or slack.bot_token, base_url=slack.api_url)


def wait_events(receiver: Receiver, n: int) -> list[dict]:
    deadline = time.monotonic() + 10
    while len(receiver.requests) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    return receiver.events()


def test_a_human_post_arrives_as_a_signed_callback_shaped_like_slacks(slack, receiver, real_payloads):
    alice = client(slack, slack.user_token("alice"))
    posted = alice.chat_postMessage(channel="C0SUPPORT", text="My printer is on fire")
    [event] = wait_events(receiver, 1)
    headers, body = receiver.requests[0]
    assert SignatureVerifier(SECRET).is_valid(body, headers["x-slack-request-timestamp"], headers["x-slack-signature"])
    real = json.loads((real_payloads / "slack" / "message_channel_top_level_with_authorizations.json").read_text())
    assert set(real) <= set(event) | {"enterprise_id"}
    assert set(real["event"]) - {"blocks", "team"} <= set(event["event"])
    assert event["event"]["ts"] == posted["ts"] and event["event"]["user"] == "U0ALICE"
    assert event["event"]["client_msg_id"] and event["event"]["channel_type"] == "channel"


def test_replies_edits_deletes_reactions_and_joins_become_events(slack, receiver):
    alice, bob = client(slack, slack.user_token("alice")), client(slack, slack.user_token("bob"))
    root = alice.chat_postMessage(channel="C0SUPPORT", text="question")["ts"]
    reply = bob.chat_postMessage(channel="C0SUPPORT", text="answer", thread_ts=root)["ts"]
    bob.chat_update(channel="C0SUPPORT", ts=reply, text="better answer")
    bob.reactions_add(channel="C0SUPPORT", timestamp=root, name="white_check_mark")
    bob.reactions_remove(channel="C0SUPPORT", timestamp=root, name="white_check_mark")
    bob.chat_delete(channel="C0SUPPORT", ts=reply)
    bob.conversations_join(channel="C0INFRA")
    events = [e["event"] for e in wait_events(receiver, 8)]
    assert [e["type"] for e in events] == [
        "message",
        "message",
        "message",
        "reaction_added",
        "reaction_removed",
        "message",
        "member_joined_channel",
        "message",
    ]
    assert events[1]["thread_ts"] == root and events[1]["parent_user_id"] == "U0ALICE"
    assert events[2]["subtype"] == "message_changed" and events[2]["message"]["text"] == "better answer"
    assert events[2]["previous_message"]["text"] == "answer"
    assert events[3]["item"] == {"type": "message", "channel": "C0SUPPORT", "ts": root}
    assert events[5]["subtype"] == "message_deleted" and events[5]["deleted_ts"] == reply
    assert events[6]["channel"] == "C0INFRA" and events[6]["user"] == "U0BOB"
    assert events[7]["subtype"] == "channel_join" and events[7]["text"] == "<@U0BOB> has joined the channel"
    parent = client(slack).conversations_replies(channel="C0SUPPORT", ts=root)["messages"][0]
    assert parent["reply_count"] == 1 and parent["latest_reply"] == reply


def test_bot_posts_carry_bot_id_and_metadata_is_readable(slack, receiver):
    bot = client(slack)
    assert bot.auth_test()["bot_id"] == slack.bot_id
    root = client(slack, slack.user_token("alice")).chat_postMessage(channel="C0SUPPORT", text="q")["ts"]
    bot.chat_postMessage(
        channel="C0SUPPORT",
        thread_ts=root,
        text="Ticket #1",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "Ticket #1"}}],
        metadata={"event_type": "threadline_post", "event_payload": {"command_id": "c1"}},
        username="Agent Ann",
    )
    events = [e["event"] for e in wait_events(receiver, 2)]
    assert events[1]["bot_id"] == slack.bot_id and events[1]["bot_profile"]["app_id"] == "A0THREADLINE"
    replies = bot.conversations_replies(channel="C0SUPPORT", ts=root, include_all_metadata=True)["messages"]
    assert replies[1]["metadata"]["event_payload"] == {"command_id": "c1"}
    assert "metadata" not in bot.conversations_replies(channel="C0SUPPORT", ts=root)["messages"][1]
    history = bot.conversations_history(channel="C0SUPPORT", limit=1)
    assert history["messages"][0]["ts"] == root and not history["has_more"]


def test_lookups_permalinks_ephemeral_and_info(slack):
    bot = client(slack)
    assert bot.users_info(user="U0ALICE")["user"]["profile"]["email"] == "alice@sandbox-corp.example"
    assert "email" not in bot.users_info(user="U0GUEST")["user"]["profile"]
    assert bot.users_lookupByEmail(email="bob@sandbox-corp.example")["user"]["id"] == "U0BOB"
    ts = client(slack, slack.user_token("alice")).chat_postMessage(channel="C0SUPPORT", text="x")["ts"]
    link = bot.chat_getPermalink(channel="C0SUPPORT", message_ts=ts)["permalink"]
    assert link.endswith(f"/archives/C0SUPPORT/p{ts.replace('.', '')}")
    assert bot.chat_postEphemeral(channel="C0SUPPORT", user="U0ALICE", text="welcome")["ok"]
    assert bot.conversations_info(channel="C0SHARED")["channel"]["is_ext_shared"] is True


def test_slack_errors(slack):
    with pytest.raises(SlackApiError) as e:
        WebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test()
    assert e.value.response["error"] == "invalid_auth"
    bot = client(slack)
    for call, error in [
        (lambda: bot.chat_postMessage(channel="C0NOPE", text="x"), "channel_not_found"),
        (lambda: bot.chat_postMessage(channel="C0RANDOM", text="x"), "not_in_channel"),
        (lambda: bot.chat_postMessage(channel="C0SUPPORT", text="x" * 40001), "msg_too_long"),
        (lambda: bot.users_info(user="U0NOPE"), "user_not_found"),
        (lambda: bot.users_lookupByEmail(email="nobody@example.com"), "users_not_found"),
    ]:
        with pytest.raises(SlackApiError) as e:
            call()
        assert e.value.response["error"] == error


def test_rate_limit_answers_429_with_retry_after_and_the_sdk_honours_it(slack):
    slack.knobs.rate_limit_per_minute = 1
    bot = client(slack)
    bot.auth_test()
    with pytest.raises(SlackApiError) as e:
        bot.auth_test()
    assert e.value.response.status_code == 429 and int(e.value.response.headers["retry-after"]) >= 1
    retrying = client(slack)
    retrying.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    slack.knobs.rate_limit_per_minute = 0  # the retry after Retry-After goes through
    assert retrying.auth_test()["ok"]


def test_files_upload_v2_into_a_thread(slack, receiver):
    alice = client(slack, slack.user_token("alice"))
    root = alice.chat_postMessage(channel="C0SUPPORT", text="see log")["ts"]
    uploaded = alice.files_upload_v2(
        channel="C0SUPPORT", thread_ts=root, content=b"boom\n", filename="crash.log", initial_comment="the log"
    )
    file_id = uploaded["files"][0]["id"]
    assert client(slack).files_info(file=file_id)["file"]["size"] == 5
    events = [e["event"] for e in wait_events(receiver, 2)]
    assert events[1]["subtype"] == "file_share" and events[1]["files"][0]["id"] == file_id
    assert events[1]["thread_ts"] == root


async def test_async_client_works_too(slack):
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    assert (await web.auth_test())["user_id"] == slack.bot_user_id


def test_failed_deliveries_are_retried_with_slacks_headers(slack, receiver):
    receiver.statuses = [500, 503]
    client(slack, slack.user_token("alice")).chat_postMessage(channel="C0SUPPORT", text="hello")
    wait_events(receiver, 3)
    headers = [h for h, _ in receiver.requests]
    assert [h.get("x-slack-retry-num") for h in headers] == [None, "1", "2"]
    assert headers[1]["x-slack-retry-reason"] == "http_error"
    assert len({json.loads(b)["event_id"] for _, b in receiver.requests}) == 1


def test_a_delivered_event_can_be_delivered_again_as_slacks_retry(slack, receiver):
    client(slack, slack.user_token("alice")).chat_postMessage(channel="C0SUPPORT", text="hello")
    [first] = wait_events(receiver, 1)
    slack.wait_for_deliveries()
    assert slack.retry_event(first["event_id"]) == [200]
    headers, body = receiver.requests[-1]
    assert (headers.get("x-slack-retry-num"), headers.get("x-slack-retry-reason")) == ("1", "http_timeout")
    assert json.loads(body) == first  # the same event, byte for byte the same body


def test_events_come_only_from_conversations_the_bot_is_in(slack, receiver):
    alice = client(slack, slack.user_token("alice"))
    alice.chat_postMessage(channel="C0RANDOM", text="not for the bot")  # the bot is not in #random
    alice.chat_postMessage(channel="C0SUPPORT", text="for the bot")
    client(slack).conversations_join(channel="C0RANDOM")
    alice.chat_postMessage(channel="C0RANDOM", text="now the bot is here")
    slack.wait_for_deliveries()  # every event so far has left, delivered or dropped
    events = [e["event"] for e in wait_events(receiver, 4)]
    assert [(e["type"], e.get("subtype"), e.get("text")) for e in events] == [
        ("message", None, "for the bot"),
        ("member_joined_channel", None, None),
        ("message", "channel_join", "<@U0BOT> has joined the channel"),
        ("message", None, "now the bot is here"),
    ]


def test_a_bot_reads_only_conversations_it_is_in(slack):
    alice = client(slack, slack.user_token("alice"))
    ts = alice.chat_postMessage(channel="C0RANDOM", text="q")["ts"]
    bot = client(slack)
    for call, error in [
        (lambda: bot.conversations_history(channel="C0RANDOM"), "not_in_channel"),
        (lambda: bot.conversations_replies(channel="C0RANDOM", ts=ts), "not_in_channel"),
    ]:
        with pytest.raises(SlackApiError) as e:
            call()
        assert e.value.response["error"] == error
    assert alice.conversations_history(channel="C0RANDOM")["messages"][0]["ts"] == ts  # people may read
    assert bot.conversations_info(channel="C0RANDOM")["channel"]["is_member"] is False


def test_a_private_channel_does_not_exist_for_a_non_member(slack):
    bob = client(slack, slack.user_token("bob"))  # not in #secret-ops
    for call in [
        lambda: bob.conversations_info(channel="G0PRIVATE"),
        lambda: bob.conversations_history(channel="G0PRIVATE"),
        lambda: bob.conversations_replies(channel="G0PRIVATE", ts="1700000000.000001"),
        lambda: bob.chat_postMessage(channel="G0PRIVATE", text="x"),
        lambda: bob.conversations_join(channel="G0PRIVATE"),
    ]:
        with pytest.raises(SlackApiError) as e:
            call()
        assert e.value.response["error"] == "channel_not_found"
    info = client(slack).conversations_info(channel="G0PRIVATE")["channel"]
    assert info["is_private"] is True and info["is_member"] is True


@pytest.mark.parametrize(
    ("method", "params", "error"),
    [
        ("chat.postMessage", {"text": "x"}, "channel_not_found"),
        ("chat.postMessage", {"channel": "C0SUPPORT"}, "no_text"),
        ("chat.update", {"channel": "C0SUPPORT", "text": "x"}, "message_not_found"),
        ("conversations.replies", {"channel": "C0SUPPORT"}, "invalid_arguments"),
        ("conversations.info", {}, "channel_not_found"),
        ("conversations.rename", {"channel": "C0SUPPORT"}, "invalid_name_required"),
        ("users.info", {}, "user_not_found"),
        ("users.lookupByEmail", {}, "users_not_found"),
        ("reactions.add", {"channel": "C0SUPPORT", "name": "eyes"}, "no_item_specified"),
        ("reactions.add", {"channel": "C0SUPPORT", "timestamp": "1700000000.000001"}, "invalid_name"),
        ("files.getUploadURLExternal", {"filename": "a.txt"}, "invalid_arguments"),
        ("files.info", {}, "file_not_found"),
    ],
)
def test_a_missing_argument_answers_the_methods_documented_error(slack, method, params, error):
    with pytest.raises(SlackApiError) as e:
        client(slack).api_call(method, params=params)
    assert e.value.response["error"] == error
    if error == "invalid_arguments":  # Slack names the argument
        assert e.value.response["response_metadata"]["messages"][0].startswith("[ERROR] missing required field: ")


def test_no_token_is_not_authed_and_a_wrong_one_invalid_auth(slack):
    import httpx

    assert httpx.post(slack.api_url + "auth.test").json() == {"ok": False, "error": "not_authed"}
    wrong = httpx.post(slack.api_url + "auth.test", headers={"authorization": "Bearer xoxb-nope"}).json()
    assert wrong == {"ok": False, "error": "invalid_auth"}


def test_a_broadcast_carries_its_root_and_a_bare_file_share_has_empty_text(slack, receiver):
    alice = client(slack, slack.user_token("alice"))
    root = alice.chat_postMessage(channel="C0SUPPORT", text="question")["ts"]
    alice.chat_postMessage(channel="C0SUPPORT", text="also here", thread_ts=root, reply_broadcast=True)
    alice.files_upload_v2(channel="C0SUPPORT", content=b"x", filename="a.txt")
    events = [e["event"] for e in wait_events(receiver, 3)]
    assert events[1]["subtype"] == "thread_broadcast" and events[1]["root"]["ts"] == root
    assert events[1]["root"]["reply_count"] == 1
    assert events[2]["subtype"] == "file_share" and events[2]["text"] == ""


def test_users_info_carries_the_profile_fields_slack_always_returns(slack):
    user = client(slack).users_info(user="U0ALICE")["user"]
    for key in ("real_name", "display_name", "real_name_normalized", "display_name_normalized", "avatar_hash"):
        assert user["profile"][key]
    for key in ("title", "phone", "skype", "status_text", "status_emoji", "fields", "image_24", "image_512"):
        assert key in user["profile"]
    assert {"updated", "is_app_user", "tz_offset", "is_admin"} <= set(user)

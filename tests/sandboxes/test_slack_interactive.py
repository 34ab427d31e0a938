"""The Slack sandbox's interactive surface through the unmodified slack_sdk: slash commands,
buttons, message shortcuts, modals, the Home tab, DMs and response_url, sent to an app's Request
URLs signed as Slack signs them, with the shapes of real captured payloads."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from threadline_devstack.waiting import wait_until
from threadline_sandbox.slack import SlackSandbox

pytestmark = pytest.mark.unit
SECRET = "sandbox-interactive-secret"
REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real_payloads" / "slack" / "interactivity"

Answer = tuple[int, Any]  # status, and a body: a dict is sent as JSON, a str as it is


class App:
    """The app's Request URLs: checks every request's signature with slack_sdk's
    SignatureVerifier, records it, and answers with what the test's handler returns."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.events: list[dict[str, Any]] = []
        self.on_command: Callable[[dict[str, str]], Answer] = lambda form: (200, "")
        self.on_interaction: Callable[[dict[str, Any]], Answer] = lambda payload: (200, "")
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                valid = SignatureVerifier(SECRET).is_valid(
                    body, headers["x-slack-request-timestamp"], headers["x-slack-signature"]
                )
                app.requests.append((self.path, headers, body))
                status, answer = 401, "bad signature"
                if valid and self.path == "/slack/events":
                    app.events.append(json.loads(body))
                    status, answer = 200, ""
                elif valid and self.path == "/slack/commands":
                    form = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
                    status, answer = app.on_command(form)
                elif valid and self.path == "/slack/interactivity":
                    form = dict(urllib.parse.parse_qsl(body.decode()))
                    status, answer = app.on_interaction(json.loads(form["payload"]))
                raw = json.dumps(answer).encode() if isinstance(answer, dict) else str(answer).encode()
                try:
                    self.send_response(status)
                    if isinstance(answer, dict):
                        self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sandbox stopped waiting (an app too slow to answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def payloads(self) -> list[dict[str, Any]]:
        return [
            json.loads(dict(urllib.parse.parse_qsl(body.decode()))["payload"])
            for path, _, body in self.requests
            if path == "/slack/interactivity"
        ]

    def wait_event(self, kind: str, **fields: Any) -> dict[str, Any]:
        """The latest event of `kind` (with these field values), once it has arrived."""

        def latest() -> dict[str, Any] | None:
            found = [
                e["event"]
                for e in self.events
                if e["event"]["type"] == kind and all(e["event"].get(k) == v for k, v in fields.items())
            ]
            return found[-1] if found else None

        found: dict[str, Any] = wait_until(f"a {kind} event", latest, timeout=10, interval=0.02)
        return found


@pytest.fixture
def app() -> Iterator[App]:
    a = App()
    yield a
    a.server.shutdown()


@pytest.fixture
def slack(app: App) -> Iterator[SlackSandbox]:
    sandbox = SlackSandbox(
        SECRET,
        [f"{app.url}/slack/events"],
        commands_url=f"{app.url}/slack/commands",
        interactivity_url=f"{app.url}/slack/interactivity",
    ).start()
    yield sandbox
    sandbox.stop()


def bot(slack: SlackSandbox) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url)


BUTTONS = [
    {"type": "section", "block_id": "intro", "text": {"type": "mrkdwn", "text": "Printer on fire?"}},
    {
        "type": "actions",
        "block_id": "choices",
        "elements": [
            {
                "type": "button",
                "action_id": "escalate",
                "text": {"type": "plain_text", "text": "Escalate"},
                "value": "1",
            },
            {"type": "button", "action_id": "close", "text": {"type": "plain_text", "text": "Close"}, "value": "2"},
        ],
    },
]


def modal(title: str = "Report a problem", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "report",
        "private_metadata": "C0SUPPORT",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            {
                "type": "input",
                "block_id": "summary",
                "label": {"type": "plain_text", "text": "Summary"},
                "element": {"type": "plain_text_input", "action_id": "text"},
            },
            {
                "type": "input",
                "block_id": "priority",
                "label": {"type": "plain_text", "text": "Priority"},
                "element": {
                    "type": "static_select",
                    "action_id": "pick",
                    "options": [
                        {"text": {"type": "plain_text", "text": "High"}, "value": "high"},
                        {"text": {"type": "plain_text", "text": "Low"}, "value": "low"},
                    ],
                },
            },
        ],
        **extra,
    }


def keys_of_real(name: str) -> set[str]:
    return set(json.loads((REAL / name).read_text()))


# --- slash commands and response_url ------------------------------------------------------------


def test_a_slash_command_is_slacks_signed_form_and_its_answer_is_shown_ephemerally(slack, app):
    app.on_command = lambda form: (200, {"text": f"Looking into {form['text']!r}"})
    answer = slack.slash_command("alice", "C0SUPPORT", "/ticket", "printer on fire")
    path, headers, body = app.requests[-1]
    assert path == "/slack/commands"
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    form = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
    real = dict(urllib.parse.parse_qsl((REAL / "slash_command_form_body.txt").read_text().strip()))
    # Enterprise Grid's enterprise_id / enterprise_name are not modelled (the workspace is not in a grid).
    assert set(real) - {"enterprise_id", "enterprise_name"} <= set(form)
    assert {"api_app_id", "is_enterprise_install"} <= set(form)
    assert (form["command"], form["text"], form["user_id"], form["user_name"]) == (
        "/ticket",
        "printer on fire",
        "U0ALICE",
        "alice",
    )
    assert (form["channel_id"], form["channel_name"], form["team_domain"]) == ("C0SUPPORT", "support", "sandbox-corp")
    assert form["response_url"].startswith(slack.base_url + "/hooks/commands/T0SANDBOX/")
    assert answer.status == 200 and answer.message == {"text": "Looking into 'printer on fire'"}
    assert answer.trigger_id == form["trigger_id"] and answer.response_url == form["response_url"]
    [shown] = slack.ephemerals("alice")
    assert (shown["text"], shown["channel"], shown["via"]) == (
        "Looking into 'printer on fire'",
        "C0SUPPORT",
        "command_response",
    )
    assert slack.ephemerals("bob") == [] and slack.channel_messages("C0SUPPORT") == []


def test_response_url_replies_in_channel_or_ephemerally_five_times_in_thirty_minutes(slack, app):
    answer = slack.slash_command("bob", "C0RANDOM", "/ticket", "")  # the bot is not in #random: commands work
    assert answer.status == 200 and answer.message is None
    url = answer.response_url
    posted = httpx.post(url, json={"response_type": "in_channel", "text": "Ticket #7 opened", "blocks": BUTTONS})
    assert (posted.status_code, posted.text) == (200, "ok")
    [message] = slack.channel_messages("C0RANDOM")
    assert message["bot_id"] == slack.bot_id and message["blocks"] == BUTTONS
    assert httpx.post(url, json={"text": "only you see this"}).text == "ok"
    assert slack.ephemerals("bob")[-1]["text"] == "only you see this"
    assert httpx.post(url, json={"text": "3"}).status_code == 200
    assert httpx.post(url, json={"text": "4"}).status_code == 200
    assert httpx.post(url, json={"text": "5"}).status_code == 200
    sixth = httpx.post(url, json={"text": "6"})
    assert (sixth.status_code, sixth.text) == (404, "used_url")
    assert [p["status"] for p in slack.response_url_posts()] == [200, 200, 200, 200, 200, 404]
    slack.knobs.response_url_ttl_seconds = 0.0
    late = slack.slash_command("bob", "C0RANDOM", "/ticket", "").response_url
    expired = httpx.post(late, json={"text": "too late"})
    assert (expired.status_code, expired.text) == (404, "expired_url")
    slack.knobs.response_url_ttl_seconds = 1800.0
    empty = httpx.post(slack.slash_command("bob", "C0RANDOM", "/ticket", "").response_url, json={})
    assert (empty.status_code, empty.text) == (400, "no_text")


# --- buttons, shortcuts, modals ---------------------------------------------------------------------


def test_pressing_a_button_sends_block_actions_shaped_like_slacks(slack, app):
    ts = bot(slack).chat_postMessage(channel="C0SUPPORT", text="Printer on fire?", blocks=BUTTONS)["ts"]
    answer = slack.press_button("alice", "C0SUPPORT", ts, "escalate")
    assert answer.status == 200
    [payload] = app.payloads()
    real = json.loads((REAL / "block_actions_with_message_socket_mode.json").read_text())
    assert set(real) <= set(payload)
    assert set(keys_of_real("block_actions_payload_decoded.json")) <= set(payload)
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": "C0SUPPORT",
        "is_ephemeral": False,
    }
    assert payload["message"]["blocks"] == BUTTONS and payload["message"]["ts"] == ts
    [action] = payload["actions"]
    assert set(real["actions"][0]) <= set(action)
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == (
        "escalate",
        "choices",
        "1",
        "button",
    )
    assert payload["user"] == {"id": "U0ALICE", "username": "alice", "name": "alice", "team_id": "T0SANDBOX"}
    assert payload["channel"] == {"id": "C0SUPPORT", "name": "support"}
    assert payload["response_url"].startswith(slack.base_url + "/hooks/actions/")


def test_a_button_opens_a_modal_whose_submission_shows_errors_then_closes(slack, app):
    web = bot(slack)
    opened: list[dict[str, Any]] = []

    def interaction(payload: dict[str, Any]) -> Answer:
        if payload["type"] == "block_actions":
            opened.append(web.views_open(trigger_id=payload["trigger_id"], view=modal()).data)
            return 200, ""
        summary = payload["view"]["state"]["values"]["summary"]["text"]["value"]
        if len(summary) < 5:
            return 200, {"response_action": "errors", "errors": {"summary": "Say a little more"}}
        return 200, ""

    app.on_interaction = interaction
    ts = web.chat_postMessage(channel="C0SUPPORT", text="Printer on fire?", blocks=BUTTONS)["ts"]
    slack.press_button("alice", "C0SUPPORT", ts, "escalate")
    view = opened[0]["view"]
    assert view["id"].startswith("V") and view["hash"] and view["state"] == {"values": {}}
    shown = slack.open_view("alice")
    assert shown is not None and shown["title"]["text"] == "Report a problem" and shown["errors"] == {}
    slack.submit_view("alice", {"summary": {"text": "fire"}, "priority": {"pick": "high"}})
    submitted = app.payloads()[-1]
    assert submitted["type"] == "view_submission" and submitted["view"]["callback_id"] == "report"
    assert submitted["view"]["private_metadata"] == "C0SUPPORT" and submitted["view"]["id"] == view["id"]
    assert submitted["view"]["state"]["values"] == {
        "summary": {"text": {"type": "plain_text_input", "value": "fire"}},
        "priority": {
            "pick": {
                "type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": "High"}, "value": "high"},
            }
        },
    }
    errored = slack.open_view("alice")
    assert errored is not None and errored["errors"] == {"summary": "Say a little more"}
    assert slack.submit_view("alice", {"summary": {"text": "it is really on fire"}}).status == 200
    assert slack.open_view("alice") is None


def test_a_submission_may_update_push_or_clear(slack, app):
    web = bot(slack)
    answers: list[Answer] = []

    def interaction(payload: dict[str, Any]) -> Answer:
        if payload["type"] == "message_action":
            web.views_open(trigger_id=payload["trigger_id"], view=modal())
            return 200, ""
        return answers.pop(0)

    app.on_interaction = interaction
    ts = web.chat_postMessage(channel="C0SUPPORT", text="Printer on fire?")["ts"]
    slack.message_shortcut("alice", "C0SUPPORT", ts, "make_ticket")
    answers[:] = [
        (200, {"response_action": "update", "view": modal("Step 2")}),
        (200, {"response_action": "push", "view": modal("Step 3")}),
        (200, {"response_action": "clear"}),
    ]
    slack.submit_view("alice", {"summary": {"text": "x"}})
    first = slack.open_view("alice")
    assert first is not None and first["title"]["text"] == "Step 2"
    slack.submit_view("alice", {"summary": {"text": "x"}})
    pushed = slack.open_view("alice")
    assert pushed is not None and pushed["title"]["text"] == "Step 3" and pushed["previous_view_id"] == first["id"]
    slack.submit_view("alice", {})
    assert slack.open_view("alice") is None


def test_a_message_shortcut_carries_the_message_and_a_response_url(slack, app):
    ts = slack_post(slack, "alice", "C0SUPPORT", "my printer")
    slack.message_shortcut("bob", "C0SUPPORT", ts, "make_ticket")
    [payload] = app.payloads()
    assert payload["type"] == "message_action" and payload["callback_id"] == "make_ticket"
    assert payload["message"]["text"] == "my printer" and payload["message_ts"] == ts
    assert payload["channel"]["id"] == "C0SUPPORT" and payload["user"]["id"] == "U0BOB"
    assert payload["trigger_id"] and payload["response_url"]
    replaced = httpx.post(payload["response_url"], json={"text": "ephemeral to bob"})
    assert replaced.text == "ok" and slack.ephemerals("bob")[-1]["text"] == "ephemeral to bob"


def slack_post(slack: SlackSandbox, who: str, channel: str, text: str) -> str:
    client = WebClient(token=slack.user_token(who), base_url=slack.api_url)
    return str(client.chat_postMessage(channel=channel, text=text)["ts"])


def test_response_url_replaces_or_deletes_the_original_message(slack, app):
    web = bot(slack)
    ts = web.chat_postMessage(channel="C0SUPPORT", text="Printer on fire?", blocks=BUTTONS)["ts"]
    slack.press_button("alice", "C0SUPPORT", ts, "close")
    url = app.payloads()[-1]["response_url"]
    done = [{"type": "section", "block_id": "done", "text": {"type": "mrkdwn", "text": "Closed by alice"}}]
    assert httpx.post(url, json={"replace_original": True, "text": "Closed", "blocks": done}).text == "ok"
    [message] = slack.channel_messages("C0SUPPORT")
    assert (message["ts"], message["text"], message["blocks"]) == (ts, "Closed", done)
    assert web.conversations_history(channel="C0SUPPORT")["messages"][0]["blocks"] == done
    assert httpx.post(url, json={"delete_original": True}).text == "ok"
    assert slack.channel_messages("C0SUPPORT") == []


def test_a_button_on_an_ephemeral_message(slack, app):
    app.on_command = lambda form: (200, {"text": "Choose", "blocks": BUTTONS})
    slack.slash_command("alice", "C0SUPPORT", "/ticket", "")
    [shown] = slack.ephemerals("alice")
    assert shown["blocks"] == BUTTONS
    slack.press_button("alice", "C0SUPPORT", shown["ts"], "escalate")
    payload = app.payloads()[-1]
    assert payload["container"]["is_ephemeral"] is True and "message" not in payload
    assert httpx.post(payload["response_url"], json={"replace_original": "true", "text": "Escalated"}).text == "ok"
    assert [m["text"] for m in slack.ephemerals("alice")] == ["Escalated"]


# --- trigger_id and view rules -----------------------------------------------------------------------


def test_a_trigger_id_expires_after_three_seconds_and_is_single_use(slack, app):
    web = bot(slack)
    triggers: list[str] = []
    app.on_interaction = lambda payload: (triggers.append(payload["trigger_id"]), (200, ""))[1]
    ts = web.chat_postMessage(channel="C0SUPPORT", text="q", blocks=BUTTONS)["ts"]
    assert slack.knobs.trigger_ttl_seconds == 3.0  # Slack's
    slack.press_button("alice", "C0SUPPORT", ts, "escalate")
    slack.press_button("alice", "C0SUPPORT", ts, "escalate")
    assert web.views_open(trigger_id=triggers[0], view=modal())["ok"]
    with pytest.raises(SlackApiError) as reused:
        web.views_open(trigger_id=triggers[0], view=modal())
    assert reused.value.response["error"] == "exchanged_trigger_id"
    # A trigger's life is time itself: rather than wait 3 s (or a shorter life that a loaded
    # machine can outlast before the first use), the second trigger is made older than its life.
    slack.knobs.trigger_ttl_seconds = 0.0
    with pytest.raises(SlackApiError) as late:
        web.views_open(trigger_id=triggers[1], view=modal())
    assert late.value.response["error"] == "expired_trigger_id"


def test_an_invalid_view_is_refused_with_slacks_messages(slack, app):
    web = bot(slack)
    triggers: list[str] = []
    app.on_interaction = lambda payload: (triggers.append(payload["trigger_id"]), (200, ""))[1]
    ts = web.chat_postMessage(channel="C0SUPPORT", text="q", blocks=BUTTONS)["ts"]
    slack.press_button("alice", "C0SUPPORT", ts, "escalate")
    with pytest.raises(SlackApiError) as e:
        web.views_open(trigger_id=triggers[0], view=modal("A title well over 24 chars"))
    assert e.value.response["error"] == "invalid_arguments"
    assert e.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    with pytest.raises(SlackApiError) as metadata:
        web.views_open(trigger_id=triggers[0], view=modal(private_metadata="x" * 3001))
    assert "[json-pointer:/view/private_metadata]" in metadata.value.response["response_metadata"]["messages"][0]
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    with pytest.raises(SlackApiError) as blocks:
        web.views_open(trigger_id=triggers[0], view={**modal(), "blocks": [section] * 101})
    assert blocks.value.response["response_metadata"]["messages"] == [
        "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"
    ]
    long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3000}}
    with pytest.raises(SlackApiError) as large:  # over 250 kB
        web.views_open(trigger_id=triggers[0], view={**modal(), "blocks": [long] * 90})
    assert large.value.response["error"] == "view_too_large"
    assert web.views_open(trigger_id=triggers[0], view=modal())["ok"]  # the refusals did not spend it


def test_views_update_with_a_stale_hash_is_a_hash_conflict(slack, app):
    web = bot(slack)
    triggers: list[str] = []
    app.on_interaction = lambda payload: (triggers.append(payload["trigger_id"]), (200, ""))[1]
    ts = web.chat_postMessage(channel="C0SUPPORT", text="q", blocks=BUTTONS)["ts"]
    slack.press_button("alice", "C0SUPPORT", ts, "escalate")
    view = web.views_open(trigger_id=triggers[0], view=modal(external_id="report-1"))["view"]
    updated = web.views_update(view_id=view["id"], hash=view["hash"], view=modal("Loading done"))["view"]
    assert updated["id"] == view["id"] and updated["hash"] != view["hash"]
    with pytest.raises(SlackApiError) as e:
        web.views_update(view_id=view["id"], hash=view["hash"], view=modal("Too late"))
    assert e.value.response["error"] == "hash_conflict"
    by_external = web.views_update(external_id="report-1", view=modal("By external id"))["view"]
    assert by_external["title"]["text"] == "By external id"
    shown = slack.open_view("alice")
    assert shown is not None and shown["title"]["text"] == "By external id"


# --- Home tab, DMs, ephemerals -----------------------------------------------------------------------


def test_the_home_tab_is_published_opened_and_pressed(slack, app):
    web = bot(slack)
    home = {
        "type": "home",
        "callback_id": "home",
        "blocks": [
            {
                "type": "actions",
                "block_id": "home_actions",
                "elements": [
                    {"type": "button", "action_id": "new_ticket", "text": {"type": "plain_text", "text": "New"}}
                ],
            }
        ],
    }
    slack.open_home("alice")
    assert "view" not in app.wait_event("app_home_opened")
    published = web.views_publish(user_id="U0ALICE", view=home)["view"]
    assert published["type"] == "home" and slack.home("alice") == published
    app.events.clear()
    slack.open_home("alice")
    event = app.wait_event("app_home_opened")
    assert event["tab"] == "home" and event["user"] == "U0ALICE" and event["view"]["id"] == published["id"]
    assert event["channel"].startswith("D")
    slack.press_home_button("alice", "new_ticket")
    payload = app.payloads()[-1]
    assert payload["container"] == {"type": "view", "view_id": published["id"]}
    assert payload["view"]["type"] == "home" and payload["actions"][0]["action_id"] == "new_ticket"
    with pytest.raises(SlackApiError) as e:
        web.views_publish(user_id="U0ALICE", view=home, hash="1500000000.stale")
    assert e.value.response["error"] == "hash_conflict"


def test_dms_with_the_bot(slack, app):
    web = bot(slack)
    opened = web.conversations_open(users="U0ALICE")
    dm = opened["channel"]["id"]
    assert dm.startswith("D") and "already_open" not in opened.data
    again = web.conversations_open(users="U0ALICE", return_im=True)
    assert again["already_open"] is True and again["channel"]["is_im"] is True and again["channel"]["user"] == "U0ALICE"
    posted = web.chat_postMessage(channel="U0ALICE", text="Your ticket #7 was solved")  # a user id: the DM
    assert posted["channel"] == dm
    slack.dm("alice", "thanks!")
    event = app.wait_event("message", user="U0ALICE")  # the bot's own post above is an event too
    assert (event["channel"], event["channel_type"], event["user"], event["text"]) == (dm, "im", "U0ALICE", "thanks!")
    assert [m["text"] for m in slack.dms("alice")] == ["Your ticket #7 was solved", "thanks!"]
    assert web.conversations_history(channel=dm)["messages"][0]["text"] == "thanks!"
    bob = WebClient(token=slack.user_token("bob"), base_url=slack.api_url)
    with pytest.raises(SlackApiError) as e:  # someone else's DM does not exist for bob
        bob.conversations_history(channel=dm)
    assert e.value.response["error"] == "channel_not_found"


def test_a_dm_and_a_slash_command_are_of_one_workspace(slack, app):
    """A person of a second workspace: the first workspace's bot token cannot open a DM with them
    (user_not_found, as for anyone it cannot see); a command they type in their workspace's own
    channel carries that workspace's team_id."""
    slack.add_workspace("T2", "Second Corp")
    slack.add_channel("C2HELP", "help-t2", "T2", members=[slack.bot_user_id, "W2DANA"])
    slack.person_token("T2", "W2DANA")
    with pytest.raises(SlackApiError) as e:
        bot(slack).conversations_open(users="W2DANA")
    assert e.value.response["error"] == "user_not_found"
    app.on_command = lambda form: (200, {})
    slack.slash_command("w2dana", "C2HELP", "/ticket", "scanner down")
    form = dict(urllib.parse.parse_qsl(app.requests[-1][2].decode(), keep_blank_values=True))
    assert (form["team_id"], form["user_id"], form["channel_id"]) == ("T2", "W2DANA", "C2HELP")


def test_ephemerals_and_chat_update_keep_blocks(slack, app):
    web = bot(slack)
    web.chat_postEphemeral(channel="C0SUPPORT", user="U0BOB", text="Only bob", blocks=BUTTONS)
    [ephemeral] = slack.ephemerals("bob")
    assert (ephemeral["text"], ephemeral["blocks"], ephemeral["via"]) == ("Only bob", BUTTONS, "chat.postEphemeral")
    ts = web.chat_postMessage(channel="C0SUPPORT", text="v1")["ts"]
    updated = web.chat_update(channel="C0SUPPORT", ts=ts, text="v2", blocks=BUTTONS)
    assert updated["message"]["blocks"] == BUTTONS
    assert web.conversations_history(channel="C0SUPPORT")["messages"][0]["blocks"] == BUTTONS


def test_a_button_in_a_modal_pushes_a_view_up_to_slacks_limit(slack, app):
    web = bot(slack)
    errors: list[str] = []
    step = {
        **modal("Details"),
        "blocks": [
            {
                "type": "actions",
                "block_id": "more",
                "elements": [{"type": "button", "action_id": "more", "text": {"type": "plain_text", "text": "More"}}],
            }
        ],
    }

    def interaction(payload: dict[str, Any]) -> Answer:
        if payload["container"]["type"] == "message":
            web.views_open(trigger_id=payload["trigger_id"], view=step)
        else:
            assert payload["view"]["id"] == payload["container"]["view_id"]
            try:
                web.views_push(trigger_id=payload["trigger_id"], view=step)
            except SlackApiError as e:
                errors.append(e.response["error"])
        return 200, ""

    app.on_interaction = interaction
    ts = web.chat_postMessage(channel="C0SUPPORT", text="q", blocks=BUTTONS)["ts"]
    slack.press_button("alice", "C0SUPPORT", ts, "escalate")
    root = slack.open_view("alice")
    assert root is not None
    slack.press_modal_button("alice", "more")
    slack.press_modal_button("alice", "more")
    top = slack.open_view("alice")
    assert top is not None and top["root_view_id"] == root["id"] and top["id"] != root["id"]
    slack.press_modal_button("alice", "more")  # a fourth view: over the limit of 3
    assert errors == ["push_limit_reached"]


def test_an_in_channel_answer_and_an_app_too_slow_to_answer(slack, app):
    app.on_command = lambda form: (200, {"response_type": "in_channel", "text": "Ticket #8 opened"})
    slack.slash_command("alice", "C0SUPPORT", "/ticket", "new")
    [message] = slack.channel_messages("C0SUPPORT")
    assert (message["text"], message["bot_id"]) == ("Ticket #8 opened", slack.bot_id)
    assert slack.ephemerals("alice") == []

    def slow(form: dict[str, str]) -> Answer:
        time.sleep(0.5)
        return 200, {"text": "too late"}

    app.on_command = slow
    slack.knobs.interactive_timeout = 0.1  # Slack waits 3 seconds
    late = slack.slash_command("alice", "C0SUPPORT", "/ticket", "again")
    assert late.status is None and late.message is None and slack.ephemerals("alice") == []


def test_opening_the_messages_tab(slack, app):
    bot(slack).views_publish(user_id="U0BOB", view={"type": "home", "blocks": []})
    slack.open_home("bob", tab="messages")
    event = app.wait_event("app_home_opened")
    assert event["tab"] == "messages" and "view" not in event

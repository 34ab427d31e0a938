"""`threadline-ops slack-manifest`: the app configuration a Slack admin pastes, and whether it
grants what the services call and subscribes to what they decide."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import yaml

from threadline_router.ops.cli import main
from threadline_router.ops.slack_manifest import BOT_EVENTS, BOT_SCOPES, SHORTCUTS, manifest

ROOT = Path(__file__).resolve().parents[2]
WEB_API = ROOT / "tests/fixtures/slack_api_specs/web-api/slack_web_openapi_v2_without_examples.json"
# Slack's 2020 specification still names the scopes of classic apps; the granular bot scopes
# that replaced them (https://docs.slack.dev/reference/scopes).
GRANULAR = {"chat:write:bot": "chat:write", "channels:write": "channels:join"}
METHOD = re.compile(
    r"\.(usergroups_users_list|(?:chat|conversations|users|reactions|files|views|bots|auth)_[a-zA-Z]+)\b"
)  # calls and references


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_the_manifest_names_every_request_url_under_ingests_address():
    code, out, err = run("slack-manifest", "--url", "https://threadline.acme.example/")
    assert code == 0, err
    document = yaml.safe_load(out)
    settings, features = document["settings"], document["features"]
    assert settings["event_subscriptions"]["request_url"] == "https://threadline.acme.example/slack/events"
    assert settings["interactivity"] == {
        "is_enabled": True,
        "request_url": "https://threadline.acme.example/slack/interactions",
    }
    assert features["slash_commands"][0]["command"] == "/support"
    assert features["slash_commands"][0]["url"] == "https://threadline.acme.example/slack/commands"
    assert features["app_home"]["home_tab_enabled"] is True
    assert {s["callback_id"] for s in features["shortcuts"]} == {c for _, c, _ in SHORTCUTS}
    assert all(s["type"] == "message" for s in features["shortcuts"])
    assert settings["socket_mode_enabled"] is False


def test_socket_mode_has_no_request_urls_and_a_renamed_command():
    code, out, _ = run("slack-manifest", "--socket-mode", "--command", "/helpdesk", "--name", "Help")
    assert code == 0
    document = yaml.safe_load(out)
    assert document["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in document["settings"]["event_subscriptions"]
    assert "request_url" not in document["settings"]["interactivity"]
    assert document["features"]["slash_commands"][0] == {
        "command": "/helpdesk",
        "description": document["features"]["slash_commands"][0]["description"],
        "usage_hint": document["features"]["slash_commands"][0]["usage_hint"],
        "should_escape": False,
    }
    assert document["features"]["bot_user"]["display_name"] == "Help"


def test_oauth_adds_the_redirect_url_and_org_wide_install():
    code, out, err = run("slack-manifest", "--url", "https://threadline.acme.example", "--oauth")
    assert code == 0, err
    document = yaml.safe_load(out)
    assert document["oauth_config"]["redirect_urls"] == ["https://threadline.acme.example/slack/oauth_redirect"]
    assert document["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)
    assert document["settings"]["org_deploy_enabled"] is True
    # Without it, as before: no redirect URL, no org-wide install.
    plain = manifest("https://threadline.acme.example")
    assert "redirect_urls" not in plain["oauth_config"] and plain["settings"]["org_deploy_enabled"] is False


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("slack-manifest",), "--url"),
        (("slack-manifest", "--socket-mode", "--oauth"), "--url"),
        (("slack-manifest", "--url", "http://plain.example"), "https://"),
        (("slack-manifest", "--url", "https://x.example", "--command", "support"), "--command"),
    ],
)
def test_a_wrong_argument_is_one_line_and_exit_2(argv, message):
    code, out, err = run(*argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


def test_every_slack_method_the_services_call_is_granted_by_a_scope():
    spec = json.loads(WEB_API.read_text())["paths"]
    called = {
        name.replace("_", ".", 2 if name.startswith("usergroups_") else 1)
        for path in (ROOT / "services").glob("*/src/**/*.py")
        for name in METHOD.findall(path.read_text())
    }
    known = {m for m in called if f"/{m}" in spec}
    assert {"chat.postMessage", "users.info", "conversations.replies"} <= known  # the scan finds calls
    for method in sorted(known):
        operation = spec[f"/{method}"].get("post") or spec[f"/{method}"].get("get")
        needed = {GRANULAR.get(s, s) for s in operation["security"][0]["slackAuth"]}
        assert "none" in needed or needed & set(BOT_SCOPES), f"{method} needs one of {sorted(needed)}"


def test_every_event_the_router_decides_is_subscribed():
    # The inner event types the router decodes (inbound/slack.py) and those ingest always publishes.
    decided = {"reaction_added", "reaction_removed", "member_joined_channel", "app_home_opened"}
    always = {"app_uninstalled", "tokens_revoked"}
    messages = {f"message.{kind}" for kind in ("channels", "groups", "im")}
    assert decided | always | messages <= set(BOT_EVENTS)


def test_the_manifest_is_what_the_function_returns():
    assert manifest("https://a.example")["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)

"""`threadline-ops slack-manifest`: the Slack app configuration Threadline needs, as a Slack app
manifest (https://docs.slack.dev/reference/app-manifest) to paste into "Create an app -> From a
manifest", or to compare with an existing app's.

Every scope is listed with what needs it: a scope no one needs is a scope a leaked token should
not have, and `threadline-ops doctor` compares a token's scopes with these.
"""

from __future__ import annotations

import argparse
from typing import Any

import yaml

from threadline_router.ops.env import Env, UsageError

# Bot token scopes, each with the calls or events that need it.
BOT_SCOPES: dict[str, str] = {
    "channels:history": "message events and conversations.history/replies in public channels",
    "groups:history": "the same in private channels Threadline is invited to",
    "im:history": "messages people send the bot directly (private requests)",
    "channels:read": "conversations.info, conversations.members, member_joined_channel in public channels",
    "groups:read": "conversations.info, conversations.members, member_joined_channel in private channels",
    "im:read": "the bot's direct message conversations",
    "im:write": "conversations.open: direct messages to followers and private requesters",
    "channels:join": "conversations.join of a public channel it serves but was not invited to",
    "chat:write": "posts, chat.update of its own messages, ephemeral messages",
    "reactions:read": "reaction_added/removed events, reactions.get",
    "reactions:write": "reactions.add (the ticket's status as an emoji)",
    "users:read": "users.info, bots.info (names in Zendesk)",
    "users:read.email": "users.info emails and users.lookupByEmail (Zendesk users and agents by email)",
    "files:read": "downloading Slack files to attach them to the ticket",
    "files:write": "uploading Zendesk attachments and the weekly report's chart",
    "commands": "the slash command and the message shortcuts",
    "usergroups:read": "usergroups.users.list: the members of a channel's team or rotation given as a user group",
}

# The events Threadline subscribes to (ingest verifies them, the router decides them).
BOT_EVENTS = (
    "message.channels",
    "message.groups",
    "message.im",
    "reaction_added",
    "reaction_removed",
    "member_joined_channel",
    "app_home_opened",
    "app_uninstalled",
    "tokens_revoked",
)

# Message shortcuts: callback ids the router's rules/shortcuts.py decides.
SHORTCUTS = (
    ("Open a support ticket", "threadline.open_ticket", "Open a Zendesk ticket for this message"),
    ("Add to ticket", "threadline.add_to_ticket", "Copy this message to a ticket as a comment"),
    ("Add as internal note", "threadline.add_note", "Add this message to the thread's ticket as a private note"),
)

USAGE_HINT = "help | status <ticket> | open [text] | follow <ticket> | unfollow <ticket> | following | oncall"


def manifest(
    base_url: str | None,
    *,
    name: str = "Threadline",
    command: str = "/support",
    socket_mode: bool = False,
    oauth: bool = False,
) -> dict[str, Any]:
    """The manifest for an ingest reachable at base_url (HTTP request URLs), or for Socket Mode
    (no request URLs: Slack sends everything over the app-level token's WebSocket). With `oauth`
    (several workspaces): ingest's /slack/oauth_redirect as the Redirect URL, and org-wide
    deployment on (an Enterprise Grid organisation may install it for all its workspaces)."""
    if not command.startswith("/") or len(command) < 2 or " " in command:
        raise UsageError("--command", f"a slash command starts with / and has no spaces: {command!r}")
    if not socket_mode and not (base_url and base_url.startswith("https://")):
        raise UsageError("--url", "ingest's public https:// address is needed (or --socket-mode)")
    if oauth and not (base_url and base_url.startswith("https://")):
        raise UsageError("--url", "the OAuth redirect URL is under ingest's public https:// address")
    root = (base_url or "").rstrip("/")
    oauth_config: dict[str, Any] = {"scopes": {"bot": list(BOT_SCOPES)}}
    if oauth:
        oauth_config = {"redirect_urls": [f"{root}/slack/oauth_redirect"], **oauth_config}

    def url(path: str) -> dict[str, str]:
        return {} if socket_mode else {"url": f"{root}{path}"}

    def request_url(path: str) -> dict[str, str]:
        return {} if socket_mode else {"request_url": f"{root}{path}"}

    slash: dict[str, Any] = {
        "command": command,
        **url("/slack/commands"),
        "description": "Ask Threadline: status, open, follow, on call",
        "usage_hint": USAGE_HINT,
        "should_escape": False,
    }
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Support requests in Slack, tickets in Zendesk",
            "background_color": "#1d3557",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "shortcuts": [
                {"name": label, "type": "message", "callback_id": callback, "description": description}
                for label, callback, description in SHORTCUTS
            ],
            "slash_commands": [slash],
        },
        "oauth_config": oauth_config,
        "settings": {
            "event_subscriptions": {**request_url("/slack/events"), "bot_events": list(BOT_EVENTS)},
            "interactivity": {"is_enabled": True, **request_url("/slack/interactions")},
            "org_deploy_enabled": oauth,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def run_slack_manifest(args: argparse.Namespace, env: Env) -> int:
    document = manifest(
        args.url, name=args.name, command=args.slash_command, socket_mode=args.socket_mode, oauth=args.oauth
    )
    env.out.write(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return 0

"""The Slack client the reporter calls with for a channel: its workspace's bot token.

One deployment may serve several workspaces (README "Several workspaces"): each report goes to
its channel with the bot token of the channel's team, picked by `TokenResolver` (the team's
install, else its organisation's org-wide install, else the single token) exactly as zendesk-sync
picks it for a conversation. The team of a channel is read off the conversation documents the
reporter indexes (`team_id`, from the conversation key `<team>:<channel>:<thread ts>`); the
channels file names channels only. Without installations the single-token client is used for
everything, as before.
"""

from __future__ import annotations

import threading
from typing import Any

from elasticsearch import Elasticsearch
from slack_sdk import WebClient

from threadline_common.installations import TokenResolver, UnknownTeam


class UnknownWorkspace(RuntimeError):
    """A channel whose team has no token: no install, and no single token to fall back on."""


def team_query(channel_id: str) -> dict[str, Any]:
    """The team most of a channel's conversations were in (a channel lives in one workspace)."""
    return {
        "size": 0,
        "query": {"bool": {"filter": [{"term": {"channel_id": channel_id}}, {"exists": {"field": "team_id"}}]}},
        "aggs": {"teams": {"terms": {"field": "team_id", "size": 1}}},
    }


def team_from(aggregations: dict[str, Any]) -> str | None:
    buckets = aggregations.get("teams", {}).get("buckets") or []
    return str(buckets[0]["key"]) if buckets else None


class SlackClients:
    def __init__(self, tokens: TokenResolver, base_url: str | None = None) -> None:
        self.tokens = tokens
        self.base_url = base_url or WebClient.BASE_URL
        self._clients: dict[str, WebClient] = {}
        self._teams: dict[str, str] = {}  # channel -> team, once known (it does not change)
        self._lock = threading.Lock()

    @classmethod
    def single(cls, client: WebClient) -> SlackClients:
        """The clients of a single-token setup (the client given is used for every channel)."""
        clients = cls(TokenResolver(client.token), client.base_url)
        if client.token:
            clients._clients[client.token] = client
        return clients

    def close(self) -> None:
        if self.tokens.store is not None:
            self.tokens.store.close()

    @property
    def several_workspaces(self) -> bool:
        return self.tokens.several_workspaces

    def team_of(self, es: Elasticsearch, index: str, channel_id: str) -> str | None:
        """The channel's team, from the conversations indexed (None before the first one)."""
        if not self.several_workspaces:
            return None  # one token for everything: no need to know
        with self._lock:
            known = self._teams.get(channel_id)
        if known is not None:
            return known
        found = es.search(index=index, body=team_query(channel_id), ignore_unavailable=True)
        team = team_from(found.get("aggregations") or {})
        if team is not None:
            with self._lock:
                self._teams[channel_id] = team
        return team

    def for_team(self, team_id: str | None, channel_id: str) -> WebClient:
        if self.several_workspaces:
            self.tokens.wait_ready()
        try:
            token = self.tokens.token_for(team_id)
        except UnknownTeam as exc:
            where = f"team {team_id}" if team_id else "an unknown team (no conversation of it indexed yet)"
            raise UnknownWorkspace(
                f"no bot token for channel {channel_id} of {where}: install the app there (/slack/install) "
                "or set THREADLINE_REPORTER_SLACK_BOT_TOKEN"
            ) from exc
        with self._lock:
            client = self._clients.get(token)
            if client is None:
                client = self._clients[token] = WebClient(token=token, base_url=self.base_url)
            return client

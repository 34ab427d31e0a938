"""The user-group refresher with several workspaces: a group of the second workspace (T2) is
read with T2's bot token (installations in the real installations topic); the sandbox, as
Slack, answers no_such_subteam to the token of another workspace."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from threadline_testing.installs import install, keep

from threadline_common.installations import token_resolver
from threadline_common.settings import KafkaSettings
from threadline_zendesk_sync.effects import Effects
from threadline_zendesk_sync.teams import TeamWatch

pytestmark = pytest.mark.integration
KEY = Fernet.generate_key().decode()


async def test_each_group_is_read_with_its_own_workspace_s_token(slack, settings, kafka_bootstrap, kafka_topics):
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    slack.add_workspace("T2", "Second Corp")
    t2 = install(slack, "T2", "Second Corp")
    slack.ws.scopes[t2.bot_token] = ["usergroups:read"]
    keep(kafka, kafka_topics.slack_installations, KEY, t2)
    slack.set_usergroup("S2HELPERS", ["U2CARA", "U2DAN"], team_id="T2")
    tokens = token_resolver(slack.bot_token, KEY, kafka, kafka_topics.slack_installations, "zendesk-sync")
    try:
        effects = Effects(settings, tokens=tokens)
        watch = TeamWatch(["S0SUPPORT", "S2HELPERS"], effects.slack.usergroup_members)
        told = {key: json.loads(record)["users"] for key, record in await watch.changes()}
        assert told == {"team:S0SUPPORT": ["U0BOB", "U0SRE"], "team:S2HELPERS": ["U2CARA", "U2DAN"]}
        assert effects.slack.group_tokens["S2HELPERS"] == t2.bot_token
        await effects.close()
    finally:
        assert tokens.store is not None
        tokens.store.close()

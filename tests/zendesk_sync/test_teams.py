"""zendesk-sync keeps the router's view of user groups current: it reads each group the channels
name (usergroups.users.list, through the Slack sandbox) and tells only what changed; a group it
cannot read is said once and left as last heard."""

from __future__ import annotations

import json
import logging

import pytest

from threadline_common.channels import parse_channels
from threadline_zendesk_sync.effects import Effects
from threadline_zendesk_sync.teams import TeamWatch, named_groups

pytestmark = pytest.mark.unit


def test_the_groups_named_by_teams_and_rotations():
    channels = parse_channels(
        {
            "channels": {
                "C1": {"team": ["UALICE", "S0SUPPORT"], "rotation": {"people": "team", "start": "2026-03-02"}},
                "C2": {"rotation": {"people": ["S0ONCALL", "UBOB"], "start": "2026-03-02"}},
                "C3": {},
            }
        }
    )
    assert named_groups(channels) == ["S0ONCALL", "S0SUPPORT"]


async def test_members_are_told_when_they_change_and_a_failure_once(slack, effects: Effects, caplog):
    watch = TeamWatch(["S0SUPPORT", "S0GONE"], effects.slack.usergroup_members)
    with caplog.at_level(logging.WARNING):
        [(key, record)] = await watch.changes()
        assert key == "team:S0SUPPORT"
        told = json.loads(record)
        assert (told["kind"], told["usergroup"], told["users"]) == ("team_members", "S0SUPPORT", ["U0BOB", "U0SRE"])
        assert await watch.changes() == [], "nothing changed: nothing told"
        slack.set_usergroup("S0SUPPORT", ["U0ALICE", "U0BOB"])
        [(_, record)] = await watch.changes()
        assert json.loads(record)["users"] == ["U0ALICE", "U0BOB"]
    failures = [r.getMessage() for r in caplog.records if "S0GONE" in r.getMessage()]
    assert len(failures) == 1 and "no_such_subteam" in failures[0]

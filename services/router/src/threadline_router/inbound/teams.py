"""The members of a Slack user group, on threadline.router.inbound (threadline-source: team),
keyed team:<usergroup>.

zendesk-sync (which calls Slack; the router never does) reads each user group the channels name
(usergroups.users.list) every few minutes and publishes what changed, once. The router's partition
that receives it copies it to every partition of the topic (`fanned`): each partition keeps the
group's row in its own part of the homes table, so every conversation reads the members from the
partition it is decided on (a Faust table is read per partition), after a restart too."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from threadline_common.dlq import PoisonMessage
from threadline_router.inbound.records import json_record

TEAM_SOURCE = "team"


def team_key(usergroup: str) -> str:
    return f"team:{usergroup}"


@dataclass(frozen=True)
class TeamMembers:
    usergroup: str
    users: tuple[str, ...]
    at: str
    fanned: bool = False  # copied to this partition by the router (else: as zendesk-sync sent it)


def team_record(members: TeamMembers) -> bytes:
    return json.dumps(
        {
            "kind": "team_members",
            "usergroup": members.usergroup,
            "users": list(members.users),
            "at": members.at,
            "fanned": members.fanned,
        }
    ).encode()


def decode_team(record: bytes | str | dict[str, Any]) -> TeamMembers:
    data = json_record(record)
    users = data.get("users")
    group = data.get("usergroup")
    if data.get("kind") != "team_members" or not isinstance(group, str) or not group.startswith("S"):
        raise PoisonMessage("not a user group's members")
    if not isinstance(users, list) or not all(isinstance(u, str) for u in users):
        raise PoisonMessage("a user group's members are not a list of user ids")
    return TeamMembers(group, tuple(users), str(data.get("at") or ""), bool(data.get("fanned")))

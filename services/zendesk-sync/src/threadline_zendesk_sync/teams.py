"""The members of the Slack user groups the channels name (a channel's `team`, its `rotation`),
kept current for the router, which never calls Slack: read with usergroups.users.list every few
minutes, and what changed published onto threadline.router.inbound (threadline-source: team,
keyed team:<usergroup>; the router's inbound.teams decodes it and copies it to each partition).

Why here: zendesk-sync already holds the Slack client, its rate budgets and its failure
handling; the router decides only from records. A group that cannot be read (no_such_subteam,
missing_scope) is logged once per reason and left as last heard: its rotation carries on."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable

from threadline_common.channels import ChannelsConfig
from threadline_common.times import now_iso
from threadline_zendesk_sync.plan.failures import PermanentError, TransientError

log = logging.getLogger(__name__)

TEAM_SOURCE = "team"  # the router's threadline-source for these records (inbound.teams)


def named_groups(channels: ChannelsConfig) -> list[str]:
    """Every user group (S...) a channel's team or rotation names."""
    groups: set[str] = set()
    for rules in channels.all_rules():
        people = () if rules.rotation is None or rules.rotation.people == "team" else rules.rotation.people
        groups.update(e for e in (*rules.team, *people) if e.startswith("S"))
    return sorted(groups)


def team_record(usergroup: str, users: Iterable[str], at: str) -> bytes:
    return json.dumps({"kind": "team_members", "usergroup": usergroup, "users": list(users), "at": at}).encode()


class TeamWatch:
    """Reads each group and says what changed since it last said (everything after a start)."""

    def __init__(self, groups: list[str], read: Callable[[str], Awaitable[list[str]]]) -> None:
        self.groups = groups
        self.read = read
        self.told: dict[str, tuple[str, ...]] = {}
        self.failed: dict[str, str] = {}

    async def changes(self) -> list[tuple[str, bytes]]:
        """(key, record) for each group whose members changed."""
        out: list[tuple[str, bytes]] = []
        for group in self.groups:
            try:
                users = tuple(await self.read(group))
            except (PermanentError, TransientError) as exc:
                if self.failed.get(group) != str(exc):
                    self.failed[group] = str(exc)
                    log.warning("user group %s cannot be read (%s): its members stay as last heard", group, exc)
                continue
            self.failed.pop(group, None)
            if self.told.get(group) != users:
                out.append((f"team:{group}", team_record(group, users, now_iso())))
                self.told[group] = users
        return out

"""Who belongs to a channel's team (`team` in the channels YAML: user ids and user groups).

A team member's top-level post is not a customer's request (unless `team_posts: open_ticket`),
and gets no automatic answer. A user group's members are those last heard from Slack
(`Context.groups`, usergroup id -> user ids); a group not heard of yet has nobody in it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from threadline_common.channels import ChannelRules
from threadline_common.rotation import expand


def is_team_member(rules: ChannelRules, user: str | None, groups: Mapping[str, Sequence[str]]) -> bool:
    return user is not None and bool(rules.team) and user in expand(rules.team, groups)


def post_opens_ticket(rules: ChannelRules, user: str | None, groups: Mapping[str, Sequence[str]]) -> bool:
    """Whether `user`'s top-level post may open a ticket by itself (an explicit open, by emoji
    or /support open, always may)."""
    return rules.team_posts == "open_ticket" or not is_team_member(rules, user, groups)

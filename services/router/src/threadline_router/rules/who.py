"""Who may act: whether a person is among a channel's `who` setting, and how to say who is."""

from __future__ import annotations

from threadline_common import to_slack
from threadline_common.channels import Who


def may_use(who: Who, user: str | None, requester: str | None, responders: list[str] | tuple[str, ...] = ()) -> bool:
    """Whether `user` is among `who` (a channel's setting) for a message by `requester`."""
    if user is None:
        return False
    if who == "anyone":
        return True
    if who == "requester":
        return user == requester
    if who == "requester_and_responders":
        return user == requester or user in responders
    return user in who


def describe_who(who: Who, requester: str = "requester") -> str:
    """Who a channel's `who` setting lets act, as a sentence part. `requester`: what the asker
    is called (the message's author, when no ticket is open yet)."""
    if who == "anyone":
        return "anyone"
    if who == "requester":
        return f"only the {requester}"
    if who == "requester_and_responders":
        return f"only the {requester} or the people who replied"
    people = [to_slack.mention(u) if to_slack.is_user_id(u) else to_slack.escape(u) for u in who]
    if not people:
        return "nobody"
    listed = people[0] if len(people) == 1 else ", ".join(people[:-1]) + " or " + people[-1]
    return f"only {listed}"

"""People across the bridge: a Slack author as Zendesk will know them, and which Zendesk user
found by search is that person."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Person:
    """A Slack author as Zendesk will see them."""

    slack_user_id: str | None
    name: str
    email: str | None
    is_bot: bool = False

    @property
    def zendesk_external_id(self) -> str | None:
        """Identity of a person Zendesk cannot know by email (Slack Connect guests)."""
        if self.email or self.is_bot or not self.slack_user_id:
            return None
        return f"slack:{self.slack_user_id}"


def person_from_slack(
    slack_user_id: str | None,
    user: Mapping[str, Any] | None,
    name: str | None = None,
    email: str | None = None,
) -> Person:
    """`user` is a users.info `user` object (None when Slack would not say); `name` and `email`
    are what the router already knew and win over it."""
    user = user or {}
    profile = user.get("profile") or {}
    is_bot = bool(user.get("is_bot")) or bool(slack_user_id and slack_user_id.startswith("B"))
    found_name = (
        profile.get("real_name") or user.get("real_name") or profile.get("display_name") or user.get("name") or None
    )
    # Bots have no mailbox; Slack Connect guests usually share none.
    found_email = None if is_bot else profile.get("email")
    return Person(
        slack_user_id,
        str(name or found_name or slack_user_id or "Someone in Slack"),
        email or found_email or None,
        is_bot,
    )


def same_user(user: Mapping[str, Any], email: str | None, external_id: str) -> bool:
    """Whether a Zendesk user found by search is this person (search also matches parts)."""
    if email:
        return str(user.get("email") or "").lower() == email.lower()
    return user.get("external_id") == external_id


def is_agent(user: Mapping[str, Any]) -> bool:
    return str(user.get("role") or "") in ("agent", "admin")


def photo_url(user: Mapping[str, Any] | None) -> str | None:
    photo = (user or {}).get("photo")
    if isinstance(photo, Mapping):
        thumbs = photo.get("thumbnails") or []
        url = photo.get("content_url") or (thumbs[0].get("content_url") if thumbs else None)
        return str(url) if url else None
    return None

"""Channel routing configuration: which Slack channels Threadline serves and how.

One YAML file (THREADLINE_CHANNELS_FILE; the Helm chart mounts it from values), validated at
start with errors that name the channel and field. Changing routing needs no code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_RESOLVE_WORDS = ("resolve", "resolved", "solved", "close", "done")
DEFAULT_RESOLVE_REACTIONS = ("white_check_mark", "heavy_check_mark", "ballot_box_with_check")


class ChannelConfigError(ValueError):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ZendeskRouting(_Strict):
    group_id: int | None = None
    brand_id: int | None = None
    ticket_form_id: int | None = None
    tags: tuple[str, ...] = ("slack",)
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    custom_fields: dict[int, str] = Field(default_factory=dict)


class ChannelRules(_Strict):
    """Per-channel behaviour. Every field falls back to `defaults`."""

    name: str = ""
    zendesk: ZendeskRouting = ZendeskRouting()
    # Words that, alone in a thread reply, solve the ticket.
    resolve_words: tuple[str, ...] = DEFAULT_RESOLVE_WORDS
    resolve_reactions: tuple[str, ...] = DEFAULT_RESOLVE_REACTIONS
    # Who may solve from Slack: "anyone", "requester_and_responders", or explicit user ids.
    resolvers: Literal["anyone", "requester_and_responders"] | tuple[str, ...] = "anyone"
    # A reply in the thread of a closed ticket: open a follow-up ticket, or only say it is closed.
    on_closed_reply: Literal["followup", "notice"] = "followup"
    # Only messages that get this reaction become tickets (None: every top-level message does).
    ticket_reaction: str | None = None


class ChannelsConfig(_Strict):
    defaults: ChannelRules = ChannelRules()
    channels: dict[str, ChannelRules] = Field(default_factory=dict)
    # Inbound email tickets in these Zendesk groups open a thread in the given channel.
    email_groups: dict[int, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _apply_defaults(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        defaults = data.get("defaults") or {}
        channels = data.get("channels") or {}
        if not isinstance(channels, dict):
            raise ValueError("channels must be a mapping of channel id -> rules")
        merged = {}
        for channel_id, rules in channels.items():
            rules = rules or {}
            if not isinstance(rules, dict):
                raise ValueError(f"channels.{channel_id} must be a mapping")
            zendesk = {**(defaults.get("zendesk") or {}), **(rules.get("zendesk") or {})}
            merged[channel_id] = {**defaults, **rules, "zendesk": zendesk}
        return {**data, "channels": merged}

    @model_validator(mode="after")
    def _email_targets_are_channels(self) -> ChannelsConfig:
        for group, channel in self.email_groups.items():
            if channel not in self.channels:
                raise ValueError(f"email_groups.{group} points at {channel!r}, which is not under channels")
        return self

    def rules_for(self, channel_id: str) -> ChannelRules | None:
        return self.channels.get(channel_id)

    def is_monitored(self, channel_id: str) -> bool:
        return channel_id in self.channels


def parse_channels(data: object, source: str = "<config>") -> ChannelsConfig:
    try:
        return ChannelsConfig.model_validate(data or {})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors())
        raise ChannelConfigError(f"{source}: {problems}") from exc


def load_channels(path: str | Path) -> ChannelsConfig:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise ChannelConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ChannelConfigError(f"{path}: not valid YAML: {exc}") from exc
    return parse_channels(data, str(path))

"""Channel routing configuration: which Slack channels Threadline serves and how.

One YAML file (THREADLINE_CHANNELS_FILE; the Helm chart mounts it from values), validated at
start with errors that name the channel and field. Changing routing needs no code.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import zoneinfo
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

DEFAULT_RESOLVE_WORDS = ("resolve", "resolved", "solved", "close", "done")
DEFAULT_RESOLVE_REACTIONS = ("white_check_mark", "heavy_check_mark", "ballot_box_with_check")


class ChannelConfigError(ValueError):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


FORM_METADATA_LIMIT = 2700


class FormField(_Strict):
    """One custom field of the channel's ticket form modal (shortcut "Open a support ticket",
    `/support open`): the Zendesk custom field `id`, the `label` people read, what it holds
    (`text`, a `number`, or one of `options` for `select`), and whether it must be filled in."""

    id: int = Field(gt=0)
    label: str = Field(min_length=1, max_length=48)  # a Slack input label is at most 2000; keep it short
    kind: Literal["text", "number", "select"] = "text"
    options: tuple[Annotated[str, StringConstraints(min_length=1, max_length=75)], ...] = ()
    required: bool = False

    @model_validator(mode="after")
    def _options_for_select(self) -> FormField:
        if self.kind == "select" and not self.options:
            raise ValueError(f"form field {self.id} is a select without options")
        if self.kind != "select" and self.options:
            raise ValueError(f"form field {self.id} has options but is a {self.kind}")
        return self


class ZendeskRouting(_Strict):
    group_id: int | None = None
    brand_id: int | None = None
    ticket_form_id: int | None = None
    tags: tuple[str, ...] = ("slack",)
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    custom_fields: dict[int, str] = Field(default_factory=dict)
    # The custom fields the ticket form modal asks for, in order (subject, description, priority
    # and type are always asked). E.g. `form: [{id: 360001, label: Region, kind: select,
    # options: [emea, amer], required: true}]`.
    form: tuple[FormField, ...] = Field(default=(), max_length=20)

    @model_validator(mode="after")
    def _form_fits_a_modal(self) -> ZendeskRouting:
        # The modal carries the form in its private_metadata, which Slack caps at 3000 characters
        # (with the conversation, channel, message and requester besides).
        size = len(json.dumps([f.model_dump(mode="json") for f in self.form], separators=(",", ":")))
        if size > FORM_METADATA_LIMIT:
            raise ValueError(f"form is too large for a Slack modal ({size} > {FORM_METADATA_LIMIT} characters)")
        return self


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BusinessHours(_Strict):
    """When the team answers, in the channel's timezone: durations "in business hours" count only these."""

    days: tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...] = ("mon", "tue", "wed", "thu", "fri")
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(17, 0)

    @model_validator(mode="after")
    def _start_before_end(self) -> BusinessHours:
        if self.start >= self.end:
            raise ValueError(f"business_hours.start ({self.start}) must be before end ({self.end})")
        return self

    @property
    def weekdays(self) -> frozenset[int]:
        """The days as datetime.weekday() numbers (Monday is 0)."""
        return frozenset(WEEKDAYS.index(d) for d in self.days)


# Who may use an emoji action: anyone, the requester (author of the message), the requester and
# the people who replied in the thread, or a list of Slack user ids.
Who = (
    Literal["anyone", "requester", "requester_and_responders"]
    | tuple[Annotated[str, StringConstraints(pattern=r"^[UW][A-Z0-9]{2,}$")], ...]
)
EmojiName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_+'-]+$")]


class EmojiAction(_Strict):
    """Reactions (emoji names without colons) that do one thing, and who may use them."""

    names: tuple[EmojiName, ...] = Field(min_length=1)
    who: Who = "anyone"


class EmojiActions(_Strict):
    # On a message that is not a ticket yet: open one (what `auto_open: false` channels use).
    open: EmojiAction | None = None
    # On the opening message: set the ticket's priority to urgent.
    urgent: EmojiAction | None = None
    # On the opening message: solve the ticket (default: resolve_reactions and resolvers).
    resolve: EmojiAction | None = None


class OnCall(_Strict):
    """Who is on call, from PagerDuty: one escalation policy or one schedule."""

    escalation_policy_id: str | None = None
    schedule_id: str | None = None
    # Also assign the ticket to the Zendesk agent with the primary's email, when there is one.
    assign: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> OnCall:
        if (self.escalation_policy_id is None) == (self.schedule_id is None):
            raise ValueError("set exactly one of escalation_policy_id and schedule_id")
        return self


def _check_placeholders(template: str, allowed: tuple[str, ...]) -> str:
    try:
        template.format(**{name: "" for name in allowed})
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"unknown placeholder or stray brace ({exc}); allowed: {', '.join(allowed)}") from exc
    return template


class OutOfHours(_Strict):
    """Outside business hours, a new request hears when someone will answer."""

    message: str = ":crescent_moon: Thanks, we have your request. The team is away right now and will answer {opens}."

    @field_validator("message")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        return _check_placeholders(value, ("opens",))


class Reminders(_Strict):
    """A conversation waiting on the support side this long reminds the on-call person, once per
    period, at most `max_reminders` times while it waits."""

    after_minutes: float = Field(gt=0)
    max_reminders: int = Field(default=3, ge=1)


SlackUserId = Annotated[str, StringConstraints(pattern=r"^[UW][A-Z0-9]{2,}$")]
# A Slack user id (U..., W...) or a user group id ("subteam", S...: its members come from
# usergroups.users.list). One pattern, so a bad entry gets one error line.
TeamEntry = Annotated[str, StringConstraints(pattern=r"^[UWS][A-Z0-9]{2,}$")]


class Override(_Strict):
    """`person` is the fireman from `from` to `to` (dates in the rotation's timezone, both
    included; each day counted from the hand-over time, like a shift): holidays, swaps."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: dt.date = Field(alias="from")
    to: dt.date
    person: SlackUserId

    @model_validator(mode="after")
    def _in_order(self) -> Override:
        if self.to < self.from_:
            raise ValueError(f"to ({self.to}) is before from ({self.from_})")
        return self


class Rotation(_Strict):
    """The rotating fireman: one person in charge per period, in turn (threadline_common.rotation).
    `people`: user ids and user groups (S...) in turn, or "team" for the channel's team."""

    people: Literal["team"] | tuple[TeamEntry, ...] = Field(min_length=1)
    period: Literal["daily", "weekly", "monthly"] = "weekly"
    # The first period's first day (a date), or its first moment (a local datetime, no offset).
    start: dt.datetime | dt.date
    timezone: str = "UTC"
    # The local time periods (and overrides' days) begin; from `start` when it is a datetime.
    handover_time: dt.time | None = None
    overrides: tuple[Override, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return _known_zone(value)

    @field_validator("start", mode="before")
    @classmethod
    def _date_or_datetime(cls, value: object) -> object:
        # pydantic would read "2026-03-02" as midnight; a date means "at handover_time".
        if isinstance(value, str) and len(value.strip()) == 10:
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                return value  # the model says what it must be
        return value

    @field_validator("start")
    @classmethod
    def _local_start(cls, value: dt.datetime | dt.date) -> dt.datetime | dt.date:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            raise ValueError("start is a local time in the rotation's timezone: write it without an offset")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Rotation:
        if isinstance(self.start, dt.datetime) and self.handover_time not in (None, self.start.time()):
            raise ValueError(f"start's time ({self.start.time()}) differs from handover_time ({self.handover_time})")
        spans = sorted(self.overrides, key=lambda o: o.from_)
        for before, after in itertools.pairwise(spans):
            if after.from_ <= before.to:
                raise ValueError(f"overrides {before.from_}..{before.to} and {after.from_}..{after.to} overlap")
        return self

    @property
    def start_date(self) -> dt.date:
        return self.start.date() if isinstance(self.start, dt.datetime) else self.start

    @property
    def shift_time(self) -> dt.time:
        """When, local time, a period (and an override's day) begins."""
        if isinstance(self.start, dt.datetime):
            return self.start.time()
        return self.handover_time or DEFAULT_HANDOVER_TIME


DEFAULT_HANDOVER_TIME = dt.time(9, 0)


def _known_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {value!r} (use an IANA name such as Europe/Paris)") from exc
    return value


RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
ChannelId = Annotated[str, StringConstraints(pattern=r"^[CGD][A-Z0-9]+$")]


class AnswerRule(_Strict):
    """An automatic answer: a question whose text matches `keywords` (whole words or phrases,
    any case) or `regex` hears `answer` (mrkdwn) in its thread. `first_message_only` (the
    default): only a thread's top-level question; `channels`: only there (useful in defaults)."""

    id: RuleId  # in reports and the ticket's tags (threadline_answer_<id>)
    keywords: tuple[Annotated[str, StringConstraints(min_length=1, max_length=100)], ...] = ()
    regex: str | None = None
    answer: str = Field(min_length=1, max_length=2900)  # a section's text is at most 3000
    first_message_only: bool = True
    channels: tuple[ChannelId, ...] = ()

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc})") from exc
        return value

    @model_validator(mode="after")
    def _one_matcher(self) -> AnswerRule:
        if bool(self.keywords) == (self.regex is not None):
            raise ValueError(f"answer rule {self.id!r}: set exactly one of keywords and regex")
        return self


class HelpCenter(_Strict):
    """Zendesk Guide's article search for the question, up to three links."""

    locale: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[a-z]{2,4})?$")


class Answers(_Strict):
    """What a new question is offered before a person answers: the matching rules' answers,
    solved conversations of the channel that look alike, Help Center articles; with the
    buttons "This solved it" and "I still need help" (threadline_common.answers)."""

    rules: tuple[AnswerRule, ...] = ()
    similar_solved: bool = False
    help_center: HelpCenter | None = None

    @model_validator(mode="after")
    def _unique_ids(self) -> Answers:
        ids = [r.id for r in self.rules]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"answer rule ids must be unique: {', '.join(twice)} used more than once")
        return self

    @property
    def searches(self) -> bool:
        return self.similar_solved or self.help_center is not None


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
    # Reporting: the channel's timezone (IANA name), its business hours, and the time within which
    # a first response is expected, counted in business hours.
    timezone: str = "UTC"
    business_hours: BusinessHours = BusinessHours()
    response_target_minutes: int = Field(default=60, gt=0)
    # Where the daily and weekly reports of this channel go (None: the channel itself; "": no reports).
    report_channel: str | None = None
    # Whether every top-level message opens a ticket (None: unless ticket_reaction is set). With
    # false, only the `emoji.open` reaction (or ticket_reaction) opens one.
    auto_open: bool | None = None
    emoji: EmojiActions = EmojiActions()
    on_call: OnCall | None = None
    # Set (even to {}) to answer requests made outside business_hours with when the team is back.
    out_of_hours: OutOfHours | None = None
    reminders: Reminders | None = None
    # Shown only to people who join the channel (ephemeral); {user} and {channel} are filled in.
    welcome_message: str | None = None
    # The channel's own people (user ids, user groups S...): their top-level posts are not
    # customers' requests (unless team_posts is open_ticket), and get no automatic answer.
    team: tuple[TeamEntry, ...] = ()
    team_posts: Literal["ignore", "open_ticket"] = "ignore"
    # The rotating fireman: named on new requests and pinged by reminders when there is no
    # on_call (PagerDuty wins), answers `/support oncall`, announced in the channel at hand-over.
    rotation: Rotation | None = None
    # Automatic answers to new questions (rules, similar solved conversations, Help Center).
    answers: Answers | None = None

    @field_validator("welcome_message")
    @classmethod
    def _welcome_placeholders(cls, value: str | None) -> str | None:
        return None if value is None else _check_placeholders(value, ("user", "channel"))

    @model_validator(mode="after")
    def _something_opens_tickets(self) -> ChannelRules:
        if not self.opens_on_message and self.open_emoji is None:
            raise ValueError("auto_open is false but no emoji.open (or ticket_reaction) is set: nothing opens a ticket")
        return self

    @property
    def opens_on_message(self) -> bool:
        return self.auto_open if self.auto_open is not None else self.ticket_reaction is None

    @property
    def open_emoji(self) -> EmojiAction | None:
        if self.emoji.open is not None:
            return self.emoji.open
        return EmojiAction(names=(self.ticket_reaction,)) if self.ticket_reaction else None

    @property
    def resolve_emoji(self) -> EmojiAction:
        return self.emoji.resolve or EmojiAction.model_construct(names=self.resolve_reactions, who=self.resolvers)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return _known_zone(value)

    @model_validator(mode="after")
    def _rotation_of_the_team(self) -> ChannelRules:
        if self.rotation is not None and self.rotation.people == "team" and not self.team:
            raise ValueError("rotation.people is team but the channel names no team")
        return self


# What a direct message does not have: nobody joins a DM, a DM's request is its first message
# (there is no one else to put an emoji on it), and no report is posted about private requests.
NOT_FOR_DIRECT_MESSAGES = ("welcome_message", "ticket_reaction", "auto_open", "report_channel")
DM_TAGS = ("slack", "slack-dm", "private")


class DirectMessages(ChannelRules):
    """Private requests: a direct message to the app (a `D...` channel) opens a ticket, as a
    top-level message in a channel does; replies in its thread are comments. Off unless
    `enabled`. Every rule of a channel applies (Zendesk routing, business hours, reminders,
    resolve words and emoji), taken from `defaults` unless set here; what a DM has no use for
    (NOT_FOR_DIRECT_MESSAGES, emoji.open) is refused."""

    name: str = "direct message"
    enabled: bool = False

    @model_validator(mode="after")
    def _something_opens_tickets(self) -> DirectMessages:  # replaces the channel check: a DM always opens
        for name in NOT_FOR_DIRECT_MESSAGES:
            if name in self.model_fields_set:  # never inherited from defaults: set here
                raise ValueError(f"{name} does not apply to direct messages")
        if self.emoji.open is not None:
            raise ValueError("emoji.open does not apply to direct messages: every direct message is a request")
        return self


def is_direct_message(channel_id: str) -> bool:
    """A Slack direct message between one person and the app: Slack's `im` ids start with D."""
    return channel_id.startswith("D")


class ChannelsConfig(_Strict):
    defaults: ChannelRules = ChannelRules()
    channels: dict[str, ChannelRules] = Field(default_factory=dict)
    # Inbound email tickets in these Zendesk groups open a thread in the given channel.
    email_groups: dict[int, str] = Field(default_factory=dict)
    # Private requests by direct message to the app (off by default).
    direct_messages: DirectMessages = DirectMessages()

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
            emoji = {**(defaults.get("emoji") or {}), **(rules.get("emoji") or {})}
            merged[channel_id] = {**defaults, **rules, "zendesk": zendesk, "emoji": emoji}
        return {**data, "channels": merged, "direct_messages": _direct_message_rules(defaults, data)}

    @model_validator(mode="after")
    def _email_targets_are_channels(self) -> ChannelsConfig:
        for group, channel in self.email_groups.items():
            if channel not in self.channels:
                raise ValueError(f"email_groups.{group} points at {channel!r}, which is not under channels")
        return self

    def rules_for(self, channel_id: str) -> ChannelRules | None:
        """The rules of a served channel; for a direct message (D...), the direct_messages rules
        when they are enabled; None for anything Threadline does not serve."""
        rules = self.channels.get(channel_id)
        if rules is None and self.direct_messages.enabled and is_direct_message(channel_id):
            return self.direct_messages
        return rules

    def all_rules(self) -> list[ChannelRules]:
        """Every set of rules in use: each channel's, and the direct messages' when enabled."""
        return [*self.channels.values(), *([self.direct_messages] if self.direct_messages.enabled else [])]


def _direct_message_rules(defaults: dict[str, object], data: dict[str, object]) -> object:
    """`direct_messages` over `defaults`, less what a DM has no use for (never inherited; an
    error when set in `direct_messages` itself, see DirectMessages). Tags default to DM_TAGS, not the defaults' tags."""
    rules = data.get("direct_messages")
    if rules is None:
        rules = {}
    if not isinstance(rules, dict):
        return rules  # the model says what it must be
    inherited = {k: v for k, v in defaults.items() if k not in NOT_FOR_DIRECT_MESSAGES and k != "name"}
    default_zendesk, dm_zendesk = defaults.get("zendesk") or {}, rules.get("zendesk") or {}
    default_emoji, dm_emoji = defaults.get("emoji") or {}, rules.get("emoji") or {}
    if not all(isinstance(part, dict) for part in (default_zendesk, dm_zendesk, default_emoji, dm_emoji)):
        return {**inherited, **rules}  # the model says what each must be
    assert isinstance(default_zendesk, dict) and isinstance(dm_zendesk, dict)
    assert isinstance(default_emoji, dict) and isinstance(dm_emoji, dict)
    zendesk = {**default_zendesk, "tags": list(DM_TAGS), **dm_zendesk}
    emoji = {**{k: v for k, v in default_emoji.items() if k != "open"}, **dm_emoji}
    return {**inherited, **rules, "zendesk": zendesk, "emoji": emoji}


def _path(loc: tuple[int | str, ...]) -> str:
    # Union branches appear in the location as type names ("literal[...]"): not part of the key path.
    # A list's item reads as in YAML paths people write: rules[2].regex.
    path = ""
    for p in loc:
        if isinstance(p, int):
            path += f"[{p}]"
        elif "[" not in p:
            path += f".{p}" if path else p
    return path or "(top)"


def parse_channels(data: object, source: str = "<config>") -> ChannelsConfig:
    try:
        return ChannelsConfig.model_validate(data or {})
    except ValidationError as exc:
        problems = "; ".join(f"{_path(err['loc'])}: {err['msg']}" for err in exc.errors())
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

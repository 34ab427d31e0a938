"""Following tickets: who follows which ticket, what they choose to hear, and the direct messages
a ticket's updates become. Pure, like every rule: a follows row and an event in, a decision out.

The follows table (threadline.follows) holds two kinds of row, each decided in its own order:

- `ticket:<id>`: the ticket's followers. `/support follow 42` (or the Follow button) asks
  zendesk-sync to check that the ticket exists and that the person may see it; its
  `follower_checked` result stores them here. The ticket's comments and status changes reach
  this row too (the Zendesk forwarder sends them under both keys), and each follower whose
  choices match gets a DM with buttons: open the ticket, show its latest comment, unfollow.
  Internal notes never; a follower who is not in the channel of the ticket's thread gets no text
  (who, when and the link only).
- `person:<team>:<user>`: the tickets one person follows (`/support following`). The ticket's
  row tells it with a `FollowNote` on threadline.router.inbound, as the reminder timer does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from msgspec import UNSET
from msgspec.structs import replace
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, MarkdownTextObject, SectionBlock

from threadline_common import to_slack
from threadline_common.models import Activity, CommandV4
from threadline_common.text import subject_line
from threadline_common.times import parse_time
from threadline_router.follow_rows import (
    FOLLOW_SEEN_LIMIT,
    FollowChoices,
    FollowedTicket,
    Follower,
    FollowRow,
    PersonFollows,
    TicketFollowers,
    new_person_row,
    new_ticket_row,
)
from threadline_router.inbound import (
    BlockAction,
    FollowNote,
    Inbound,
    SlashCommand,
    SyncResult,
    ZendeskTicketEvent,
    person_key,
    ticket_key,
)
from threadline_router.inbound.interactions import thread_of, ticket_of
from threadline_router.rules.commands import answer, check_follower, describe_ticket, direct_message
from threadline_router.rules.decision import Context

What = Literal["agent_replies", "requester_comments", "status_changes"]
EVERYTHING: tuple[What, ...] = ("agent_replies", "requester_comments", "status_changes")
DEFAULT_CHOICES = FollowChoices(what=list(EVERYTHING), detail="full", chars=None)
# The words `/support follow 42 ...` understands after the ticket, and what each chooses.
WHAT_WORDS: dict[str, What] = {
    "replies": "agent_replies",
    "reply": "agent_replies",
    "agents": "agent_replies",
    "agent": "agent_replies",
    "requester": "requester_comments",
    "comments": "requester_comments",
    "status": "status_changes",
    "statuses": "status_changes",
}
MAX_CHARS = 3000
FOLLOW_SYNTAX = (
    "`/support follow <ticket number | thread link> [replies] [requester] [status] [full | first <N> | summary]`"
)
SECTION_LIMIT = 2900  # a section block's text holds 3000 characters


@dataclass
class FollowDecision:
    """What a follows row decides: its new state (None: unchanged or absent), the commands for
    zendesk-sync, and notes for other rows of the router."""

    row: FollowRow | None
    commands: list[CommandV4] = field(default_factory=list)
    notes: list[FollowNote] = field(default_factory=list)
    activity: list[Activity] = field(default_factory=list)
    reason: str = ""
    # command id -> the workspace its Slack calls are for, where the row's key names none (a
    # ticket's DM to each follower: their own workspace's token opens it).
    teams: dict[str, str] = field(default_factory=dict)


def nothing(row: FollowRow | None, reason: str) -> FollowDecision:
    return FollowDecision(row, reason=reason)


# --- the choices ---------------------------------------------------------------------------------


def parse_choices(args: Sequence[str]) -> FollowChoices | str:
    """The choices after `follow <ticket>`: which updates (replies, requester, status; all when
    none is named) and how much text (full, first <N>, summary). A string says what is wrong."""
    words = list(args)
    for i, word in enumerate(words):  # the ticket or thread the command names is not a choice
        if ticket_of(word) is not None or thread_of("-", word) is not None:
            del words[i]
            break
    what: list[What] = []
    detail: Literal["full", "first", "summary"] = "full"
    chars: int | None = None
    i = 0
    while i < len(words):
        word = words[i].lower().strip(",;")
        if word in WHAT_WORDS:
            if WHAT_WORDS[word] not in what:
                what.append(WHAT_WORDS[word])
        elif word in ("all", "everything"):
            what = list(EVERYTHING)
        elif word in ("full", "summary"):
            detail = cast(Literal["full", "summary"], word)
        elif word == "first":
            count = words[i + 1] if i + 1 < len(words) else ""
            if not count.isdigit() or not 1 <= int(count) <= MAX_CHARS:
                return f"`first` takes a number of characters, from 1 to {MAX_CHARS} (e.g. `first 200`)."
            detail, chars = "first", int(count)
            i += 1
        elif word:
            return f"`{to_slack.escape(word[:40])}` is not something to follow. Use {FOLLOW_SYNTAX}."
        i += 1
    return FollowChoices(what=what or list(EVERYTHING), detail=detail, chars=chars)


def describe_choices(choices: FollowChoices, sees_thread: bool = True) -> str:
    names = {"agent_replies": "agents' replies", "requester_comments": "the requester's comments",
             "status_changes": "status changes"}  # fmt: skip
    listed = [names[w] for w in EVERYTHING if w in choices.what]
    what = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
    if choices.what == ["status_changes"]:
        return what  # no comment text to choose the length of
    if choices.detail == "summary" or not sees_thread:
        how = "as summaries (who, when and the link; no text)"
    elif choices.detail == "first":
        how = f"with the first {choices.chars} characters of each comment"
    else:
        how = "with each comment in full"
    return f"{what}, {how}"


def _choices(value: Any) -> FollowChoices:
    """The choices a result or a command carries, as the follows row's struct."""
    chars = value.chars if value.chars is not UNSET else None
    return FollowChoices(what=list(value.what), detail=value.detail, chars=chars)


# --- the rows ------------------------------------------------------------------------------------


def on_follow_row(event: Inbound, row: FollowRow | None, key: str, ctx: Context) -> FollowDecision | None:
    """What an event means for a follows row; None when the row has nothing to say about it (the
    caller then decides it as it would any event of no conversation)."""
    kind, _, rest = key.partition(":")
    if kind == "ticket":
        if not rest.isdigit() or int(rest) < 1:
            if isinstance(event, SlashCommand | BlockAction):  # `/support status 0`: said, not dropped
                text = f"`{to_slack.escape(rest[:20])}` is not a ticket number."
                return FollowDecision(None, [answer(key, f"respond:{event.event_id}", event.user,
                                                    event.response_url, text, "error")])  # fmt: skip
            return nothing(None, f"not a ticket row: {key[:80]!r}")
        ticket_row = row if isinstance(row, TicketFollowers) else None
        return _on_ticket(event, ticket_row, int(rest), key, ctx)
    team, _, user = rest.partition(":")
    if kind == "person" and team and user:
        person_row = row if isinstance(row, PersonFollows) else None
        return _on_person(event, person_row, team, user, key, ctx)
    return nothing(None, f"not a follows row: {key[:80]!r}")


def _seen(row: TicketFollowers | PersonFollows, seen_key: str) -> Any:
    return replace(row, seen=[*row.seen, seen_key][-FOLLOW_SEEN_LIMIT:])


def _find(row: TicketFollowers | None, team_id: str, user: str) -> Follower | None:
    if row is None:
        return None
    return next((f for f in row.followers if f.team_id == team_id and f.user == user), None)


def _on_ticket(
    event: Inbound, row: TicketFollowers | None, ticket_id: int, key: str, ctx: Context
) -> FollowDecision | None:
    match event:
        case SlashCommand(verb="status"):
            command = describe_ticket(
                key, f"status:{key}:{event.event_id}", event.user, event.response_url, ticket_id, "status"
            )
            return FollowDecision(None, [command])
        case SlashCommand(verb="follow"):
            choices = parse_choices(event.args)
            if isinstance(choices, str):
                return FollowDecision(None, [answer(key, f"respond:{event.event_id}", event.user,
                                                    event.response_url, choices, "error")])  # fmt: skip
            return _follow(event, row, ticket_id, key, choices, ctx)
        case SlashCommand(verb="unfollow"):
            return _unfollow(row, ticket_id, key, event.team_id, event.user, event.response_url,
                             f"slash:{event.event_id}", ctx)  # fmt: skip
        case BlockAction(action_id="threadline.follow"):
            return _follow(event, row, ticket_id, key, DEFAULT_CHOICES, ctx)
        case BlockAction(action_id="threadline.unfollow"):
            return _unfollow(row, ticket_id, key, event.team_id, event.user, event.response_url,
                             f"button:{event.event_id}", ctx)  # fmt: skip
        case BlockAction(action_id="threadline.latest_comment"):
            return _latest_comment(event, row, ticket_id, key)
        case FollowNote(kind="unfollow"):
            return _unfollow(row, ticket_id, key, event.team_id, event.user, event.response_url,
                             f"note:{event.note_id}", ctx)  # fmt: skip
        case SyncResult(kind="follower_checked"):
            return _store_follower(event, row, ticket_id, ctx)
        case SyncResult():
            return nothing(row, f"result {event.kind} for a ticket's followers")
        case ZendeskTicketEvent():
            return _notify(event, row, ticket_id, key, ctx)
    return None


def _follow(
    event: SlashCommand | BlockAction,
    row: TicketFollowers | None,
    ticket_id: int,
    key: str,
    choices: FollowChoices,
    ctx: Context,
) -> FollowDecision:
    """A known follower changes their choices here; anyone else is checked by zendesk-sync first."""
    known = _find(row, event.team_id, event.user)
    if row is not None and known is not None:
        seen_key = f"follow:{event.event_id}"
        if seen_key in row.seen:
            return nothing(row, "already applied")
        changed = replace(known, choices=choices)
        row = _seen(replace(row, followers=[changed if f is known else f for f in row.followers]), seen_key)
        text = (
            f"You already follow ticket #{ticket_id}; from now on you hear of "
            f"{describe_choices(choices, known.sees_thread)}."
        )
        return FollowDecision(row, [answer(key, f"respond:{event.event_id}", event.user, event.response_url, text)])
    command = check_follower(
        f"follow:{key}:{event.user}:{event.event_id}", event.team_id, event.user, event.response_url or None,
        ticket_id, choices,
    )  # fmt: skip
    return FollowDecision(None, [command])


def _unfollow(
    row: TicketFollowers | None,
    ticket_id: int,
    key: str,
    team_id: str,
    user: str,
    response_url: str | None,
    seen_key: str,
    ctx: Context,
) -> FollowDecision:
    answer_id = f"respond:{seen_key}"
    if row is not None and seen_key in row.seen:
        return nothing(row, "already applied")  # a redelivered unfollow: answered the first time
    known = _find(row, team_id, user)
    if row is None or known is None:
        text = f"You do not follow ticket #{ticket_id}."
        return FollowDecision(row, [answer(key, answer_id, user, response_url, text)])
    row = _seen(replace(row, followers=[f for f in row.followers if f is not known]), seen_key)
    text = f"You no longer follow ticket #{ticket_id}. `/support follow {ticket_id}` follows it again."
    note = FollowNote("unfollowed", f"unfollowed:{seen_key}", team_id, user, ticket_id, ctx.now)
    return FollowDecision(row, [answer(key, answer_id, user, response_url, text)], [note])


def _latest_comment(event: BlockAction, row: TicketFollowers | None, ticket_id: int, key: str) -> FollowDecision:
    known = _find(row, event.team_id, event.user)
    choices = known.choices if known is not None else None
    if known is not None and not known.sees_thread:
        choices = replace(known.choices, detail="summary")
    command_id = f"latest:{key}:{event.event_id}"
    if not event.response_url:
        return nothing(row, "a latest-comment press without a response_url")
    return FollowDecision(
        None, [describe_ticket(key, command_id, event.user, event.response_url, ticket_id, "latest_comment", choices)]
    )


def _store_follower(result: SyncResult, row: TicketFollowers | None, ticket_id: int, ctx: Context) -> FollowDecision:
    checked = result.follower
    if checked is UNSET or checked is None:
        return nothing(row, "follower_checked without a follower")
    seen_key = f"result:{result.command_id}"
    if row is not None and seen_key in row.seen:
        return nothing(row, "already applied")
    row = row or new_ticket_row(ticket_id)
    follower = Follower(
        team_id=checked.team_id,
        user=checked.user,
        choices=_choices(checked.choices),
        sees_thread=checked.sees_thread,
        since=ctx.now,
    )
    others = [f for f in row.followers if (f.team_id, f.user) != (follower.team_id, follower.user)]
    url = result.ticket_url if result.ticket_url not in (UNSET, None) else row.ticket_url
    row = _seen(replace(row, followers=[*others, follower], ticket_url=url), seen_key)
    note = FollowNote(
        "followed", f"followed:{result.command_id}", follower.team_id, follower.user, ticket_id, ctx.now,
        ticket_url=url if isinstance(url, str) else None,
    )  # fmt: skip
    return FollowDecision(row, [], [note])


# --- a ticket's updates, as direct messages --------------------------------------------------------


def _matters_to(event: ZendeskTicketEvent, ctx: Context) -> What | None:
    """Which kind of update the event is for followers; None when no follower hears of it."""
    if event.kind == "comment":
        if not event.comment_public:
            return None  # internal notes never leave Zendesk
        if ctx.zendesk_api_user_id is not None and event.author_id == ctx.zendesk_api_user_id:
            return None  # Threadline's own notes on the ticket
        return "agent_replies" if event.author_is_staff else "requester_comments"
    if event.kind == "status" and event.status and event.status != event.previous_status:
        return "status_changes"
    return None


def _notify(
    event: ZendeskTicketEvent, row: TicketFollowers | None, ticket_id: int, key: str, ctx: Context
) -> FollowDecision:
    if row is None or not row.followers:
        return nothing(row, "nobody follows the ticket")
    what = _matters_to(event, ctx)
    if what is None:
        return nothing(row, "not an update followers hear of")
    seen_key = f"zd:{event.event_id or event.comment_id}"
    if seen_key in row.seen:
        return nothing(row, "already applied")
    commands: list[CommandV4] = []
    teams: dict[str, str] = {}
    url = row.ticket_url if isinstance(row.ticket_url, str) else None
    for follower in row.followers:
        if what not in follower.choices.what:
            continue
        text = update_text(event, follower, ticket_id, url)
        command_id = f"follow-dm:{ticket_id}:{follower.user}:{event.event_id or event.comment_id}"
        blocks = update_blocks(text, ticket_id, url, key)
        commands.append(direct_message(key, command_id, follower.user, text, "follow_update", blocks))
        teams[command_id] = follower.team_id
    return FollowDecision(_seen(row, seen_key), commands, teams=teams)


def _when(occurred_at: str | None) -> str:
    if not occurred_at:
        return ""
    try:
        return " at " + parse_time(occurred_at).strftime("%H:%M UTC on %d %b")
    except ValueError:
        return ""


def excerpt(body: str, choices: FollowChoices) -> str:
    """A comment's text as a follower chose to read it (Slack mrkdwn, escaped)."""
    text = (body or "").strip()
    if choices.detail == "first" and choices.chars and len(text) > choices.chars:
        return to_slack.escape(text[: choices.chars].rstrip()) + "…"
    return to_slack.escape(text[:SECTION_LIMIT])


def update_text(event: ZendeskTicketEvent, follower: Follower, ticket_id: int, url: str | None) -> str:
    where = to_slack.link(url, f"#{ticket_id}") if url else f"#{ticket_id}"
    subject = f" ({to_slack.escape(subject_line(event.subject, 80))})" if event.subject.strip() else ""
    if event.kind == "status":
        was = f" (was {to_slack.escape(event.previous_status)})" if event.previous_status else ""
        status = to_slack.escape(event.status or "")
        return f":arrows_counterclockwise: Ticket {where}{subject} is now *{status}*{was}{_when(event.occurred_at)}."
    who = to_slack.bold(event.author_name) or ("An agent" if event.author_is_staff else "The requester")
    did = "replied" if event.author_is_staff else "commented"
    head = f":speech_balloon: {who} {did} on ticket {where}{subject}{_when(event.occurred_at)}"
    if follower.choices.detail == "summary" or not follower.sees_thread:
        return head + ". _Summary only: the text stays in Zendesk._"
    return head + ":\n" + to_slack.quote_lines(excerpt(event.comment_body, follower.choices))


def update_blocks(text: str, ticket_id: int, url: str | None, key: str) -> list[dict[str, Any]]:
    """The DM's blocks (slack_sdk's Block Kit models): the text, then Open ticket (a link),
    Show latest comment and Unfollow (buttons whose value names the ticket's row)."""
    buttons = []
    if url and to_slack.safe_url(url):
        buttons.append(ButtonElement(text="Open ticket", url=url, action_id="open_ticket"))
    buttons += [
        ButtonElement(text="Show latest comment", action_id="threadline.latest_comment", value=key),
        ButtonElement(text="Unfollow", action_id="threadline.unfollow", value=key, style="danger"),
    ]
    if len(text) > SECTION_LIMIT:
        text = text[:SECTION_LIMIT] + "…"
    return [
        SectionBlock(text=MarkdownTextObject(text=text)).to_dict(),
        ActionsBlock(block_id=f"follow:{ticket_id}", elements=buttons).to_dict(),
    ]


# --- a person's row ----------------------------------------------------------------------------------


def _on_person(
    event: Inbound, row: PersonFollows | None, team: str, user: str, key: str, ctx: Context
) -> FollowDecision | None:
    match event:
        case SlashCommand(verb="following"):
            return FollowDecision(None, [answer(key, f"respond:{event.event_id}", event.user, event.response_url,
                                                following_text(row), "answer")])  # fmt: skip
        case FollowNote(kind="followed" | "unfollowed"):
            seen_key = f"note:{event.note_id}"
            if row is not None and seen_key in row.seen:
                return nothing(row, "already applied")
            row = row or new_person_row(team, user)
            tickets = [t for t in row.tickets if t.ticket_id != event.ticket_id]
            if event.kind == "followed":
                tickets.append(
                    FollowedTicket(ticket_id=event.ticket_id, since=event.at or ctx.now, ticket_url=event.ticket_url)
                )
            return FollowDecision(_seen(replace(row, tickets=tickets[-500:]), seen_key))
    return None


def following_text(row: PersonFollows | None) -> str:
    if row is None or not row.tickets:
        return f"You follow no tickets. {FOLLOW_SYNTAX} follows one: you get a direct message on its updates."
    listed = ", ".join(f"#{t.ticket_id}" for t in sorted(row.tickets, key=lambda t: t.ticket_id))
    return f"You follow {len(row.tickets)} ticket{'s' if len(row.tickets) != 1 else ''}: {listed}. " \
        "`/support unfollow <number>` stops one."  # fmt: skip


__all__ = [
    "DEFAULT_CHOICES",
    "FOLLOW_SYNTAX",
    "FollowDecision",
    "describe_choices",
    "following_text",
    "on_follow_row",
    "parse_choices",
    "person_key",
    "ticket_key",
    "update_text",
]
